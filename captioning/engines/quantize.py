"""int8 versions of the exported graphs, made with ONNX Runtime's quantiser.

- The encoder is quantised statically: weights per output channel (int8), activations (uint8)
  with ranges measured on calibration photos; convolutions then run on the CPU's int8 dot-product
  instructions (AVX-512 VNNI here). The ranges are kept in a JSON file (ONNX Runtime's
  calibration cache), so an int8 encoder can be rebuilt anywhere without the photos.
- The decoder step is quantised dynamically: its matrices are int8, its activations are
  quantised on the fly per call, so no calibration is needed.
"""

import contextlib
import json
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
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

log = logging.getLogger(__name__)

PhotoSource = Callable[[], tuple[torch.Tensor, str]]  # -> (N, 3, 224, 224) photos, where from


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


def ranges_fit(ranges: Path, graph: Path) -> bool:
    """Whether the ranges file names only tensors of this graph, and all of its convolutions'
    inputs (another PyTorch version may name the exported graph's tensors differently)."""
    if not ranges.is_file():
        return False
    try:
        named = set(json.loads(ranges.read_text())["data"])
    except (ValueError, KeyError, TypeError):
        return False
    nodes = onnx.load(str(graph), load_external_data=False).graph.node
    tensors = {name for node in nodes for name in [*node.input, *node.output]}
    conv_inputs = {node.input[0] for node in nodes if node.op_type == "Conv"}
    return named <= tensors and conv_inputs <= named


def quantize_encoder(fp32: Path, target: Path, ranges: Path, photos: PhotoSource) -> None:
    """The int8 encoder from `ranges`; where that file is missing it is measured on `photos` and
    written; where it does not fit this graph, `photos` are measured for this build only."""
    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        with _quiet():
            quant_pre_process(str(fp32), str(prepared))  # shape inference and graph clean-up
        reader = None
        if not ranges_fit(ranges, prepared):
            if ranges.exists():
                log.warning("%s does not fit this encoder graph: calibrating again", ranges)
                ranges = Path(scratch) / "ranges.json"
            batch, source = photos()
            log.info("measuring int8 activation ranges on %s into %s", source, ranges)
            reader = PhotoReader(batch)
        else:
            log.info("int8 activation ranges from %s", ranges)
        with _quiet():
            quantize_static(
                str(prepared),
                str(target),
                reader,
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=True,
                calibrate_method=CalibrationMethod.MinMax,
                calibration_cache_path=str(ranges),
            )


def optimise(path: Path) -> None:
    """Rewrite an ONNX file as ONNX Runtime's portable graph optimisations leave it (the
    "extended" level: fusions, QDQ pairs to integer operators; not the layouts that depend on the
    CPU), so that a session loading it has that work done: the int8 encoder's session then holds
    12 MB less, its output the same."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        optimised = Path(scratch) / path.name
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(optimised)
        options.log_severity_level = 3
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        optimised.replace(path)


def quantize_step(fp32: Path, target: Path) -> None:
    with _quiet():
        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
