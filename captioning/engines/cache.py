"""Built model files (ONNX graphs, int8 models) cached in the bundle's `onnx/` folder.

Each file has a `.json` beside it with the fingerprint it was built from (the weights, the recipe,
the library versions); a file whose fingerprint no longer matches is built again. Files are
written under a temporary name and renamed, so two processes starting at once never see half a
file. Files already there are used from a read-only bundle too (a Docker image's, built in its
build stage); only a file that must be built goes to a temporary folder for this process then.
"""

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

FOLDER = "onnx"


def fingerprint(module: torch.nn.Module, **recipe: Any) -> dict[str, Any]:
    """What a built file depends on: the module's weights and how it was built."""
    return fingerprint_tensors(module.state_dict().items(), **recipe)


def fingerprint_tensors(state: Iterable[tuple[str, torch.Tensor]], **recipe: Any) -> dict[str, Any]:
    """`fingerprint` of a module whose state dict is `state` (name, tensor), which may come one
    tensor at a time from a weights file, without building the module."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state, key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return {"weights_sha256": digest.hexdigest(), "torch": torch.__version__, **recipe}


def cache_folder(bundle: Path) -> Path:
    """The bundle's `onnx/` folder, made where it can be (`cached` looks there first)."""
    folder = bundle / FOLDER
    with contextlib.suppress(OSError):
        folder.mkdir(exist_ok=True)
    return folder


_fallbacks: dict[Path, Path] = {}  # read-only cache folder -> this process's temporary one


def _build_folder(folder: Path) -> Path:
    """Where files for `folder` are built: itself if writable, else a temporary folder."""
    if folder.is_dir() and os.access(folder, os.W_OK):
        return folder
    if folder not in _fallbacks:
        _fallbacks[folder] = Path(tempfile.mkdtemp(prefix="captionbot-onnx-"))
        log.warning("%s is not writable; building engine files in %s", folder, _fallbacks[folder])
    return _fallbacks[folder]


def _fresh(folder: Path, name: str, stamp: dict[str, Any]) -> Path | None:
    target, meta = folder / name, folder / f"{name}.json"
    if target.exists() and meta.exists():
        try:
            if json.loads(meta.read_text()) == stamp:
                return target
        except ValueError:
            pass
    return None


def cached(folder: Path, name: str, stamp: dict[str, Any], build: Callable[[Path], None]) -> Path:
    """`folder/name`, built by `build(path)` unless it is there with the same fingerprint (or
    was built by this process in the temporary folder that stands in for a read-only one)."""
    found = _fresh(folder, name, stamp)
    if found is None and folder in _fallbacks:
        found = _fresh(_fallbacks[folder], name, stamp)
    if found is not None:
        return found
    folder = _build_folder(folder)
    target, meta = folder / name, folder / f"{name}.json"
    log.info("building %s (first use of this engine with these weights)", target)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=folder, prefix=f".{name}-") as scratch:
        partial = Path(scratch) / name
        build(partial)
        partial.replace(target)
    meta.write_text(json.dumps(stamp, indent=2) + "\n")
    log.info("built %s in %.0f s", target, time.monotonic() - started)
    return target
