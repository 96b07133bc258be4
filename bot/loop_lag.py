"""How late the event loop runs what is due: a task that asks to wake every INTERVAL_S and records
how much later than that it woke (a database call, or any other work, holding the loop)."""

import asyncio

from prometheus_client import Gauge, Histogram

from bot.background import LongRunning

INTERVAL_S = 0.05


class LoopLag(LongRunning):
    task_name = "loop-lag"

    def __init__(self, histogram: Histogram, worst: Gauge) -> None:
        super().__init__()
        self.histogram, self.worst = histogram, worst
        self._worst = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + INTERVAL_S
            await asyncio.sleep(INTERVAL_S)
            lag = max(0.0, loop.time() - due)
            self.histogram.observe(lag)
            if lag > self._worst:
                self._worst = lag
                self.worst.set(lag)
