"""Tasks that run on their own: those a worker starts (a download, a reply), which stopping waits
for up to a deadline; and the long-lived ones a process starts and stops with itself (the lease's
heartbeat, the history's pruning, the loop's lag). Each failure is logged."""

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class LongRunning:
    """A task of its own for the life of the process: `run` until `stop` cancels it."""

    task_name = "long-running"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.task_name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        raise NotImplementedError


async def sleep_until_set(event: asyncio.Event, timeout: float) -> None:
    """Sleep until `event` is set (after now) or `timeout` seconds have passed."""
    event.clear()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)


class Background:
    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: set[asyncio.Task[None]] = set()

    def run(self, coroutine: Coroutine[Any, Any, None], name: str | None = None) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def __len__(self) -> int:
        return len(self._tasks)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: a task failed", self.name, exc_info=task.exception())

    async def wait(self, deadline: float) -> None:
        """Until every task is done (tasks may start others meanwhile), or cancel what is left
        at `deadline` (the event loop's clock)."""
        loop = asyncio.get_running_loop()
        while pending := {task for task in self._tasks if not task.done()}:
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.warning("%s: stopping, %d task(s) cut short", self.name, len(pending))
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending)
                return
            await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
