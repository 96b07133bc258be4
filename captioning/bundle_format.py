"""What identifies a model bundle: its format and its config.json, read without PyTorch (for
`captionbot health`, which checks a bundle without loading it)."""

import json
from pathlib import Path
from typing import Any

FORMAT = "captionbot-bundle/1"


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
