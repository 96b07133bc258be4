"""Engines by name: build (or find in the cache) what each one needs, and put it together."""

import hashlib
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from captioning.decoder import Decoder
from captioning.encoder import Encoder, trunk_tensors
from captioning.engines import cache, calibration
from captioning.engines.base import Engine, StepDecoder
from captioning.engines.bf16 import Bf16Encoder, has_bf16
from captioning.engines.eager import eager_engine
from captioning.engines.names import ENGINES, EngineName
from captioning.engines.onnx_export import OPSET

if TYPE_CHECKING:
    from captioning.engines import quantize

log = logging.getLogger(__name__)

# name -> (how the encoder runs, how the decoder step runs)
RECIPES: dict[EngineName, tuple[str, str]] = {
    "eager": ("torch", "torch"),
    "onnx": ("onnx", "onnx"),
    "bf16": ("bf16", "onnx"),
    "int8": ("int8", "int8"),
}
assert tuple(RECIPES) == ENGINES, "every engine name has a recipe"


def _optimised() -> dict[str, str]:
    """How the int8 files are left after `quantize.optimise` (the version of ONNX Runtime that
    wrote them is part of it: its fused operators are its own)."""
    from importlib.metadata import version

    return {"optimised": f"onnxruntime {version('onnxruntime')}, extended"}


_OPTIMISED = _optimised()


class EngineError(ValueError):
    """An engine name that is not one of ENGINES."""


def load_engine(
    name: str,
    bundle: Path,
    encoder: Encoder | Path,
    decoder: Decoder,
    threads: int | None = None,
    calibration_data: Path | None = calibration.DEFAULT_DATA,
    calibration_count: int = calibration.COUNT,
) -> Engine:
    """The engine `name` for this bundle's model, building its files if they are not cached.

    `encoder`: the float32 encoder, or its weights file: then it is built only where an engine
    needs it (eager, bf16) or must export it (an ONNX file not yet cached), so an ONNX Runtime
    engine whose files are there never holds the float32 encoder.
    `threads`: per-operator threads for ONNX Runtime (default: torch's setting).
    `calibration_data`, `calibration_count`: the photos an int8 encoder is calibrated on when
    the encoder's int8 ranges file (see `calibration.ranges_file`) is not there or does not fit
    (Flickr8k training photos there, or generated photos)."""
    if name not in RECIPES:
        raise EngineError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    source = _EncoderSource(encoder)
    if name == "eager":
        return eager_engine(source.module(), decoder)
    threads = threads or torch.get_num_threads()
    encoder_kind, step_kind = RECIPES[name]
    folder = cache.cache_folder(bundle)
    encode: Callable[[torch.Tensor], torch.Tensor]
    if encoder_kind == "bf16" and not has_bf16():
        log.warning("this CPU has no native bfloat16 (AVX-512 BF16): using the onnx engine")
        return load_engine("onnx", bundle, encoder, decoder, threads)
    if encoder_kind == "bf16":
        encode = Bf16Encoder(source.module())
    else:
        from captioning.engines.onnx_runtime import OrtEncoder  # onnxruntime loads if used

        photos = partial(calibration.calibration_batch, calibration_data, calibration_count)
        ranges = calibration.ranges_file(bundle)
        path = _encoder_file(folder, source, encoder_kind, ranges, photos)
        encode = OrtEncoder(str(path), threads)
    return Engine(name, encode, _step_decoder(folder, decoder, step_kind, threads))


class _EncoderSource:
    """The float32 encoder, built from its weights file at most once and only if asked for."""

    def __init__(self, encoder: Encoder | Path) -> None:
        self.encoder = encoder if isinstance(encoder, Encoder) else None
        self.weights = encoder if isinstance(encoder, Path) else None

    def module(self) -> Encoder:
        if self.encoder is None:
            assert self.weights is not None
            self.encoder = Encoder.from_file(self.weights)
        return self.encoder

    def fingerprint(self, **recipe: Any) -> dict[str, Any]:
        if self.encoder is None:
            assert self.weights is not None
            return cache.fingerprint_tensors(trunk_tensors(self.weights), **recipe)
        return cache.fingerprint(self.encoder, **recipe)


def _encoder_file(
    folder: Path,
    source: _EncoderSource,
    kind: str,
    ranges: Path,
    photos: "quantize.PhotoSource",
) -> Path:
    stamp = source.fingerprint(opset=OPSET)

    def fp32() -> Path:
        from captioning.engines.onnx_export import export_encoder

        return cache.cached(
            folder, "encoder.onnx", stamp, lambda path: export_encoder(source.module(), path)
        )

    if kind == "onnx":
        return fp32()

    if ranges.is_file():
        recorded = f"{ranges.name} sha256 {hashlib.sha256(ranges.read_bytes()).hexdigest()}"
    else:  # measured on the photos at hand when building, and kept beside the int8 file
        recorded, ranges = "measured at build time", folder / "encoder-int8.ranges.json"

    def int8(path: Path) -> None:  # from the float32 graph, built first if need be
        from captioning.engines import quantize

        quantize.quantize_encoder(fp32(), path, ranges, photos)
        quantize.optimise(path)

    return cache.cached(
        folder,
        "encoder-int8.onnx",
        {**stamp, "int8": "static, per channel, minmax", "ranges": recorded, **_OPTIMISED},
        int8,
    )


def _step_decoder(folder: Path, decoder: Decoder, kind: str, threads: int) -> StepDecoder:
    if kind == "torch":
        return decoder
    from captioning.engines.onnx_runtime import OrtStepDecoder

    stamp = cache.fingerprint(decoder, opset=OPSET)

    def fp32() -> Path:
        from captioning.engines.onnx_export import export_step

        return cache.cached(folder, "step.onnx", stamp, lambda path: export_step(decoder, path))

    if kind == "onnx":
        return OrtStepDecoder(str(fp32()), decoder, threads)

    def int8(path: Path) -> None:
        from captioning.engines import quantize

        quantize.quantize_step(fp32(), path)
        quantize.optimise(path)

    recipe = {"int8": "dynamic, per channel", **_OPTIMISED}
    path = cache.cached(folder, "step-int8.onnx", {**stamp, **recipe}, int8)
    return OrtStepDecoder(str(path), decoder, threads)
