"""How late the event loop runs what is due: a task that asks to wake every INTERVAL_S and records
how much later than that it woke (a database call, or any other work, holding the loop)."""

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import Gauge, Histogram

from bot.background import LongRunning

INTERVAL_S = 0.05


class LoopLag(LongRunning):
    task_name = "loop-lag"

    def __init__(
        self,
        histogram: Histogram,
        worst: Gauge,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`clock` (the loop's by default) and `sleep` may be a test's controlled ones."""
        super().__init__()
        self.histogram, self.worst = histogram, worst
        self.clock, self.sleep = clock, sleep
        self._worst = 0.0

    async def run(self) -> None:
        clock = self.clock or asyncio.get_running_loop().time
        while True:
            due = clock() + INTERVAL_S
            await self.sleep(INTERVAL_S)
            lag = max(0.0, clock() - due)
            self.histogram.observe(lag)
            if lag > self._worst:
                self._worst = lag
                self.worst.set(lag)
