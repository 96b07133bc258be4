"""The web page in a real browser: `captionbot web` as a subprocess on 127.0.0.1, and Debian's
headless Chromium driven by Playwright (no browser of Playwright's own is downloaded).

Shared by tests/test_web_browser.py and tests/web_screenshot.py (which makes docs/web-page.png).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from bot.bench.bot_process import SCRUBBED_PREFIXES, captionbot_command
from bot.bench.ports import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

# This machine has no internet: nothing in Chromium may try to reach it.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
STARTUP_TIMEOUT = 120.0  # seconds for `captionbot web` to answer its health check
CAPTION_TIMEOUT_MS = 180_000  # the first caption also loads the model; the machine is busy


def chromium_path() -> str | None:
    """Debian's Chromium, if it is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class WebProcess:
    """`captionbot web` serving `bundle` from `workdir` (its database and log live there)."""

    def __init__(
        self,
        workdir: Path,
        bundle: Path,
        env: dict[str, str] | None = None,
        subcommand: str = "web",  # or "start", which serves the page when there is no token
    ) -> None:
        self.workdir = workdir
        self.subcommand = subcommand
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = workdir / "web.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
        self.env.update(
            {
                "MODEL_PATH": str(bundle),
                "DATABASE_URL": f"sqlite:///{workdir / 'web.sqlite3'}",
                "ENGINE": "eager",  # the fast engines are built on first use and tested apart
                "OMP_NUM_THREADS": "1",
                "PYTHONUNBUFFERED": "1",
                **(env or {}),
            }
        )
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WebProcess:
        command = [
            *captionbot_command(),
            self.subcommand,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_healthy()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"captionbot web exited early:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(urljoin(self.url, "_stcore/health"), timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError(f"captionbot web did not start in time:\n{self.log_text()}")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not stop; its exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def launch_chromium(playwright: Playwright, executable: str) -> Browser:
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
    )


@dataclass(frozen=True)
class PageResult:
    caption: str  # the caption's heading as the page shows it
    attention: bytes  # the attention picture, fetched from the page's own image URL


def open_page(page: Page, url: str) -> None:
    """Load the page and wait until its upload box is there (the model loaded first)."""
    page.goto(url)
    page.locator('input[type="file"]').wait_for(state="attached", timeout=CAPTION_TIMEOUT_MS)


def upload(page: Page, photo: bytes, name: str = "photo.jpg", mime: str = "image/jpeg") -> None:
    """Give the page a photo, as a visitor choosing a file does (nothing is written to disk)."""
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": photo}]
    )


def caption_in_browser(page: Page, photo: bytes) -> PageResult:
    """Upload `photo` to the open page, press the describe button, read what comes back."""
    upload(page, photo)
    button = page.locator(".st-key-describe button")
    button.wait_for(state="visible", timeout=CAPTION_TIMEOUT_MS)
    button.click()
    heading = page.locator(".st-key-caption h3").first
    heading.wait_for(state="visible", timeout=CAPTION_TIMEOUT_MS)
    picture = page.locator(".st-key-attention img").first
    picture.wait_for(state="visible", timeout=CAPTION_TIMEOUT_MS)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
    )
    source = picture.get_attribute("src") or ""
    response = page.request.get(urljoin(page.url, source))
    assert response.ok, f"attention picture {source}: HTTP {response.status}"
    return PageResult(heading.inner_text().strip(), response.body())
