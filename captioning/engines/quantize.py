"""int8 versions of the exported graphs, made with ONNX Runtime's quantiser.

- The encoder is quantised statically: weights per output channel (int8), activations (uint8)
  with ranges measured on calibration photos; convolutions then run on the CPU's int8 dot-product
  instructions (AVX-512 VNNI here).
- The decoder step is quantised dynamically: its matrices are int8, its activations are
  quantised on the fly per call, so no calibration is needed.
"""

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quant_pre_process,
    quantize_dynamic,
    quantize_static,
)

from captioning.engines.onnx_export import ENCODER_INPUTS


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The quantiser logs a line per tensor on the root logger at INFO; keep those out."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


class PhotoReader(CalibrationDataReader):
    """Feeds the calibration photos to the quantiser one at a time."""

    def __init__(self, photos: torch.Tensor) -> None:
        self.photos = photos.numpy().astype(np.float32)
        self.next = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.next >= len(self.photos):
            return None
        self.next += 1
        return {ENCODER_INPUTS[0]: self.photos[self.next - 1 : self.next]}

    def rewind(self) -> None:
        self.next = 0


def quantize_encoder(fp32: Path, target: Path, photos: torch.Tensor) -> None:
    with tempfile.TemporaryDirectory() as scratch, _quiet():
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared))  # shape inference and graph clean-up
        quantize_static(
            str(prepared),
            str(target),
            PhotoReader(photos),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
        )


def quantize_step(fp32: Path, target: Path) -> None:
    with _quiet():
        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
