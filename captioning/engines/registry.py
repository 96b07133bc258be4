"""Engines by name: build (or find in the cache) what each one needs, and put it together."""

import hashlib
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from captioning.decoder import Decoder
from captioning.encoder import Encoder
from captioning.engines import cache, calibration
from captioning.engines.base import Engine, StepDecoder
from captioning.engines.bf16 import Bf16Encoder, has_bf16
from captioning.engines.eager import eager_engine
from captioning.engines.names import ENGINES, EngineName

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


class EngineError(ValueError):
    """An engine name that is not one of ENGINES."""


def load_engine(
    name: str,
    bundle: Path,
    encoder: Encoder,
    decoder: Decoder,
    threads: int | None = None,
    calibration_data: Path | None = calibration.DEFAULT_DATA,
    calibration_count: int = calibration.COUNT,
) -> Engine:
    """The engine `name` for this bundle's model, building its files if they are not cached.

    `threads`: per-operator threads for ONNX Runtime (default: torch's setting).
    `calibration_data`, `calibration_count`: the photos an int8 encoder is calibrated on when
    the encoder's int8 ranges file (see `calibration.ranges_file`) is not there or does not fit
    (Flickr8k training photos there, or generated photos)."""
    if name not in RECIPES:
        raise EngineError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    if name == "eager":
        return eager_engine(encoder, decoder)
    threads = threads or torch.get_num_threads()
    encoder_kind, step_kind = RECIPES[name]
    folder = cache.cache_folder(bundle)
    encode: Callable[[torch.Tensor], torch.Tensor]
    if encoder_kind == "bf16" and not has_bf16():
        log.warning("this CPU has no native bfloat16 (AVX-512 BF16): using the onnx engine")
        return load_engine("onnx", bundle, encoder, decoder, threads)
    if encoder_kind == "bf16":
        encode = Bf16Encoder(encoder)
    else:
        from captioning.engines.onnx_runtime import OrtEncoder  # onnxruntime loads if used

        photos = partial(calibration.calibration_batch, calibration_data, calibration_count)
        ranges = calibration.ranges_file(bundle)
        path = _encoder_file(folder, encoder, encoder_kind, ranges, photos)
        encode = OrtEncoder(str(path), threads)
    return Engine(name, encode, _step_decoder(folder, decoder, step_kind, threads))


def _encoder_file(
    folder: Path, encoder: Encoder, kind: str, ranges: Path, photos: "quantize.PhotoSource"
) -> Path:
    from captioning.engines import onnx_export, quantize

    stamp = cache.fingerprint(encoder, opset=onnx_export.OPSET)
    fp32 = cache.cached(
        folder, "encoder.onnx", stamp, lambda path: onnx_export.export_encoder(encoder, path)
    )
    if kind == "onnx":
        return fp32

    if ranges.is_file():
        source = f"{ranges.name} sha256 {hashlib.sha256(ranges.read_bytes()).hexdigest()}"
    else:  # measured on the photos at hand when building, and kept beside the int8 file
        source, ranges = "measured at build time", folder / "encoder-int8.ranges.json"
    return cache.cached(
        folder,
        "encoder-int8.onnx",
        {**stamp, "int8": "static, per channel, minmax", "ranges": source},
        lambda path: quantize.quantize_encoder(fp32, path, ranges, photos),
    )


def _step_decoder(folder: Path, decoder: Decoder, kind: str, threads: int) -> StepDecoder:
    if kind == "torch":
        return decoder
    from captioning.engines import onnx_export, quantize
    from captioning.engines.onnx_runtime import OrtStepDecoder

    stamp = cache.fingerprint(decoder, opset=onnx_export.OPSET)
    fp32 = cache.cached(
        folder, "step.onnx", stamp, lambda path: onnx_export.export_step(decoder, path)
    )
    if kind == "onnx":
        return OrtStepDecoder(str(fp32), decoder, threads)
    int8 = cache.cached(
        folder,
        "step-int8.onnx",
        {**stamp, "int8": "dynamic, per channel"},
        lambda path: quantize.quantize_step(fp32, path),
    )
    return OrtStepDecoder(str(int8), decoder, threads)
