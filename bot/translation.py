"""Caption translation: deep-translator backends tried in order, each under a hard timeout, cached.

deep-translator makes blocking HTTP requests with no timeout of its own, so each call runs in a
daemon thread that the bot stops waiting for after `TRANSLATION_TIMEOUT_S` seconds (a hung thread
cannot block shutdown). The first backend that answers wins; its answer is cached in the database.
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from bot.storage import translations

log = logging.getLogger(__name__)

T = TypeVar("T")

# deep-translator's MyMemory backend wants language names (its codes are regional, "en-GB").
MYMEMORY_NAMES = {"en": "english", "ru": "russian"}


class TranslationTimeout(TimeoutError):
    pass


async def run_in_daemon_thread(function: Callable[[], T], timeout: float) -> T:
    """Run a blocking call in a daemon thread; stop waiting for it after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():  # given up on already
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def target() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = function()
        except BaseException as exc:  # handed over to the waiting coroutine
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed while this thread was stuck
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=target, name="translation", daemon=True).start()
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError as exc:
        raise TranslationTimeout(f"no answer in {timeout:g} s") from exc


def make_backend(name: str, settings: Settings, source: str, target: str) -> Any:
    """A deep-translator object for one backend, pointed at the configured URL. (deep-translator,
    with requests and Beautiful Soup, is imported at the first translation: 6 MB of a serving
    bot's memory that English-only chats never need.)"""
    from deep_translator import GoogleTranslator, LibreTranslator, MyMemoryTranslator

    if name == "libre":
        return LibreTranslator(
            source=source,
            target=target,
            # A self-hosted LibreTranslate usually needs no key; deep-translator insists on one.
            api_key=settings.libretranslate_api_key or "none",
            custom_url=settings.libretranslate_url,
        )
    if name == "google":
        translator: Any = GoogleTranslator(source=source, target=target)
        url = settings.google_translate_url
    elif name == "mymemory":
        translator = MyMemoryTranslator(
            source=MYMEMORY_NAMES[source], target=MYMEMORY_NAMES[target]
        )
        url = settings.mymemory_url
    else:
        raise ValueError(f"unknown translation backend {name!r}")
    if url:
        translator._base_url = url  # deep-translator has no public way to change it
    return translator


class Translator:
    """Translates captions with the configured backends, through the database cache."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions

    async def translate(self, text: str, target: str, source: str = "en") -> str | None:
        """The translation, or None if every backend failed (the caller keeps the original)."""
        if not text.strip() or source == target:
            return text
        hit = await asyncio.to_thread(self._cached, text, source, target)
        if hit is not None:
            return hit
        for name in self.settings.translation_backends:
            try:
                translated = await run_in_daemon_thread(
                    partial(self._call, name, text, source, target),
                    self.settings.translation_timeout_s,
                )
            except Exception as exc:
                log.warning("translation by %s failed: %s: %s", name, type(exc).__name__, exc)
                continue
            if not isinstance(translated, str) or not translated.strip():
                log.warning("translation by %s gave an empty answer", name)
                continue
            translated = translated.strip()
            await asyncio.to_thread(self._store, text, source, target, translated, name)
            return translated
        log.warning("no translation backend could translate %r to %s", text, target)
        return None

    def _cached(self, text: str, source: str, target: str) -> str | None:
        """The cache's translation (in a thread: off the event loop)."""
        with self.sessions() as session:
            return translations.cached(session, text, source, target)

    def _store(self, text: str, source: str, target: str, translated: str, backend: str) -> None:
        with self.sessions.begin() as session:
            translations.store(session, text, source, target, translated, backend)

    def _call(self, name: str, text: str, source: str, target: str) -> Any:
        return make_backend(name, self.settings, source, target).translate(text)
