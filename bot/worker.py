"""The caption worker: its captioning side (bot/caption_stage.py) and its replying side
(bot/reply_stage.py), the lease that holds its claims (bot/lease.py), and how it wakes up.

The job's status in the database says which step it is at (queued -> running -> captioned ->
replying -> done), so any number of workers, in any number of processes, share the work: each
claims what it takes under a lease, and a dead worker's jobs are taken over once its leases run
out (a worker's start takes nothing from anyone: several workers may share one SQLite file too).
On PostgreSQL a worker wakes up at each new job (LISTEN/NOTIFY); on SQLite it is woken in-process
and polls. The
worker's database calls run in threads, so the event loop (updates, downloads, replies) is not
held up by the database (`captionbot bench` reports the loop's lag).
"""

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot

from bot.background import Background
from bot.caption_stage import CaptionStage
from bot.failures import Failures
from bot.lease import Lease
from bot.metrics import Metrics
from bot.queue import CaptionQueue
from bot.reply_stage import ReplyStage
from bot.settings import Settings
from bot.storage import wakeups
from bot.translation import Translator
from bot.typing_indicator import TypingIndicator
from captioning.captioner import Captioner

log = logging.getLogger(__name__)


class CaptionWorker:
    def __init__(
        self,
        bot: Bot,
        queue: CaptionQueue,
        sessions: sessionmaker[Session],
        captioner: Captioner,
        translator: Translator,
        typing: TypingIndicator,
        settings: Settings,
        metrics: Metrics,
    ) -> None:
        self.queue = queue
        self.settings = settings
        self.lease = Lease(sessions, settings.lease_s, settings.worker_name)
        self.apologies = Background("apologies")
        failures = Failures(
            bot, sessions, settings, metrics, self.lease, self._wake_all, self.apologies
        )
        self.replies = ReplyStage(bot, queue, sessions, self.lease, translator, failures, metrics)
        self.captions = CaptionStage(
            bot,
            queue,
            sessions,
            self.lease,
            captioner,
            typing,
            settings,
            metrics,
            failures,
            self.replies,
        )
        self._listener: asyncio.Task[None] | None = None

    def _wake_all(self) -> None:
        self.queue.wakeup.set()
        self.replies.wakeup.set()

    def start(self) -> None:
        if wakeups.is_postgresql(self.settings.database_url):
            self._listener = asyncio.create_task(
                wakeups.listen(self.settings.database_url, self.queue.wakeup), name="listener"
            )
        self.lease.start()
        self.replies.start()
        self.captions.start()
        log.info("worker %s started", self.lease.name)

    async def stop(self, timeout: float = 20.0) -> None:
        """Finish the photos in hand and the replies on their way (up to `timeout` s); whatever
        is left goes back to the queue for the next worker or the next start."""
        deadline = asyncio.get_running_loop().time() + timeout
        await self.captions.stop(deadline)
        await self.replies.stop(deadline)
        await self.apologies.wait(deadline)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.lease.stop()
        released = self.queue.release(self.lease)
        log.info("worker %s stopped; %d job(s) handed back", self.lease.name, released)
