"""Write the encoder and the decoder step as ONNX graphs (opset 17) with a dynamic batch axis."""

import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from captioning.decoder import Decoder
from captioning.encoder import GRID, Encoder
from captioning.preprocessing import IMAGE_SIZE

log = logging.getLogger(__name__)

OPSET = 17
ENCODER_INPUTS = ["images"]
ENCODER_OUTPUTS = ["features"]
STEP_INPUTS = ["tokens", "feats", "feats_proj", "h", "c"]
STEP_OUTPUTS = ["logits", "h_next", "c_next", "alpha"]


class _Step(nn.Module):
    """`Decoder.step` as a module's forward, which is what the exporter traces."""

    def __init__(self, decoder: Decoder) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(
        self,
        tokens: torch.Tensor,
        feats: torch.Tensor,
        feats_proj: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.decoder.step(tokens, feats, feats_proj, h, c)


def _export(
    module: nn.Module,
    example: tuple[torch.Tensor, ...],
    path: Path,
    inputs: list[str],
    outputs: list[str],
) -> None:
    dynamic = {name: {0: "batch"} for name in [*inputs, *outputs]}
    with warnings.catch_warnings():
        # the TorchScript-based exporter is deprecated but handles these plain graphs exactly
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module,
            example,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )


def export_encoder(encoder: Encoder, path: Path) -> None:
    example = torch.rand(2, 3, IMAGE_SIZE, IMAGE_SIZE)
    _export(encoder.eval(), (example,), path, ENCODER_INPUTS, ENCODER_OUTPUTS)


def export_step(decoder: Decoder, path: Path) -> None:
    c = decoder.config
    batch, positions = 2, GRID * GRID
    example = (
        torch.zeros(batch, dtype=torch.long),
        torch.rand(batch, positions, c.feature_dim),
        torch.rand(batch, positions, c.attention_dim),
        torch.rand(batch, c.hidden_dim),
        torch.rand(batch, c.hidden_dim),
    )
    # a fresh module is in training mode, and the exporter restores the mode it found, so the
    # wrapper is put in eval mode first: otherwise the decoder would come back with dropout on
    _export(_Step(decoder).eval(), example, path, STEP_INPUTS, STEP_OUTPUTS)
