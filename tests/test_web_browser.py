"""The web page in Debian's headless Chromium, served by a real `captionbot web` process.

Skips where Chromium (`apt-get install chromium`) or Playwright is missing; .ci/run installs both.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from tests.fake_translate import FakeTranslate, expected
from tests.images import jpeg
from tests.web_browser import (
    CAPTION_TIMEOUT_MS,
    WebProcess,
    caption_in_browser,
    chromium_path,
    launch_chromium,
    open_page,
    upload,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
CHROMIUM = chromium_path()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, tiny_bundle: Path) -> Iterator[WebProcess]:
    """One `captionbot web` for this module, on the tiny model and the fake translator."""
    with FakeTranslate() as translate:
        env = {
            "GOOGLE_TRANSLATE_URL": translate.google_url,
            "MYMEMORY_URL": translate.mymemory_url,
            "TRANSLATION_TIMEOUT_S": "3",
        }
        server = WebProcess(tmp_path_factory.mktemp("web"), tiny_bundle, env)
        with server:
            yield server
        print(server.log_text())


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright, CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1000, "height": 1400})
    yield context.new_page()
    context.close()


def vocabulary(bundle: Path) -> set[str]:
    return {word for word in json.loads((bundle / "vocab.json").read_text()) if word[0] != "<"}


def test_upload_a_photo_read_the_caption_and_the_attention_picture(
    web: WebProcess, page: Page, tiny_bundle: Path
) -> None:
    open_page(page, web.url)
    result = caption_in_browser(page, jpeg(7))
    words = result.caption.split()
    assert words and set(words) <= vocabulary(tiny_bundle)
    russian = page.get_by_text(f"In Russian: {expected(result.caption)}")
    russian.wait_for(state="visible", timeout=CAPTION_TIMEOUT_MS)
    grid = Image.open(io.BytesIO(result.attention))
    assert grid.format == "JPEG"
    tiles = 1 + len(words)  # the photo, then one tile per word, four to a row
    assert grid.size == (min(4, tiles) * 228 + 4, -(-tiles // 4) * 258 + 4)


def test_two_visitors_at_once_both_get_captions(web: WebProcess, browser: Browser) -> None:
    contexts = [browser.new_context(locale="en-US") for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    for seed, visitor in enumerate(pages):
        open_page(visitor, web.url)
        upload(visitor, jpeg(10 + seed))
        visitor.locator(".st-key-describe button").wait_for(timeout=CAPTION_TIMEOUT_MS)
    for visitor in pages:  # both press the button before either caption is read
        visitor.locator(".st-key-describe button").click()
    for visitor in pages:
        heading = visitor.locator(".st-key-caption h3").first
        heading.wait_for(state="visible", timeout=CAPTION_TIMEOUT_MS)
        assert heading.inner_text().strip()
    for context in contexts:
        context.close()
    assert web.log_text().count("web page: model") == 1  # loaded once for everyone


def test_a_russian_browser_gets_the_russian_page(web: WebProcess, browser: Browser) -> None:
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    open_page(page, web.url)
    upload(page, jpeg(3))
    button = page.locator(".st-key-describe button")
    button.wait_for(timeout=CAPTION_TIMEOUT_MS)
    assert button.inner_text().strip() == "Описать изображение"
    context.close()


def test_a_text_file_gets_a_message_and_the_page_lives_on(web: WebProcess, page: Page) -> None:
    open_page(page, web.url)
    upload(page, b"not a photo at all", name="notes.jpg")
    message = page.get_by_text("This file is not a photo the model can read")
    message.wait_for(state="visible", timeout=CAPTION_TIMEOUT_MS)
    assert page.locator(".st-key-describe button").count() == 0
    result = caption_in_browser(page, jpeg(8))  # the same page still captions a real photo
    assert result.caption
