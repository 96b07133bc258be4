"""The worker's captioning side: claims queued jobs, downloads them, captions them in batches off
the event loop, stores the captions and hands them to the replying side (bot/reply_stage.py).

Downloads run apart from the model: each photo is fetched by a task of its own, with a timeout
of its own (`DOWNLOAD_TIMEOUT_S`), and the model captions whatever has arrived, so a slow file
holds up neither the model nor anyone else's photos. A job whose download failed for a passing
reason (network, 5xx, flood control) is tried again with capped exponential backoff
(bot/failures.py); a bad or too big file is answered with an apology.

Memory stays bounded however large the photos: a JPEG is decoded reduced to what the model needs
(captioning/preprocessing.py), nothing over MAX_IMAGE_PIXELS is decoded, at most DECODES_AT_ONCE
photos are decoded at a time, and a decoded photo is shrunk to the model's 224x224 at once, so
the photos waiting for the model take about 150 KB each.
"""

import asyncio
import contextlib
import logging
from collections import Counter

from PIL import Image
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut

from bot.background import Background, sleep_until_set
from bot.failures import Failures
from bot.lease import Lease
from bot.metrics import Metrics
from bot.queue import CaptionQueue, Ticket
from bot.reply_stage import ReplyStage
from bot.settings import Settings
from bot.storage import jobs
from bot.storage.jobs import Step
from bot.typing_indicator import SHOWS_FOR_S, TypingIndicator
from captioning.captioner import Captioner, CaptionResult
from captioning.memory import release_freed_memory
from captioning.preprocessing import BadImageError, open_image, prepare

log = logging.getLogger(__name__)

DECODES_AT_ONCE = 2  # photos decoded at the same time (each up to MAX_IMAGE_PIXELS x 3 bytes)


class CaptionStage:
    def __init__(
        self,
        bot: Bot,
        queue: CaptionQueue,
        sessions: sessionmaker[Session],
        lease: Lease,
        captioner: Captioner,
        typing: TypingIndicator,
        settings: Settings,
        metrics: Metrics,
        failures: Failures,
        replies: ReplyStage,
    ) -> None:
        self.bot = bot
        self.queue = queue
        self.sessions = sessions
        self.lease = lease
        self.captioner = captioner
        self.typing = typing
        self.settings = settings
        self.metrics = metrics
        self.failures = failures
        self.replies = replies
        self.downloads = Background("downloads")
        self._fetching: dict[int, Ticket] = {}  # jobs being downloaded and decoded
        self._decodes = asyncio.Semaphore(DECODES_AT_ONCE)
        self._fetched: list[tuple[Ticket, Image.Image]] = []  # decoded, waiting for the model
        self._fetch_done = asyncio.Event()  # a download finished (with an image or not)
        self._captioning = False  # the model is on a batch
        self._stopping = False
        self._loops: list[asyncio.Task[None]] = []

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
        self._loops = [
            asyncio.create_task(self._fetch_loop(), name="caption-fetcher"),
            asyncio.create_task(self._caption_loop(), name="caption-worker"),
        ]

    async def stop(self, deadline: float) -> None:
        """Stop taking jobs; finish the photos in hand (until `deadline`, the loop's clock)."""
        self._stopping = True
        self.queue.wakeup.set()
        self._fetch_done.set()
        loop = asyncio.get_running_loop()
        await self.downloads.wait(deadline)
        self._fetch_done.set()
        _, pending = await asyncio.wait(self._loops, timeout=max(0.0, deadline - loop.time()))
        for task in pending:
            task.cancel()
        if pending:
            log.warning("stopping: the batch in hand was cut short")
            await asyncio.wait(pending)

    # -- taking jobs and downloading them ---------------------------------------------------

    async def _fetch_loop(self) -> None:
        """Take ready jobs, fairly, whenever a download slot is free; each is downloaded and
        decoded by a task of its own."""
        while not self._stopping:
            try:
                free = self.fetch_slots - len(self._fetching) - len(self._fetched)
                idle = not (self._fetching or self._fetched or self._captioning)
                taken = (
                    await asyncio.to_thread(
                        self.queue.take,
                        free,
                        self.lease,
                        self._in_hand(),
                        self.per_user_slots,
                        idle,
                    )
                    if free > 0
                    else []
                )
                if not taken:
                    timeout = await asyncio.to_thread(self.queue.idle_timeout, Step.CAPTION)
                    await sleep_until_set(self.queue.wakeup, timeout)
                    continue
                for ticket in taken:
                    if self.failures.expired(ticket):
                        log.error("job %d: not answered within REPLY_RETRY_HOURS", ticket.id)
                        self.downloads.run(
                            self.failures.apologise(ticket, "caption_failed", "too late")
                        )
                    else:
                        self._fetching[ticket.id] = ticket
                        self.downloads.run(self._fetch(ticket))
            except Exception:
                log.exception("caption worker error while taking jobs")
                await asyncio.sleep(1.0)

    async def _fetch(self, ticket: Ticket) -> None:
        """Download and decode one photo; the image joins those waiting for the model."""
        try:
            data = await self._download(ticket)
            if data is None:
                return
            try:
                async with self._decodes:
                    image = await asyncio.to_thread(self._decode, data)
            except BadImageError as exc:
                log.info("job %d: unreadable image: %s", ticket.id, exc)
                await self.failures.apologise(ticket, "bad_image", str(exc))
                return
            self._fetched.append((ticket, image))
        except Exception as exc:
            log.exception("job %d: preparing the photo failed", ticket.id)
            await self.failures.retry(ticket, exc)
        finally:
            self._fetching.pop(ticket.id, None)
            self._fetch_done.set()
            self.queue.wakeup.set()  # a download slot is free

    def _decode(self, data: bytes) -> Image.Image:
        """The photo as the model takes it (224x224 RGB); BadImageError if it cannot be."""
        image = open_image(data, max_pixels=self.settings.max_image_pixels)
        try:
            return prepare(image)
        except (OSError, ValueError, SyntaxError) as exc:  # an odd mode, broken EXIF
            raise BadImageError(f"cannot convert the image ({exc})") from exc

    async def _download(self, ticket: Ticket) -> bytes | None:
        """The photo's bytes, or None (the job was answered with an apology or re-scheduled)."""
        limit = self.settings.max_file_bytes
        timeout = self.settings.download_timeout_s
        # python-telegram-bot's own timeouts (a read times out after 5 s by default) give way to
        # DOWNLOAD_TIMEOUT_S: a server that pauses for longer than 5 s is waited for
        try:
            async with asyncio.timeout(timeout):
                file = await self.bot.get_file(
                    ticket.file_id,
                    read_timeout=timeout,
                    connect_timeout=timeout,
                    pool_timeout=timeout,
                )
                if file.file_size and file.file_size > limit:
                    await self.failures.apologise(ticket, "too_big", f"{file.file_size} bytes")
                    return None
                data = bytes(
                    await file.download_as_bytearray(
                        read_timeout=timeout, connect_timeout=timeout, pool_timeout=timeout
                    )
                )
        except TimeoutError:
            await self._download_failed(ticket, TimedOut(f"download over {timeout:g} s"))
            return None
        except BadRequest as exc:
            key = "too_big" if "too big" in exc.message.lower() else "bad_image"
            await self.failures.apologise(ticket, key, f"getFile: {exc.message}")
            return None
        except Forbidden as exc:
            await self.failures.fail(ticket, f"download: {exc.message}")
            return None
        except TelegramError as exc:
            await self._download_failed(ticket, exc)
            return None
        if len(data) > limit:
            await self.failures.apologise(ticket, "too_big", f"{len(data)} bytes")
            return None
        return data

    async def _download_failed(self, ticket: Ticket, exc: Exception) -> None:
        """A download failed for a passing reason: it is tried again later; after
        DOWNLOAD_NOTICE_AFTER failed tries, its user is told so, once."""
        if ticket.attempts == self.settings.download_notice_after:
            await self.failures.tell(ticket, "download_delayed")
        await self.failures.retry(ticket, exc)

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
                    await asyncio.to_thread(self.queue.requeue, [t.id for t, _ in batch])
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
        """Caption the photos, store the captions and hand them to the replying side."""
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
        captioned = []
        for (ticket, _), result in zip(images, results, strict=True):
            if result is None:
                await self.failures.apologise(ticket, "caption_failed", "captioner failed")
            else:
                captioned.append((ticket, result))
        for ticket in await asyncio.to_thread(self._save, captioned):
            self.metrics.photos_captioned.inc()
            await self.replies.captioned(ticket)

    def _save(self, captioned: list[tuple[Ticket, CaptionResult]]) -> list[Ticket]:
        """Store the batch's captions (in a thread: one transaction); the jobs still this
        worker's (not forgotten by their user, nor taken over by another worker)."""
        kept = []
        with self.sessions.begin() as session:
            for ticket, result in captioned:
                if jobs.save_caption(
                    session,
                    ticket.id,
                    self.lease.name,
                    caption=result.caption,
                    score=result.score,
                    words=result.words,
                    alternatives=result.alternatives,
                    attention=result.attention,
                    tags=result.tags,
                    doubt=result.doubt,
                    kind=result.kind,
                ):
                    kept.append(ticket)
        return kept

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
