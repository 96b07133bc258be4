"""The worker's replying side: claims captioned jobs, translates, formats and sends their replies.

A reply answers one photo, or every photo of an album (claimed all together, once all of it is
captioned). Its job is `replying` while the reply is on its way, and `done` with the reply's
message id right after Telegram accepts it. The one window left is a worker dying between the
two: its lease runs out and another worker sends that reply again (at least once, rather than
maybe never). A passing failure puts the job back to `captioned` with a time to retry.
"""

import asyncio
import logging

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.background import Background, sleep_until_set
from bot.caption_format import album_reply, caption_reply, grounding_notes, hedged_caption
from bot.caption_keyboard import caption_keyboard
from bot.failures import Failures, languages, reply_to
from bot.lease import Lease
from bot.metrics import Metrics
from bot.queue import CaptionQueue, Ticket
from bot.send_budget import captions_first
from bot.storage import albums, jobs, translations
from bot.storage.jobs import Grounded, Step
from bot.storage.models import CaptionMode, utcnow
from bot.translation import Translator

log = logging.getLogger(__name__)

REPLIES_IN_FLIGHT = 64  # replies on their way at most (the send budget paces them)


class ReplyStage:
    def __init__(
        self,
        bot: Bot,
        queue: CaptionQueue,
        sessions: sessionmaker[Session],
        lease: Lease,
        translator: Translator,
        failures: Failures,
        metrics: Metrics,
    ) -> None:
        self.bot = bot
        self.queue = queue
        self.sessions = sessions
        self.lease = lease
        self.translator = translator
        self.failures = failures
        self.metrics = metrics
        self.wakeup = asyncio.Event()  # a job was captioned, or a retry scheduled
        self.sending = Background("replies")
        self._stopping = False
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.create_task(self._reply_loop(), name="reply-taker")

    async def stop(self, deadline: float) -> None:
        """Stop taking replies; send those on their way (until `deadline`)."""
        self._stopping = True
        self.wakeup.set()
        if self._loop is not None:
            await self._loop
        await self.sending.wait(deadline)

    async def captioned(self, ticket: Ticket) -> None:
        """This worker just captioned the job: claim its reply now, rather than at the next
        look at the queue (an album's reply goes once its last photo is captioned)."""
        parts = await asyncio.to_thread(self._claim_now, ticket)
        if parts:
            self.sending.run(self._deliver(parts))

    def _claim_now(self, ticket: Ticket) -> list[Ticket]:
        if ticket.album is None:
            return self.queue.claim_reply(self.lease, [ticket.id])
        with self.sessions() as session:
            album = albums.members(session, ticket.chat_id, ticket.album)
            if any(job.status in albums.UNCAPTIONED for job in album):
                return []
            ids = [job.id for job in album]
        return self.queue.claim_reply(self.lease, ids)

    async def _reply_loop(self) -> None:
        """Claim the replies that are due (retries; those a dead worker left) and send them."""
        while not self._stopping:
            try:
                free = REPLIES_IN_FLIGHT - len(self.sending)
                replies = (
                    await asyncio.to_thread(self.queue.take_replies, self.lease, free)
                    if free > 0
                    else []
                )
                if not replies:
                    timeout = await asyncio.to_thread(self.queue.idle_timeout, Step.REPLY)
                    await sleep_until_set(self.wakeup, timeout)
                    continue
                for parts in replies:
                    if self.failures.expired(parts[0]):
                        for ticket in parts:
                            log.error("job %d: not answered within REPLY_RETRY_HOURS", ticket.id)
                            self.sending.run(
                                self.failures.apologise(ticket, "caption_failed", "too late")
                            )
                    else:
                        self.sending.run(self._deliver(parts))
            except Exception:
                log.exception("reply worker error while taking jobs")
                await asyncio.sleep(1.0)

    async def _deliver(self, parts: list[Ticket]) -> None:
        """Send the reply; whatever goes wrong, the jobs are not left claimed."""
        try:
            await self._send_reply(parts)
        except Exception as exc:
            log.exception("job(s) %s: the reply failed", ", ".join(str(t.id) for t in parts))
            for ticket in parts:
                await self.failures.retry(ticket, exc)

    async def _send_reply(self, parts: list[Ticket]) -> None:
        """One reply, to the first photo, captioning each of `parts` (one photo or an album)."""
        grounding, (mode, language) = await asyncio.to_thread(self._look_up, parts)
        parts = [ticket for ticket in parts if ticket.id in grounding and ticket.caption]
        if not parts:
            return
        captions = [ticket.caption or "" for ticket in parts]
        first = parts[0]
        russians: list[str | None] = [None] * len(parts)
        if mode != CaptionMode.EN:
            russians = [
                await self._russian(caption, grounding[ticket.id])
                for caption, ticket in zip(captions, parts, strict=True)
            ]
        notes = [await self._notes(grounding[ticket.id], language) for ticket in parts]
        if len(parts) == 1:
            text = caption_reply(captions[0], russians[0], mode, language)
            text = "\n".join(filter(None, [text, notes[0]]))
        else:
            text = album_reply(list(zip(captions, russians, strict=True)), mode, language, notes)
        keyboard = caption_keyboard([ticket.id for ticket in parts], language)
        try:
            with captions_first():
                message = await self.bot.send_message(
                    first.chat_id, text, reply_parameters=reply_to(first), reply_markup=keyboard
                )
        except (BadRequest, Forbidden) as exc:
            log.warning("job %d: reply refused by Telegram: %s", first.id, exc.message)
            self.metrics.telegram_errors.labels(outcome="refused").inc()
            for ticket in parts:
                await self.failures.fail(ticket, f"sendMessage: {exc.message}")
            return
        except TelegramError as exc:
            for ticket in parts:
                await self.failures.retry(ticket, exc)
            return
        # on the loop, in the step that got Telegram's answer: once a user sees the reply, this
        # process's handlers (/history, inline mode, /stats) see the job done
        self._finish(parts, russians, mode, message.message_id)
        log.info(
            "job(s) %s answered in chat %d",
            ", ".join(str(ticket.id) for ticket in parts),
            first.chat_id,
        )

    def _look_up(self, parts: list[Ticket]) -> tuple[dict[int, Grounded], tuple[CaptionMode, str]]:
        """The grounding of those jobs still waiting for their reply (some user may have asked
        the bot to forget), and the chat's languages."""
        with self.sessions() as session:
            grounding = jobs.pending_grounding(session, [ticket.id for ticket in parts])
        return grounding, languages(self.sessions, parts[0])

    def _finish(
        self, parts: list[Ticket], russians: list[str | None], mode: CaptionMode, reply_id: int
    ) -> None:
        """The reply is sent: the jobs are done, with their translations."""
        with self.sessions.begin() as session:
            for ticket, russian in zip(parts, russians, strict=True):
                if not jobs.finish(session, ticket.id, self.lease.name, reply_id):
                    if jobs.is_gone(session, ticket.id):
                        # forgotten while the reply was on its way: so is its translation
                        translations.forget_texts(session, [ticket.caption or ""])
                    else:
                        log.warning("job %d: answered, but no longer this worker's", ticket.id)
                    continue
                self.metrics.reply_latency.observe((utcnow() - ticket.received_at).total_seconds())
                if russian is not None:
                    jobs.save_translation(session, ticket.id, russian)
                elif mode != CaptionMode.EN:
                    jobs.note_translation_failure(session, ticket.id)
                    self.metrics.translation_failures.inc()

    async def _russian(self, caption: str, grounded: Grounded) -> str | None:
        """The caption in Russian (None where the translator fails): a hedged sentence is made
        again from its labels' translations."""
        if not grounded.hedged:
            return await self.translator.translate(caption, "ru")
        labels = [await self.translator.translate(label, "ru") for label in grounded.labels]
        if any(label is None for label in labels):
            return None
        return hedged_caption([label for label in labels if label], "ru")

    async def _notes(self, grounded: Grounded, language: str) -> str:
        """What the classifier recognised (unless the caption says just that) and whether the
        caption is a guess, in `language` (labels through the translator and its cache; English
        where it fails)."""
        labels = [] if grounded.hedged else grounded.labels
        if language == "ru":
            labels = [await self.translator.translate(label, "ru") or label for label in labels]
        return grounding_notes(labels, grounded.doubt, language)
