"""A fake translation server on 127.0.0.1 that answers as deep-translator's backends expect.

- Google (`GoogleTranslator`): GET `<google_url>?tl=ru&sl=en&q=...`, an HTML page whose
  `<div class="result-container">` holds the translation.
- MyMemory (`MyMemoryTranslator`): GET `<mymemory_url>?langpair=en|ru&q=...`, JSON with
  `responseData.translatedText`.
- LibreTranslate (`LibreTranslator` with `custom_url`): POST `<libre_url>translate` with
  `q`, `source`, `target` as query parameters, JSON `{"translatedText": ...}`.

Translations come from a small phrase book, then word by word, and letters it does not know are
transliterated into Cyrillic, so every English text gets a Russian-looking answer that the tests
can compute with `expected()`. Each backend can be told to fail (HTTP 500), refuse (429) or hang.
"""

from __future__ import annotations

import asyncio
import html
import threading
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from bot.bench.loopback_server import LoopbackServer

Backend = Literal["google", "mymemory", "libre"]
Mode = Literal["ok", "fail", "429", "hang", "garbage"]
BACKENDS: tuple[Backend, ...] = ("google", "mymemory", "libre")

PHRASES = {
    "a dog runs on the grass": "собака бежит по траве",
    "a man is riding a bicycle": "мужчина едет на велосипеде",
}
WORDS = {
    "a": "",
    "the": "",
    "dog": "собака",
    "cat": "кошка",
    "man": "мужчина",
    "woman": "женщина",
    "child": "ребёнок",
    "runs": "бежит",
    "grass": "трава",
    "on": "на",
    "in": "в",
    "water": "вода",
    "and": "и",
}
LETTERS = dict(zip("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопкрстуввксз", strict=True))


def expected(text: str, target: str = "ru") -> str:
    """What this server answers for `text` translated into `target` (English stays as is)."""
    if target == "en":
        return text
    phrase = text.strip().lower()
    if phrase in PHRASES:
        return PHRASES[phrase]
    words = []
    for word in phrase.split():
        translated = WORDS[word] if word in WORDS else "".join(LETTERS.get(c, c) for c in word)
        if translated:
            words.append(translated)
    return " ".join(words) or "перевод"


@dataclass(frozen=True)
class TranslateRequest:
    backend: Backend
    text: str
    source: str
    target: str


class FakeTranslate(LoopbackServer):
    """The fake translation server; use as a context manager."""

    thread_name = "fake-translate"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._modes: dict[Backend, Mode] = dict.fromkeys(BACKENDS, "ok")
        self.requests: list[TranslateRequest] = []
        self._unhang: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def google_url(self) -> str:
        """Stands for deep-translator's https://translate.google.com/m."""
        return f"{self.base_url}/google/m"

    @property
    def mymemory_url(self) -> str:
        """Stands for deep-translator's http://api.mymemory.translated.net/get."""
        return f"{self.base_url}/mymemory/get"

    @property
    def libre_url(self) -> str:
        """A LibreTranslate instance's base URL (with the trailing slash deep-translator wants)."""
        return f"{self.base_url}/libre/"

    def set_mode(self, mode: Mode, backend: Backend | None = None) -> None:
        """Make one backend (or all) answer normally, fail, refuse, hang or talk nonsense."""
        with self._lock:
            for name in [backend] if backend else BACKENDS:
                self._modes[name] = mode
        if mode != "hang" and self._loop is not None and self._unhang is not None:
            self._loop.call_soon_threadsafe(self._unhang.set)

    def requests_for(self, backend: Backend | None = None) -> list[TranslateRequest]:
        with self._lock:
            return [r for r in self.requests if backend is None or r.backend == backend]

    def wait_requests(self, count: int, *, timeout: float = 60.0) -> list[TranslateRequest]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} translation requests, got {self.requests}")
            return list(self.requests)

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/google/m", self._google)
        app.router.add_get("/mymemory/get", self._mymemory)
        app.router.add_post("/libre/translate", self._libre)
        return app

    def on_loop_start(self) -> None:
        self._unhang = asyncio.Event()

    async def on_stop(self) -> None:
        assert self._unhang is not None
        self._unhang.set()

    async def _answer(self, backend: Backend, text: str, source: str, target: str) -> str | None:
        """Record the request; None means answer with the failure the backend's mode asks for."""
        with self._lock:
            self.requests.append(TranslateRequest(backend, text, source, target))
            self._changed.notify_all()
            mode = self._modes[backend]
        if mode == "hang":
            assert self._unhang is not None
            self._unhang.clear()
            await self._unhang.wait()
            return None
        if mode == "ok":
            return expected(text, target)
        if mode == "garbage":
            return ""
        return None

    def _failure(self, backend: Backend) -> web.Response:
        with self._lock:
            mode = self._modes[backend]
        if mode == "429":
            return web.Response(status=429, text="Too Many Requests")
        return web.Response(status=500, text="Internal Server Error")

    async def _google(self, request: web.Request) -> web.Response:
        q = request.query
        result = await self._answer("google", q.get("q", ""), q.get("sl", ""), q.get("tl", ""))
        if result is None:
            return self._failure("google")
        if not result:
            page = "<html><body><p>nothing here</p></body></html>"
            return web.Response(text=page, content_type="text/html")
        page = (
            "<!DOCTYPE html><html><head><title>Google Translate</title></head><body>"
            f'<div class="result-container">{html.escape(result)}</div></body></html>'
        )
        return web.Response(text=page, content_type="text/html")

    async def _mymemory(self, request: web.Request) -> web.Response:
        q = request.query
        source, _, target = q.get("langpair", "|").partition("|")
        result = await self._answer("mymemory", q.get("q", ""), source, target)
        if result is None:
            return self._failure("mymemory")
        body = {
            "responseData": {"translatedText": result, "match": 1},
            "quotaFinished": False,
            "responseStatus": 200,
            "matches": [{"id": "1", "segment": q.get("q", ""), "translation": result}],
        }
        return web.json_response(body)

    async def _libre(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        if request.can_read_body:
            form = await request.post()
            q.update({k: str(v) for k, v in form.items()})
        text, source, target = q.get("q", ""), q.get("source", ""), q.get("target", "")
        result = await self._answer("libre", text, source, target)
        if result is None:
            return self._failure("libre")
        return web.json_response({"translatedText": result})
