"""Where the shipped model bundle lives and how its config.json is read: what needs no torch
(`captionbot health` reads it every minute). The rest of the format is in bundle.py."""

import json
from pathlib import Path
from typing import Any

FORMAT = "captionbot-bundle/1"
# The shipped bundle, relative to the working directory: the default of every command and setting.
SHIPPED_BUNDLE = Path("model_weights/flickr8k")


class BundleError(RuntimeError):
    """The folder is not a usable model bundle."""


def read_config(path: Path) -> dict[str, Any]:
    try:
        config: dict[str, Any] = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path} has no readable config.json: {exc}") from exc
    if config.get("format") != FORMAT:
        raise BundleError(f"{path}: unknown bundle format {config.get('format')!r}")
    return config
