"""The encoder in bfloat16 on the CPU's AVX-512 BF16 instructions: PyTorch autocast, with the
weights and activations in channels-last layout (what oneDNN's fast convolutions want).

Autocast runs the convolutions in bfloat16 and keeps the rest float32; features come back as
float32, within about 2 % of float32's (int8: about 13 %). Converting the whole encoder to
bfloat16 instead (input scaling and batch norms too) was faster for one photo but changed a third
of the captions of 64 dev photos (autocast: a twelfth of 300), so it is not done.
"""

import copy

import torch

from captioning.encoder import Encoder


def has_bf16() -> bool:
    """Whether this CPU does bfloat16 arithmetic natively (else this engine would be slower)."""
    if not torch.backends.mkldnn.is_available():
        return False
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class Bf16Encoder:
    """photos (B, 3, 224, 224) in [0, 1] -> features (B, 49, 2048) float32."""

    def __init__(self, encoder: Encoder) -> None:
        # a copy: the float32 encoder stays as it was for whoever else holds it
        self.encoder = copy.deepcopy(encoder).to(memory_format=torch.channels_last)

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            features = self.encoder(images.contiguous(memory_format=torch.channels_last))
        return features.float()
