"""`captionbot web` and `captionbot start` (what `make run` runs), and the page's texts."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.bench.bot_process import SCRUBBED_PREFIXES
from bot.texts import megabytes, translations
from bot.web.command import address, streamlit_options
from bot.web.texts import TEXTS, doubt_reason, language_for, plain
from tests.web_browser import WebProcess


def captionbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    clean.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **env})
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=clean,
    )


def test_web_refuses_a_missing_model(tmp_path: Path) -> None:
    run = captionbot(tmp_path, "web", MODEL_PATH=str(tmp_path / "nowhere"))
    assert run.returncode == 2
    assert "MODEL_PATH" in run.stderr and "config.json" in run.stderr


def test_web_refuses_bad_settings(tmp_path: Path) -> None:
    run = captionbot(tmp_path, "web", MAX_FILE_BYTES="lots")
    assert run.returncode == 2
    assert "MAX_FILE_BYTES='lots'" in run.stderr


def test_start_without_a_token_says_how_to_get_one_and_turns_to_the_page(tmp_path: Path) -> None:
    run = captionbot(tmp_path, "start", "--port", "8599", MODEL_PATH=str(tmp_path / "nowhere"))
    assert "TELEGRAM_BOT_TOKEN is not set" in run.stderr
    assert "http://127.0.0.1:8599" in run.stderr and "@BotFather" in run.stderr
    assert run.returncode == 2 and "config.json" in run.stderr  # then the page's own check


def test_start_with_a_token_starts_the_bot(tmp_path: Path) -> None:
    run = captionbot(
        tmp_path, "start", TELEGRAM_BOT_TOKEN="1:abc", MODEL_PATH=str(tmp_path / "nowhere")
    )
    assert run.returncode == 2
    assert "cannot load the caption model" in run.stderr  # the bot's start-up, not the page's
    assert "web page" not in run.stderr


def test_start_without_a_token_serves_the_page(tmp_path: Path, tiny_bundle: Path) -> None:
    server = WebProcess(tmp_path, tiny_bundle, subcommand="start")
    with server:
        with urllib.request.urlopen(server.url, timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        assert "TELEGRAM_BOT_TOKEN is not set" in server.log_text()
        assert server.url.rstrip("/") in server.log_text()
    assert server.stop() == 0  # SIGTERM stops it cleanly


def test_streamlit_options_cap_uploads_and_keep_quiet() -> None:
    options = streamlit_options("0.0.0.0", 9000, 20 * 1024 * 1024)
    assert options["server.address"] == "0.0.0.0" and options["server.port"] == 9000
    assert options["server.maxUploadSize"] == 20
    assert streamlit_options("h", 1, 20 * 1024 * 1024 + 1)["server.maxUploadSize"] == 21
    assert streamlit_options("h", 1, 10)["server.maxUploadSize"] == 1
    assert options["browser.gatherUsageStats"] is False
    assert options["server.fileWatcherType"] == "none"


def test_address_for_people() -> None:
    assert address("127.0.0.1", 8501) == "http://127.0.0.1:8501"
    assert address("0.0.0.0", 8501) == "http://localhost:8501"


def test_every_text_is_in_both_languages() -> None:
    for key, english in TEXTS.items():
        assert english.strip(), key
        russian = translations("ru").gettext(english)
        assert russian.strip() and russian != english, key  # the catalogue has it


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("ru-RU", "ru"),
        ("ru", "ru"),
        ("RU_ru", "ru"),
        ("en-US", "en"),
        ("uk-UA", "en"),
        (None, "en"),
    ],
)
def test_language_for_a_browser_locale(locale: str | None, language: str) -> None:
    assert language_for(locale) == language


def test_sizes_and_doubts_in_words() -> None:
    assert megabytes(20 * 1024 * 1024, "en") == "20 MB"
    assert megabytes(1536 * 1024, "ru") == "1,5 МБ"
    assert doubt_reason("en", "text").startswith("the photo seems to be mostly text")
    assert doubt_reason("en", "blurry") == "the model is unsure (blurry)."


def test_plain_text_is_not_read_as_markdown() -> None:
    assert plain("a dog runs on the grass") == "a dog runs on the grass"
    assert plain("![x](http://e/x.png) *b* $1 <i>") == (
        r"\!\[x\]\(http://e/x\.png\) \*b\* \$1 \<i\>"
    )
