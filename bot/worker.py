"""The caption worker: takes batches from the queue, captions them off the event loop, replies.

Each job is answered once: its caption is stored (status `captioned`) before the reply is sent,
and the job is marked `done` with the reply's message id right after. A job whose reply failed
for a passing reason (network, flood control) is retried later. The one window left is a crash
between Telegram accepting a reply and the `done` commit: that reply is sent again after the
restart (at least once, rather than maybe never).
"""

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.caption_keyboard import caption_keyboard
from bot.images import decode_all
from bot.queue import CaptionQueue, Ticket
from bot.settings import Settings
from bot.storage import albums, chats, jobs
from bot.storage.models import CaptionMode, JobStatus, utcnow
from bot.texts import (
    album_reply,
    caption_mode,
    caption_reply,
    grounding_notes,
    t,
    ui_language,
)
from bot.translation import Translator
from bot.typing_indicator import SHOWS_FOR_S, TypingIndicator
from captioning.captioner import Captioner, CaptionResult

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
IDLE_POLL_S = 5.0


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
    ) -> None:
        self.bot = bot
        self.typing = typing
        self.queue = queue
        self.sessions = sessions
        self.captioner = captioner
        self.translator = translator
        self.settings = settings
        self._sending: set[int] = set()  # captioned jobs whose reply is on its way
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        requeued = self.queue.requeue_unfinished()
        if requeued:
            log.info("re-queued %d job(s) left unfinished by the last run", requeued)
        self._loop_task = asyncio.create_task(self._run(), name="caption-worker")

    async def stop(self, timeout: float = 20.0) -> None:
        """Finish the batch in hand and the replies on their way (up to `timeout` s); whatever
        is left stays in the database and is picked up by the next start."""
        self._stopping = True
        self.queue.wakeup.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while pending := self._unfinished():  # the batch in hand may start replies meanwhile
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.warning("stopping: %d task(s) cut short", len(pending))
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending)
                break
            await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        requeued = self.queue.requeue_unfinished()
        log.info("worker stopped; %d job(s) left for the next start", requeued)

    def _unfinished(self) -> set[asyncio.Task[None]]:
        tasks = set(self._tasks)
        if self._loop_task is not None:
            tasks.add(self._loop_task)
        return {task for task in tasks if not task.done()}

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        """Take a batch and download it while the model captions the one before (the model is
        the scarce part, so it should never wait for the network)."""
        captioning: asyncio.Task[None] | None = None  # the batch the model is on
        while not self._stopping:
            try:
                if not await self._wait_for_batch():
                    continue
                batch = self.queue.take(self.settings.batch_size, self._busy())
                if not batch:
                    continue
                images = await self._prepare(batch)
                if captioning is not None:
                    task, captioning = captioning, None
                    await task
                if images:
                    captioning = self._track(self._caption_batch(images))
            except Exception:
                log.exception("caption worker error; its batch goes back in the queue")
                if captioning is not None:  # let the batch in hand finish before re-queueing
                    with contextlib.suppress(Exception):
                        await captioning
                    captioning = None
                self.queue.requeue_unfinished()  # only this loop has jobs running
                await asyncio.sleep(1.0)

    def _busy(self) -> frozenset[int]:
        return frozenset(self._sending)

    async def _wait_for_batch(self) -> bool:
        """Wait until a job is ready, then up to BATCH_WAIT_MS for a full batch."""
        loop = asyncio.get_running_loop()
        while True:
            self.queue.wakeup.clear()
            if self._stopping:
                return False
            if self.queue.ready_count(self._busy()):
                break
            await self._sleep_until_woken(self._idle_timeout())
        deadline = loop.time() + self.settings.batch_wait_ms / 1000
        while self.queue.ready_count(self._busy()) < self.settings.batch_size:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping:
                break
            self.queue.wakeup.clear()
            await self._sleep_until_woken(remaining)
        return not self._stopping

    def _idle_timeout(self) -> float:
        due = self.queue.next_retry()
        if due is None:
            return IDLE_POLL_S
        return min(IDLE_POLL_S, max(0.05, (due - utcnow()).total_seconds()))

    async def _sleep_until_woken(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.wakeup.wait(), timeout)

    # -- one batch --------------------------------------------------------------------------

    async def _prepare(self, batch: list[Ticket]) -> list[tuple[Ticket, Image.Image]]:
        """The batch's photos that are to be captioned, downloaded and decoded; the rest are
        answered (given up, or captioned before and only waiting for their reply)."""
        for ticket in [ticket for ticket in batch if ticket.attempts > MAX_ATTEMPTS]:
            log.error("job %d: giving up after %d attempts", ticket.id, ticket.attempts - 1)
            await self._apologise(ticket, "caption_failed", "too many attempts")
        batch = [ticket for ticket in batch if ticket.attempts <= MAX_ATTEMPTS]
        for ticket in batch:
            if ticket.caption is not None:  # captioned before; only the reply is left
                self._deliver_later(ticket, ticket.caption)
        fresh = [ticket for ticket in batch if ticket.caption is None]
        downloads = await asyncio.gather(*(self._download(ticket) for ticket in fresh))
        got = [(ticket, data) for ticket, data in zip(fresh, downloads, strict=True) if data]
        decoded = await asyncio.to_thread(decode_all, [data for _, data in got])
        images: list[tuple[Ticket, Image.Image]] = []
        for (ticket, _), image in zip(got, decoded, strict=True):
            if isinstance(image, Image.Image):
                images.append((ticket, image))
            else:
                log.info("job %d: unreadable image: %s", ticket.id, image)
                await self._apologise(ticket, "bad_image", str(image))
        return images

    async def _keep_typing(self, chat_ids: set[int]) -> None:
        """Show "typing…" in these chats for as long as their photos are being worked on."""
        while True:
            for chat_id in chat_ids:
                await self.typing.show(chat_id)
            await asyncio.sleep(SHOWS_FOR_S)

    async def _caption_batch(self, images: list[tuple[Ticket, Image.Image]]) -> None:
        """Caption the photos, store the captions and start their replies."""
        chats_waiting = {ticket.chat_id for ticket, _ in images}
        typing = asyncio.create_task(self._keep_typing(chats_waiting))
        started = asyncio.get_running_loop().time()
        try:
            results = await self._caption([image for _, image in images])
        finally:
            typing.cancel()
        log.info(
            "captioned %d photo(s) in %.2f s",
            len(images),
            asyncio.get_running_loop().time() - started,
        )
        for (ticket, _), result in zip(images, results, strict=True):
            if result is None:
                await self._apologise(ticket, "caption_failed", "captioner failed")
                continue
            with self.sessions.begin() as session:
                kept = jobs.save_caption(
                    session,
                    ticket.id,
                    caption=result.caption,
                    score=result.score,
                    words=result.words,
                    alternatives=result.alternatives,
                    attention=result.attention,
                    tags=result.tags,
                    doubt=result.doubt,
                )
            if kept:
                self._deliver_later(ticket, result.caption)

    async def _caption(self, images: list[Image.Image]) -> list[CaptionResult | None]:
        """Caption the batch; if that fails, each photo alone, so one bad photo spoils only
        itself."""
        beam = self.settings.beam_size
        try:
            return list(await asyncio.to_thread(self.captioner.caption, images, beam))
        except Exception:
            log.exception("captioning a batch of %d failed", len(images))
        results: list[CaptionResult | None] = []
        for image in images:
            try:
                results.extend(await asyncio.to_thread(self.captioner.caption, [image], beam))
            except Exception:
                log.exception("captioning one photo failed")
                results.append(None)
        return results

    async def _download(self, ticket: Ticket) -> bytes | None:
        """The photo's bytes, or None (the job was answered with an apology or re-scheduled)."""
        limit = self.settings.max_file_bytes
        try:
            file = await self.bot.get_file(ticket.file_id)
            if file.file_size and file.file_size > limit:
                await self._apologise(ticket, "too_big", f"{file.file_size} bytes")
                return None
            data = bytes(await file.download_as_bytearray())
        except BadRequest as exc:
            key = "too_big" if "too big" in exc.message.lower() else "bad_image"
            await self._apologise(ticket, key, f"getFile: {exc.message}")
            return None
        except Forbidden as exc:
            self._fail(ticket, f"download: {exc.message}")
            return None
        except TelegramError as exc:
            self._retry(ticket, exc)
            return None
        if len(data) > limit:
            await self._apologise(ticket, "too_big", f"{len(data)} bytes")
            return None
        return data

    # -- replies ----------------------------------------------------------------------------

    def _languages(self, ticket: Ticket) -> tuple[CaptionMode, str]:
        with self.sessions() as session:
            chat_language, user_language = chats.languages(session, ticket.chat_id, ticket.user_id)
        return (
            caption_mode(chat_language, user_language),
            ui_language(chat_language, user_language),
        )

    def _deliver_later(self, ticket: Ticket, caption: str) -> None:
        """Send the reply in the background; until it is sent the worker does not take the job.
        A photo of an album is answered together with the rest of it, once all is captioned."""
        parts = [(ticket, caption)] if ticket.album is None else self._album_parts(ticket)
        if parts:
            self._sending.update(part.id for part, _ in parts)
            self._background(self._deliver(parts))

    def _album_parts(self, ticket: Ticket) -> list[tuple[Ticket, str]]:
        """The album's captioned photos not yet on their way, in order; nothing while some photo
        of it still waits to be captioned (the last one captioned sends the reply)."""
        assert ticket.album is not None
        with self.sessions() as session:
            album = albums.members(session, ticket.chat_id, ticket.album)
            if any(job.status in albums.UNCAPTIONED for job in album):
                return []
            return [
                (Ticket.of(job), job.caption)
                for job in album
                if job.status == JobStatus.CAPTIONED
                and job.caption is not None
                and job.id not in self._sending
            ]

    async def _deliver(self, parts: list[tuple[Ticket, str]]) -> None:
        """One reply, to the first photo, captioning each of `parts` (one photo or an album)."""
        ids = {ticket.id for ticket, _ in parts}
        try:
            with self.sessions() as session:  # some user may have asked the bot to forget
                grounding = jobs.pending_grounding(session, [ticket.id for ticket, _ in parts])
            parts = [(ticket, caption) for ticket, caption in parts if ticket.id in grounding]
            if not parts:
                return
            first = parts[0][0]
            mode, language = self._languages(first)
            russians: list[str | None] = [None] * len(parts)
            if mode != CaptionMode.EN:
                russians = [await self.translator.translate(caption, "ru") for _, caption in parts]
            notes = [await self._notes(*grounding[ticket.id], language) for ticket, _ in parts]
            if len(parts) == 1:
                text = caption_reply(parts[0][1], russians[0], mode, language)
                text = "\n".join(filter(None, [text, notes[0]]))
            else:
                text = album_reply(
                    [
                        (caption, russian)
                        for (_, caption), russian in zip(parts, russians, strict=True)
                    ],
                    mode,
                    language,
                    notes,
                )
            keyboard = caption_keyboard([ticket.id for ticket, _ in parts], language)
            try:
                message = await self.bot.send_message(
                    first.chat_id,
                    text,
                    reply_parameters=self._reply_to(first),
                    reply_markup=keyboard,
                )
            except (BadRequest, Forbidden) as exc:
                log.warning("job %d: reply refused by Telegram: %s", first.id, exc.message)
                for ticket, _ in parts:
                    self._fail(ticket, f"sendMessage: {exc.message}")
                return
            except TelegramError as exc:
                for ticket, _ in parts:
                    self._retry(ticket, exc)
                return
            with self.sessions.begin() as session:
                for (ticket, _), russian in zip(parts, russians, strict=True):
                    jobs.finish(session, ticket.id, message.message_id)
                    if russian is not None:
                        jobs.save_translation(session, ticket.id, russian)
                    elif mode != CaptionMode.EN:
                        jobs.note_translation_failure(session, ticket.id)
            log.info(
                "job(s) %s answered in chat %d",
                ", ".join(str(i) for i in sorted(ids)),
                first.chat_id,
            )
        finally:
            self._sending.difference_update(ids)

    async def _notes(self, labels: list[str], doubt: str | None, language: str) -> str:
        """What the classifier recognised and whether the caption is a guess, in `language`
        (labels through the translator and its cache; English where it fails)."""
        if language == "ru":
            labels = [await self.translator.translate(label, "ru") or label for label in labels]
        return grounding_notes(labels, doubt, language)

    async def _apologise(self, ticket: Ticket, key: str, error: str) -> None:
        """Close a job that cannot be captioned, and tell its user why, politely."""
        self._fail(ticket, error)
        _, language = self._languages(ticket)
        text = t(key, language, limit_mb=self.settings.max_file_bytes // (1024 * 1024))
        try:
            message = await self.bot.send_message(
                ticket.chat_id, text, reply_parameters=self._reply_to(ticket)
            )
        except TelegramError as exc:
            log.warning("job %d: could not send the apology: %s", ticket.id, exc)
            return
        with self.sessions.begin() as session:
            jobs.set_reply(session, ticket.id, message.message_id)

    def _fail(self, ticket: Ticket, error: str) -> None:
        with self.sessions.begin() as session:
            jobs.fail(session, ticket.id, error)

    def _retry(self, ticket: Ticket, exc: TelegramError) -> None:
        """Try a job again later after a passing failure; give up after MAX_ATTEMPTS."""
        if ticket.attempts >= MAX_ATTEMPTS:
            log.error("job %d: giving up after %d attempts: %s", ticket.id, ticket.attempts, exc)
            self._background(self._apologise(ticket, "caption_failed", str(exc)))
            return
        if isinstance(exc, RetryAfter):
            delay = exc.retry_after
            seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        else:
            seconds = float(min(60, 2**ticket.attempts))
        log.warning("job %d: %s; retrying in %.0f s", ticket.id, exc, seconds)
        with self.sessions.begin() as session:
            jobs.retry_later(session, ticket.id, utcnow() + timedelta(seconds=seconds), str(exc))

    @staticmethod
    def _reply_to(ticket: Ticket) -> ReplyParameters:
        return ReplyParameters(message_id=ticket.message_id, allow_sending_without_reply=True)

    def _background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run on its own; a failure is logged."""
        self._track(coroutine).add_done_callback(self._finished)

    def _track(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A task that `stop` waits for."""
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    def _finished(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("caption worker task failed", exc_info=task.exception())
