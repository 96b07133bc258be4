"""Built model files (ONNX graphs, int8 models) cached in the bundle's `onnx/` folder.

Each file has a `.json` beside it with the fingerprint it was built from (the weights, the recipe,
the library versions); a file whose fingerprint no longer matches is built again. Files are
written under a temporary name and renamed, so two processes starting at once never see half a
file. When the bundle folder is read-only, the files go to a temporary folder for this process.
"""

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

FOLDER = "onnx"


def fingerprint(module: torch.nn.Module, **recipe: Any) -> dict[str, Any]:
    """What a built file depends on: the module's weights and how it was built."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return {"weights_sha256": digest.hexdigest(), "torch": torch.__version__, **recipe}


def cache_folder(bundle: Path) -> Path:
    folder = bundle / FOLDER
    try:
        folder.mkdir(exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    fallback = Path(tempfile.mkdtemp(prefix="captionbot-onnx-"))
    log.warning("%s is not writable; building engine files in %s", folder, fallback)
    return fallback


def cached(folder: Path, name: str, stamp: dict[str, Any], build: Callable[[Path], None]) -> Path:
    """`folder/name`, built by `build(path)` unless it is there with the same fingerprint."""
    target = folder / name
    meta = folder / f"{name}.json"
    if target.exists() and meta.exists():
        try:
            if json.loads(meta.read_text()) == stamp:
                return target
        except ValueError:
            pass
    log.info("building %s (first use of this engine with these weights)", target)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=folder, prefix=f".{name}-") as scratch:
        partial = Path(scratch) / name
        build(partial)
        partial.replace(target)
    meta.write_text(json.dumps(stamp, indent=2) + "\n")
    log.info("built %s in %.0f s", target, time.monotonic() - started)
    return target
