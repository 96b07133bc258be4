"""How late the event loop runs what is due: a task that asks to wake every INTERVAL_S and records
how much later than that it woke (a database call, or any other work, holding the loop)."""

import asyncio
import contextlib

from prometheus_client import Gauge, Histogram

INTERVAL_S = 0.05


class LoopLag:
    def __init__(self, histogram: Histogram, worst: Gauge) -> None:
        self.histogram, self.worst = histogram, worst
        self._worst = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + INTERVAL_S
            await asyncio.sleep(INTERVAL_S)
            lag = max(0.0, loop.time() - due)
            self.histogram.observe(lag)
            if lag > self._worst:
                self._worst = lag
                self.worst.set(lag)
