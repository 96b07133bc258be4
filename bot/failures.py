"""When a job cannot go on as planned: an apology to its user (the file is bad or too big, or the
answer would come too late), a retry later (Telegram failed for a passing reason), or the end of
it (Telegram refused for good). Both stages of the worker use these; their database calls run in
threads, off the event loop."""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import retry
from bot.background import Background
from bot.language_policy import caption_mode, ui_language
from bot.lease import Lease
from bot.metrics import Metrics
from bot.queue import Ticket
from bot.send_budget import captions_first
from bot.settings import Settings
from bot.storage import chats, jobs
from bot.storage.models import CaptionMode, utcnow
from bot.texts import megabytes, t

log = logging.getLogger(__name__)


def reply_to(ticket: Ticket) -> ReplyParameters:
    return ReplyParameters(message_id=ticket.message_id, allow_sending_without_reply=True)


def languages(sessions: sessionmaker[Session], ticket: Ticket) -> tuple[CaptionMode, str]:
    """The caption languages of the job's chat, and the language of its texts."""
    with sessions() as session:
        chat_language, user_language = chats.languages(session, ticket.chat_id, ticket.user_id)
    return caption_mode(chat_language, user_language), ui_language(chat_language, user_language)


class Failures:
    def __init__(
        self,
        bot: Bot,
        sessions: sessionmaker[Session],
        settings: Settings,
        metrics: Metrics,
        lease: Lease,
        on_retry: Callable[[], None],
        background: Background,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.settings = settings
        self.metrics = metrics
        self.lease = lease  # whose claims this worker finishes
        self.on_retry = on_retry  # a retry is scheduled: the takers' sleep may end sooner
        self.background = background

    def expired(self, ticket: Ticket) -> bool:
        return retry.expired(ticket.received_at, utcnow(), self.settings.reply_retry_hours)

    async def apologise(self, ticket: Ticket, key: str, error: str) -> None:
        """Close a job that cannot be captioned, and tell its user why, politely. If Telegram
        fails for a passing reason, the job is tried again later like any other (a file that
        fails again is refused again then), until REPLY_RETRY_HOURS."""
        _, language = await asyncio.to_thread(languages, self.sessions, ticket)
        text = t(key, language, max_size=megabytes(self.settings.max_file_bytes, language))
        try:
            with captions_first():
                message = await self.bot.send_message(
                    ticket.chat_id, text, reply_parameters=reply_to(ticket)
                )
        except TelegramError as exc:
            if isinstance(exc, BadRequest | Forbidden) or self.expired(ticket):
                log.warning("job %d: could not send the apology: %s", ticket.id, exc)
                await self.fail(ticket, error)
            else:
                await self.retry(ticket, exc)
            return
        await asyncio.to_thread(self._failed, ticket.id, error, message.message_id)

    async def tell(self, ticket: Ticket, key: str) -> None:
        """Tell the job's user something about it (the job goes on); if Telegram fails, it is
        logged and left at that."""
        _, language = await asyncio.to_thread(languages, self.sessions, ticket)
        try:
            await self.bot.send_message(
                ticket.chat_id, t(key, language), reply_parameters=reply_to(ticket)
            )
        except TelegramError as exc:
            log.warning("job %d: could not send the %s notice: %s", ticket.id, key, exc)
            return
        log.info("job %d: told its user (%s)", ticket.id, key)

    async def fail(self, ticket: Ticket, error: str) -> None:
        await asyncio.to_thread(self._failed, ticket.id, error)

    def _failed(self, job_id: int, error: str, reply_id: int | None = None) -> None:
        with self.sessions.begin() as session:
            if jobs.fail(session, job_id, self.lease.name, error) and reply_id is not None:
                jobs.set_reply(session, job_id, reply_id)

    async def retry(self, ticket: Ticket, exc: Exception) -> None:
        """Try a job again later after a passing failure, with capped exponential backoff;
        give up only once the answer would come too late (REPLY_RETRY_HOURS)."""
        if self.expired(ticket):
            log.error("job %d: giving up, no answer within REPLY_RETRY_HOURS: %s", ticket.id, exc)
            self.metrics.telegram_errors.labels(outcome="given_up").inc()
            self.background.run(self.apologise(ticket, "caption_failed", str(exc)))
            return
        seconds = retry.delay_for(exc, ticket.attempts, self.settings.retry_backoff_max_s)
        self.metrics.telegram_errors.labels(outcome="retried").inc()
        log.warning(
            "job %d: %s (try %d); retrying in %.1f s",
            ticket.id,
            exc or type(exc).__name__,
            ticket.attempts,
            seconds,
        )
        at = utcnow() + timedelta(seconds=seconds)
        await asyncio.to_thread(self._retry_later, ticket.id, at, str(exc) or repr(exc))
        self.on_retry()

    def _retry_later(self, job_id: int, at: datetime, error: str) -> None:
        with self.sessions.begin() as session:
            jobs.retry_later(session, job_id, self.lease.name, at, error)
