"""Tasks a worker runs on their own (a download, a reply): each failure is logged, and stopping
waits for them, up to a deadline."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


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
