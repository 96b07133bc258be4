"""`captionbot web`: serve the page (bot/web/page.py) with Streamlit, in this process.

Streamlit is imported only when the page is served, so the rest of the `captionbot` command does
not pay for it.
"""

import argparse
import logging
import math
from pathlib import Path
from typing import Any

from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("page.py")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 for every interface)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )


def address(host: str, port: int) -> str:
    """The page's URL as a person types it (0.0.0.0 is reached at localhost)."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


def streamlit_options(host: str, port: int, max_file_bytes: int) -> dict[str, Any]:
    """Streamlit's settings for the page: no telemetry, no file watching, uploads capped."""
    return {
        "server.address": host,
        "server.port": port,
        "server.headless": True,
        "server.fileWatcherType": "none",
        "server.runOnSave": False,
        # Streamlit counts megabytes; the page checks the exact MAX_FILE_BYTES itself.
        "server.maxUploadSize": max(1, math.ceil(max_file_bytes / (1024 * 1024))),
        "browser.gatherUsageStats": False,
        "client.toolbarMode": "viewer",
        "global.developmentMode": False,
    }


def run(args: argparse.Namespace) -> int:
    """Check the settings, migrate the database (its translation cache), serve the page."""
    from bot.storage.database import upgrade_or_log
    from captioning.bundle_config import BundleError, read_config

    settings = load_settings()
    if settings is None:
        return 2
    try:
        read_config(settings.model_path)
    except BundleError as exc:
        log.error("MODEL_PATH=%s: %s", settings.model_path, exc)
        return 2
    if not upgrade_or_log(settings.database_url):
        return 2
    serve(args.host, args.port, settings)
    return 0


def serve(host: str, port: int, settings: Settings) -> None:
    """Run Streamlit's server until SIGINT/SIGTERM."""
    from streamlit.web import bootstrap

    options = streamlit_options(host, port, settings.max_file_bytes)
    log.info("the web page is at %s", address(host, port))
    bootstrap.load_config_options(options)
    bootstrap.run(str(PAGE), False, [], options)
