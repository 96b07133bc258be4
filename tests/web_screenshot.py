"""Make the README's screenshot of the web page, with the browser test's own code.

    python -m tests.web_screenshot [--model model_weights/flickr8k] [--out docs/web-page.png]

It serves the page with `captionbot web` (the eager engine), opens it in Debian's headless
Chromium and captions scikit-image's "cameraman" photo (a package's sample photo, not Flickr8k).
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import tempfile
from pathlib import Path

from PIL import Image

from captioning.bundle_config import SHIPPED_BUNDLE
from tests.web_browser import (
    WebProcess,
    caption_in_browser,
    chromium_path,
    launch_chromium,
    open_page,
)

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 1280
# Streamlit scrolls inside its own container, so the window is made as tall as the content.
CONTENT_HEIGHT = "document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight"


def sample_photo() -> bytes:
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.camera()).convert("RGB").save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def screenshot(model: Path, out: Path, locale: str) -> str:
    """Caption the sample photo on the page and save the whole page as a PNG; the caption."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise SystemExit("no chromium: apt-get install chromium")
    with (
        tempfile.TemporaryDirectory() as workdir,
        WebProcess(Path(workdir), model) as web,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright, executable)
        context = browser.new_context(locale=locale, viewport={"width": WIDTH, "height": 900})
        page = context.new_page()
        open_page(page, web.url)
        result = caption_in_browser(page, sample_photo())
        page.set_viewport_size({"width": WIDTH, "height": int(page.evaluate(CONTENT_HEIGHT))})
        page.wait_for_timeout(500)  # let the layout settle at the new size
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()
    return result.caption


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / SHIPPED_BUNDLE)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "web-page.png")
    parser.add_argument("--locale", default="en-US", help="the browser's language")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    caption = screenshot(args.model.resolve(), args.out, args.locale)
    log.info("%s: the page captioned the photo %r", args.out, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
