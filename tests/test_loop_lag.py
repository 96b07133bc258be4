"""The event loop's lag: a blocking call shows up in the histogram and the worst-lag gauge, and
the service benchmark reads the 99th percentile of a load off the histogram's buckets."""

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Gauge, Histogram

from bot.bench.service import loop_lag
from bot.loop_lag import LoopLag
from bot.metrics import LAG_BUCKETS


class ControlledClock:
    """A clock that moves only when the loop-lag task sleeps: each sleep lasts its interval plus
    the next of `lags` (a call holding the loop), then waits for good once they are used up."""

    def __init__(self, lags: list[float]) -> None:
        self.now, self.lags = 1000.0, list(lags)
        self.used_up = asyncio.Event()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if not self.lags:
            self.used_up.set()
            await asyncio.Event().wait()  # until the task is stopped
        self.now += seconds + self.lags.pop(0)


async def test_a_blocked_loop_is_measured() -> None:
    registry = CollectorRegistry()
    histogram = Histogram("lag", "lag", buckets=LAG_BUCKETS, registry=registry)
    worst = Gauge("worst", "worst", registry=registry)
    clock = ControlledClock([0.001, 0.002, 0.3, 0.001])  # one call held the loop 300 ms
    lag = LoopLag(histogram, worst, clock=clock, sleep=clock.sleep)
    lag.start()
    await clock.used_up.wait()
    await lag.stop()
    assert registry.get_sample_value("worst") == pytest.approx(0.3)
    assert registry.get_sample_value("lag_count") == 4
    over_100ms = registry.get_sample_value("lag_bucket", {"le": "+Inf"}) or 0
    over_100ms -= registry.get_sample_value("lag_bucket", {"le": "0.1"}) or 0
    assert over_100ms == 1  # one tick was late, by the blocking call


def test_the_p99_of_a_load_is_the_bucket_of_its_99th_lag() -> None:
    inf = float("inf")
    before = {0.001: 100.0, 0.01: 100.0, 0.1: 100.0, inf: 100.0}  # the load before this one
    after = {0.001: 150.0, 0.01: 197.0, 0.1: 200.0, inf: 200.0}  # 100 lags: 50, 47, 3 ms-ish

    figures = loop_lag([before], [after], [0.08])
    assert (figures.p99_ms, figures.worst_ms) == (100.0, 80.0)
