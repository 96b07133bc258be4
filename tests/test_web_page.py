"""The web page's logic through Streamlit's AppTest: caption, languages, bad uploads, one model."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from PIL import Image
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from bot.web import logic
from bot.web.command import PAGE
from captioning.bundle_config import SHIPPED_BUNDLE
from tests.fake_translate import FakeTranslate, expected
from tests.images import jpeg, truncated_jpeg

TIMEOUT = 120  # seconds per script run: the first one loads the model on a busy machine
SHIPPED = Path(__file__).resolve().parents[1] / SHIPPED_BUNDLE


@pytest.fixture
def page_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    tiny_bundle: Path,
    db_engine: Engine,
    fake_translate: FakeTranslate,
) -> Iterator[None]:
    """The page's settings: the tiny model, a migrated database, the fake translation server."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    settings = {
        "MODEL_PATH": str(tiny_bundle),
        "ENGINE": "eager",
        "DATABASE_URL": db_engine.url.render_as_string(hide_password=False),
        "GOOGLE_TRANSLATE_URL": fake_translate.google_url,
        "MYMEMORY_URL": fake_translate.mymemory_url,
        "TRANSLATION_TIMEOUT_S": "3",
        "BEAM_SIZE": "3",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAX_FILE_BYTES", raising=False)
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def visit(locale: str | None = None) -> AppTest:
    app = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    if locale:
        app.context = {"locale": locale}
    return app.run()


def markdown(app: AppTest) -> list[str]:
    return [element.value for element in app.markdown]


def headline(app: AppTest) -> str:
    """The caption as the page shows it: the one level-3 heading."""
    (line,) = [text for text in markdown(app) if text.startswith("### ")]
    return line.removeprefix("### ")


def describe(app: AppTest, photo: bytes, name: str = "photo.jpg") -> AppTest:
    app.file_uploader(key="upload").set_value((name, photo, "image/jpeg")).run()
    assert not app.exception, app.exception
    return app.button(key="describe").click().run()


def vocabulary(bundle: Path) -> set[str]:
    return {word for word in json.loads((bundle / "vocab.json").read_text()) if word[0] != "<"}


def test_caption_with_translation_other_beams_and_attention(
    page_env: None, tiny_bundle: Path, fake_translate: FakeTranslate
) -> None:
    app = visit()
    assert not app.get("button")  # nothing to describe
    describe(app, jpeg(3))
    assert not app.exception and not app.error
    caption = headline(app)
    assert caption and set(caption.split()) <= vocabulary(tiny_bundle)
    assert f"In Russian: {expected(caption)}" in markdown(app)
    description = app.session_state["description"]
    assert isinstance(description, logic.Description) and description.caption == caption
    assert 1 <= len(description.alternatives) <= 2  # beam 3: the best and up to two others
    for other, score in description.alternatives:
        assert f"`{score:.2f}` {other}" in markdown(app)
    (picture,) = app.image
    assert picture.captions and "bright where the model looked" in picture.captions[0]
    grid = Image.open(io.BytesIO(description.attention_jpeg))
    tiles = 1 + len(caption.split())  # the photo, then one per word, four to a row
    rows = -(-tiles // 4)
    assert grid.size == (min(4, tiles) * 228 + 4, rows * 258 + 4)
    assert [r.backend for r in fake_translate.requests_for()] == ["google"]


def test_a_translation_is_shown_as_text_not_markdown(
    page_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logic, "translate", lambda _translator, _caption: "![x](http://e/x.png)")
    app = describe(visit(), jpeg(3))
    assert r"In Russian: \!\[x\]\(http://e/x\.png\)" in markdown(app)


def test_camera_photo_is_described(page_env: None) -> None:
    app = visit()
    app.radio(key="source").set_value("camera").run()
    assert not app.file_uploader  # the camera replaces the upload box
    app.camera_input(key="camera").set_value(("shot.jpg", jpeg(5), "image/jpeg")).run()
    app.button(key="describe").click().run()
    assert not app.exception and not app.error
    assert headline(app)


def test_language_switch_keeps_the_description(
    page_env: None, fake_translate: FakeTranslate
) -> None:
    app = describe(visit(), jpeg(1))
    caption = headline(app)
    assert app.button(key="describe").label == "Describe the image"
    app.radio(key="language").set_value("ru").run()
    assert app.button(key="describe").label == "Описать изображение"
    assert app.title[0].value == "Что на этой фотографии?"
    assert headline(app) == expected(caption)  # the Russian caption leads in Russian
    assert f"По-английски: {caption}" in markdown(app)
    assert "**Другие подписи**" in markdown(app)
    assert len(fake_translate.requests_for()) == 1  # switching did not caption or translate again


def test_browser_locale_chooses_the_first_language(page_env: None) -> None:
    assert visit("ru-RU").radio(key="language").value == "ru"
    assert visit("en-GB").radio(key="language").value == "en"
    assert visit("de-DE").radio(key="language").value == "en"


@pytest.mark.parametrize(
    ("name", "data"),
    [("notes.jpg", b"just some text, not a photo"), ("cut.jpg", truncated_jpeg(2)), ("e.png", b"")],
)
def test_a_file_that_is_not_a_photo_gets_a_message(page_env: None, name: str, data: bytes) -> None:
    app = visit()
    app.file_uploader(key="upload").set_value((name, data, "image/jpeg")).run()
    assert not app.exception
    (error,) = app.error
    assert "not a photo the model can read" in error.value
    assert not app.get("button")
    app.radio(key="language").set_value("ru").run()
    assert "не фотография" in app.error[0].value


def test_a_file_over_max_file_bytes_gets_a_message(
    page_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_FILE_BYTES", "4096")
    big = jpeg(0, size=(800, 600))
    assert len(big) > 4096
    app = visit()
    app.file_uploader(key="upload").set_value(("big.jpg", big, "image/jpeg")).run()
    assert not app.exception
    (error,) = app.error
    assert "more than the" in error.value and "accepts" in error.value
    assert not app.get("button")
    assert "description" not in app.session_state


def test_the_model_loads_once_for_every_visitor(
    page_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[object] = []
    real = logic.load_resources

    def counting(settings: Any) -> logic.Resources:
        loads.append(settings)
        return real(settings)

    monkeypatch.setattr(logic, "load_resources", counting)
    first, second = visit(), visit()
    describe(first, jpeg(1))
    describe(second, jpeg(2))
    assert headline(first) and headline(second)
    assert first.session_state["description"].digest != second.session_state["description"].digest
    assert len(loads) == 1


@dataclass(frozen=True)
class GroundedResult:
    """A caption result with the grounded-captions fields, whether CaptionResult has them yet
    or not (the page reads them with getattr)."""

    caption: str
    score: float
    words: list[str]
    alternatives: list[tuple[str, float]]
    attention: Any
    tags: list[tuple[str, float]] = field(default_factory=list)
    doubt: str | None = None


def ground(
    monkeypatch: pytest.MonkeyPatch, tags: list[tuple[str, float]], doubt: str | None
) -> None:
    """Make the page's captions carry these tags and this doubt."""
    real = logic.caption_photo

    def grounded(resources: logic.Resources, image: Image.Image) -> GroundedResult:
        r = real(resources, image)
        return GroundedResult(r.caption, r.score, r.words, r.alternatives, r.attention, tags, doubt)

    monkeypatch.setattr(logic, "caption_photo", grounded)


def test_tags_and_a_guess_are_shown(page_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ground(monkeypatch, [("espresso", 0.91), ("cup", 0.05)], "unfamiliar")
    app = describe(visit(), jpeg(4))
    assert "espresso (91%), cup (5%)" in markdown(app)
    (notice,) = app.warning
    assert notice.value.startswith("This caption is a guess: the photo is unlike")
    app.radio(key="language").set_value("ru").run()
    assert app.warning[0].value.startswith("Эта подпись — догадка")
    assert "**Что узнал классификатор**" in markdown(app)


def test_no_notice_for_a_confident_caption(page_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ground(monkeypatch, [], None)
    app = describe(visit(), jpeg(6))
    assert headline(app) and not app.warning
    assert not any(text.startswith("**What the classifier") for text in markdown(app))


@dataclass(frozen=True)
class PlainResult:
    """A caption result without the grounded-captions fields (no tags, no doubt)."""

    caption: str
    score: float
    words: list[str]
    alternatives: list[tuple[str, float]]
    attention: Any


def test_results_without_the_grounded_fields_still_show(
    page_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Captions from a result with no tags and no doubt at all: the page shows them."""
    real = logic.caption_photo

    def plain(resources: logic.Resources, image: Image.Image) -> PlainResult:
        r = real(resources, image)
        return PlainResult(r.caption, r.score, r.words, r.alternatives, r.attention)

    monkeypatch.setattr(logic, "caption_photo", plain)
    app = describe(visit(), jpeg(9))
    assert headline(app) and not app.exception and not app.error and not app.warning
    assert not any(text.startswith("**What the classifier") for text in markdown(app))


def test_model_card_quotes_the_bundle(page_env: None) -> None:
    app = visit()
    text = " ".join(markdown(app))
    assert "Trained on: none: random weights for tests." in text
    assert "no recorded test scores" in text
    assert "invents people" in text


def test_model_card_of_the_shipped_model() -> None:
    card = logic.model_card(SHIPPED)
    assert card.data.startswith("Flickr8k")
    assert card.bleu4 is not None and round(card.bleu4, 3) == 0.223
    assert card.meteor is not None and round(card.meteor, 3) == 0.218


def test_a_missing_model_is_said_on_the_page(
    page_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "nowhere"))
    app = visit()
    assert not app.exception
    (error,) = app.error
    assert error.value.startswith("The model is not available") and "nowhere" not in error.value


def test_a_bad_setting_shows_visitors_no_secret(
    page_env: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://bot:hunter2@db/captionbot")
    monkeypatch.setenv("BEAM_SIZE", "many")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:AAH-secret-token-value")
    with caplog.at_level(logging.ERROR):
        app = visit()
    (error,) = app.error
    assert error.value.startswith("The model is not available")
    for shown in (error.value, caplog.text):
        assert "hunter2" not in shown and "secret-token-value" not in shown
    assert "BEAM_SIZE" in caplog.text  # the log names what is wrong
