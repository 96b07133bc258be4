"""Translation: backends in order, a hard timeout, the database cache, and giving up politely."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.caption_format import caption_reply
from bot.settings import Settings
from bot.storage.models import CaptionMode
from bot.translation import TranslationTimeout, Translator, run_in_daemon_thread
from tests.fake_translate import FakeTranslate, expected


async def test_daemon_thread_returns_raises_and_times_out() -> None:
    assert await run_in_daemon_thread(lambda: 42, timeout=5) == 42

    def broken() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await run_in_daemon_thread(broken, timeout=5)

    release = threading.Event()
    with pytest.raises(TranslationTimeout):
        await run_in_daemon_thread(release.wait, timeout=0.05)  # blocks until released
    release.set()


@pytest.fixture
def fake() -> Iterator[FakeTranslate]:
    with FakeTranslate() as server:
        yield server
        server.set_mode("ok")  # let any hanging request finish


def translator(
    fake: FakeTranslate, sessions: sessionmaker[Session], **overrides: object
) -> Translator:
    values: dict[str, object] = {
        "google_translate_url": fake.google_url,
        "mymemory_url": fake.mymemory_url,
        "libretranslate_url": fake.libre_url,
        "translation_timeout_s": 2,
        **overrides,
    }
    return Translator(Settings.model_validate(values), sessions)


async def test_google_first_then_cached(
    fake: FakeTranslate, sessions: sessionmaker[Session]
) -> None:
    service = translator(fake, sessions)
    caption = "a dog runs through the grass"
    assert await service.translate(caption, "ru") == expected(caption)
    assert [r.backend for r in fake.requests_for()] == ["google"]
    assert await translator(fake, sessions).translate(caption, "ru") == expected(caption)
    assert len(fake.requests_for()) == 1  # the second answer came from the database


@pytest.mark.parametrize("failure", ["fail", "429", "garbage", "hang"])
async def test_falls_back_to_mymemory(
    fake: FakeTranslate, sessions: sessionmaker[Session], failure: str
) -> None:
    fake.set_mode(failure, "google")  # type: ignore[arg-type]
    service = translator(fake, sessions, translation_timeout_s=0.5)
    assert await service.translate("two children play", "ru") == expected("two children play")
    assert [r.backend for r in fake.requests_for()] == ["google", "mymemory"]


async def test_libre_backend(fake: FakeTranslate, sessions: sessionmaker[Session]) -> None:
    service = translator(fake, sessions, translation_backends="libre")
    assert await service.translate("a man", "ru") == expected("a man")
    assert [(r.backend, r.source, r.target) for r in fake.requests_for()] == [("libre", "en", "ru")]


async def test_every_backend_failing_gives_none_and_a_note(
    fake: FakeTranslate, sessions: sessionmaker[Session]
) -> None:
    fake.set_mode("fail")
    service = translator(fake, sessions)
    assert await service.translate("a cat", "ru") is None
    reply = caption_reply("a cat", None, CaptionMode.RU, "ru")
    assert reply.splitlines()[0] == "a cat"
    assert "перевод" in reply.lower()
    fake.set_mode("ok")
    assert await service.translate("a cat", "ru") == expected("a cat")  # failures not cached


def test_caption_reply_modes() -> None:
    assert caption_reply("a dog", "собака", CaptionMode.EN, "en") == "a dog"
    assert caption_reply("a dog", "собака", CaptionMode.RU, "en") == "собака"
    assert caption_reply("a dog", "собака", CaptionMode.BOTH, "en") == "a dog\nсобака"
    assert caption_reply("a dog", None, CaptionMode.BOTH, "en").startswith("a dog\n(")
