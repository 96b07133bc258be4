"""The caption worker: takes jobs from the queue, downloads them, captions them in batches off
the event loop, replies.

Each job is answered once: its caption is stored (status `captioned`) before the reply is sent,
and the job is marked `done` with the reply's message id right after. A job whose download or
reply failed for a passing reason (network, 5xx, flood control) is tried again with capped
exponential backoff for as long as the answer is useful (`REPLY_RETRY_HOURS`); only a permanent
reason (the file is gone or too big, the bot was blocked) ends it early. The one window left is a
crash between Telegram accepting a reply and the `done` commit: that reply is sent again after
the restart (at least once, rather than maybe never).

Downloads run apart from the model: each photo is fetched by a task of its own, with a timeout
of its own (`DOWNLOAD_TIMEOUT_S`), and the model captions whatever has arrived, so a slow file
holds up neither the model nor anyone else's photos.
"""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut

from bot import retry
from bot.caption_format import album_reply, caption_reply, grounding_notes
from bot.caption_keyboard import caption_keyboard
from bot.language_policy import caption_mode, ui_language
from bot.metrics import Metrics
from bot.queue import CaptionQueue, Ticket
from bot.send_budget import captions_first
from bot.settings import Settings
from bot.storage import albums, chats, jobs, translations
from bot.storage.models import CaptionMode, JobStatus, utcnow
from bot.texts import megabytes, t
from bot.translation import Translator
from bot.typing_indicator import SHOWS_FOR_S, TypingIndicator
from captioning.captioner import Captioner, CaptionResult
from captioning.memory import release_freed_memory
from captioning.preprocessing import BadImageError, open_image

log = logging.getLogger(__name__)

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
        metrics: Metrics,
    ) -> None:
        self.bot = bot
        self.metrics = metrics
        self.typing = typing
        self.queue = queue
        self.sessions = sessions
        self.captioner = captioner
        self.translator = translator
        self.settings = settings
        self._sending: set[int] = set()  # captioned jobs whose reply is on its way
        self._fetching: dict[int, Ticket] = {}  # jobs being downloaded and decoded
        self._fetched: list[tuple[Ticket, Image.Image]] = []  # decoded, waiting for the model
        self._fetch_done = asyncio.Event()  # a download finished (with an image or not)
        self._captioning = False  # the model is on a batch
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._loop_tasks: list[asyncio.Task[None]] = []

    @property
    def fetch_slots(self) -> int:
        """Downloads in flight at most: two batches, so the next batch is ready when the model
        is, and a few slow files leave room for the rest."""
        return 2 * self.settings.batch_size

    @property
    def per_user_slots(self) -> int:
        """One user's photos downloading or waiting for the model at most: one, so that a
        burst from one user adds at most one photo to each batch that others' photos are in
        (alone, such a user loses little: the model's batch of 1 is ~3/4 as fast per photo)."""
        return 1

    def _in_hand(self) -> Counter[int]:
        """Photos per user downloading or downloaded and waiting for the model."""
        in_hand = Counter(ticket.user_id for ticket in self._fetching.values())
        in_hand.update(ticket.user_id for ticket, _ in self._fetched)
        return in_hand

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        requeued = self.queue.requeue_unfinished()
        if requeued:
            log.info("re-queued %d job(s) left unfinished by the last run", requeued)
        self._loop_tasks = [
            asyncio.create_task(self._fetch_loop(), name="caption-fetcher"),
            asyncio.create_task(self._caption_loop(), name="caption-worker"),
        ]

    async def stop(self, timeout: float = 20.0) -> None:
        """Finish the photos in hand and the replies on their way (up to `timeout` s); whatever
        is left stays in the database and is picked up by the next start."""
        self._stopping = True
        self.queue.wakeup.set()
        self._fetch_done.set()
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
        tasks = set(self._tasks) | set(self._loop_tasks)
        return {task for task in tasks if not task.done()}

    # -- taking jobs and downloading them ---------------------------------------------------

    async def _fetch_loop(self) -> None:
        """Take ready jobs, fairly, whenever a download slot is free; each is downloaded and
        decoded by a task of its own."""
        while not self._stopping:
            try:
                free = self.fetch_slots - len(self._fetching) - len(self._fetched)
                idle = not (self._fetching or self._fetched or self._captioning)
                taken = (
                    self.queue.take(free, self._busy(), self._in_hand(), self.per_user_slots, idle)
                    if free > 0
                    else []
                )
                if not taken:
                    await self._sleep_until_woken(self._idle_timeout())
                    continue
                for ticket in taken:
                    if self._expired(ticket):
                        log.error("job %d: not answered within REPLY_RETRY_HOURS", ticket.id)
                        await self._apologise(ticket, "caption_failed", "no answer in time")
                    elif ticket.caption is not None:  # captioned before; only the reply is left
                        self._deliver_later(ticket, ticket.caption)
                    else:
                        self._fetching[ticket.id] = ticket
                        self._background(self._fetch(ticket))
            except Exception:
                log.exception("caption worker error while taking jobs")
                await asyncio.sleep(1.0)

    def _busy(self) -> frozenset[int]:
        return frozenset(self._sending)

    def _expired(self, ticket: Ticket) -> bool:
        return retry.expired(ticket.received_at, utcnow(), self.settings.reply_retry_hours)

    def _idle_timeout(self) -> float:
        due = self.queue.next_retry()
        if due is None:
            return IDLE_POLL_S
        return min(IDLE_POLL_S, max(0.05, (due - utcnow()).total_seconds()))

    async def _sleep_until_woken(self, timeout: float) -> None:
        self.queue.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.wakeup.wait(), timeout)

    async def _fetch(self, ticket: Ticket) -> None:
        """Download and decode one photo; the image joins those waiting for the model."""
        try:
            data = await self._download(ticket)
            if data is None:
                return
            try:
                image = await asyncio.to_thread(open_image, data)
            except BadImageError as exc:
                log.info("job %d: unreadable image: %s", ticket.id, exc)
                await self._apologise(ticket, "bad_image", str(exc))
                return
            self._fetched.append((ticket, image))
        except Exception as exc:
            log.exception("job %d: preparing the photo failed", ticket.id)
            self._retry(ticket, exc)
        finally:
            self._fetching.pop(ticket.id, None)
            self._fetch_done.set()
            self.queue.wakeup.set()  # a download slot is free

    async def _download(self, ticket: Ticket) -> bytes | None:
        """The photo's bytes, or None (the job was answered with an apology or re-scheduled)."""
        limit = self.settings.max_file_bytes
        try:
            async with asyncio.timeout(self.settings.download_timeout_s):
                file = await self.bot.get_file(ticket.file_id)
                if file.file_size and file.file_size > limit:
                    await self._apologise(ticket, "too_big", f"{file.file_size} bytes")
                    return None
                data = bytes(await file.download_as_bytearray())
        except TimeoutError:
            self._retry(ticket, TimedOut(f"download over {self.settings.download_timeout_s:g} s"))
            return None
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

    # -- captioning -------------------------------------------------------------------------

    async def _caption_loop(self) -> None:
        """Caption the downloaded photos in batches: as soon as there is one, waiting up to
        BATCH_WAIT_MS for a full batch while downloads are still arriving."""
        while True:
            try:
                if not await self._wait_for_batch():
                    return
                batch = self._fetched[: self.settings.batch_size]
                del self._fetched[: len(batch)]
                self.queue.wakeup.set()  # room for more downloads
                self._captioning = True
                try:
                    await self._caption_batch(batch)
                except Exception:
                    log.exception("caption worker error; its batch goes back in the queue")
                    self.queue.requeue([ticket.id for ticket, _ in batch])
                    await asyncio.sleep(1.0)
                finally:
                    self._captioning = False
                    self.queue.wakeup.set()  # idle now, maybe: a backlog may go next
                if not self._fetched and not self._fetching:
                    # nothing else in hand: what the batch freed leaves the resident set
                    # (about a millisecond; never while photos wait)
                    release_freed_memory()
            except Exception:
                log.exception("caption worker error")
                await asyncio.sleep(1.0)

    async def _wait_for_batch(self) -> bool:
        """Wait until a photo is downloaded, then up to BATCH_WAIT_MS for a full batch; False
        once stopping with nothing left in hand."""
        loop = asyncio.get_running_loop()
        while not self._fetched:
            if self._stopping and not self._fetching:
                return False
            self._fetch_done.clear()
            await self._fetch_done.wait()
        deadline = loop.time() + self.settings.batch_wait_ms / 1000
        while len(self._fetched) < self.settings.batch_size and self._fetching:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._fetch_done.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._fetch_done.wait(), remaining)
        return True

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
                self.metrics.photos_captioned.inc()
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
                with captions_first():
                    message = await self.bot.send_message(
                        first.chat_id,
                        text,
                        reply_parameters=self._reply_to(first),
                        reply_markup=keyboard,
                    )
            except (BadRequest, Forbidden) as exc:
                log.warning("job %d: reply refused by Telegram: %s", first.id, exc.message)
                self.metrics.telegram_errors.labels(outcome="refused").inc()
                for ticket, _ in parts:
                    self._fail(ticket, f"sendMessage: {exc.message}")
                return
            except TelegramError as exc:
                for ticket, _ in parts:
                    self._retry(ticket, exc)
                return
            with self.sessions.begin() as session:
                for (ticket, caption), russian in zip(parts, russians, strict=True):
                    if not jobs.finish(session, ticket.id, message.message_id):
                        # forgotten while the reply was on its way: so is its translation
                        translations.forget_texts(session, [caption])
                        continue
                    self.metrics.reply_latency.observe(
                        (utcnow() - ticket.received_at).total_seconds()
                    )
                    if russian is not None:
                        jobs.save_translation(session, ticket.id, russian)
                    elif mode != CaptionMode.EN:
                        jobs.note_translation_failure(session, ticket.id)
                        self.metrics.translation_failures.inc()
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
        """Close a job that cannot be captioned, and tell its user why, politely. If Telegram
        fails for a passing reason, the job is tried again later like any other (a file that
        fails again is refused again then), until REPLY_RETRY_HOURS."""
        _, language = self._languages(ticket)
        text = t(key, language, max_size=megabytes(self.settings.max_file_bytes, language))
        try:
            with captions_first():
                message = await self.bot.send_message(
                    ticket.chat_id, text, reply_parameters=self._reply_to(ticket)
                )
        except TelegramError as exc:
            if isinstance(exc, BadRequest | Forbidden) or self._expired(ticket):
                log.warning("job %d: could not send the apology: %s", ticket.id, exc)
                self._fail(ticket, error)
            else:
                self._retry(ticket, exc)
            return
        with self.sessions.begin() as session:
            jobs.fail(session, ticket.id, error)
            jobs.set_reply(session, ticket.id, message.message_id)

    def _fail(self, ticket: Ticket, error: str) -> None:
        with self.sessions.begin() as session:
            jobs.fail(session, ticket.id, error)

    def _retry(self, ticket: Ticket, exc: Exception) -> None:
        """Try a job again later after a passing failure, with capped exponential backoff;
        give up only once the answer would come too late (REPLY_RETRY_HOURS)."""
        if self._expired(ticket):
            log.error("job %d: giving up, no answer within REPLY_RETRY_HOURS: %s", ticket.id, exc)
            self.metrics.telegram_errors.labels(outcome="given_up").inc()
            self._background(self._apologise(ticket, "caption_failed", str(exc)))
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
        with self.sessions.begin() as session:
            jobs.retry_later(
                session, ticket.id, utcnow() + timedelta(seconds=seconds), str(exc) or repr(exc)
            )
        self.queue.wakeup.set()  # the fetcher's sleep may need to end sooner

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
