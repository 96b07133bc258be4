"""Inference engines: how the encoder and the decoder step are run.

| engine      | encoder                          | decoder step                   |
|-------------|----------------------------------|--------------------------------|
| eager       | PyTorch, float32 (the baseline)  | PyTorch, float32               |
| onnx        | ONNX Runtime, float32            | ONNX Runtime, float32          |
| bf16        | PyTorch, bfloat16 (AVX-512 BF16) | ONNX Runtime, float32          |
| int8        | ONNX Runtime, int8 (calibrated)  | ONNX Runtime, int8 (dynamic)   |

The ONNX and int8 files are built on first use and cached in the bundle's `onnx/` folder
(see `cache.py`); `Captioner.from_pretrained(path, engine=NAME)` picks one (`registry.py`).
"""
