"""What an engine is: how the encoder runs on a batch of photos and the decoder one word at a time.

Beam search only needs the decoder's vocabulary size, its initial state and its step, so an engine
may run either part anywhere (PyTorch, ONNX Runtime, int8) as long as the shapes match `Decoder`'s.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from captioning.decoder import DecoderConfig

State = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
StepOutput = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


class StepDecoder(Protocol):
    """The part of `Decoder` beam search uses."""

    @property
    def config(self) -> DecoderConfig: ...

    def init_state(self, feats: torch.Tensor) -> State:
        """feats (B, L, D) -> h (B, H), c (B, H), feats_proj (B, L, A)"""
        ...

    def step(
        self,
        tokens: torch.Tensor,
        feats: torch.Tensor,
        feats_proj: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
    ) -> StepOutput:
        """tokens (B,) -> logits (B, V), h (B, H), c (B, H), alpha (B, L)"""
        ...


@dataclass(frozen=True)
class Engine:
    name: str
    encode: Callable[[torch.Tensor], torch.Tensor]  # (B, 3, 224, 224) in [0, 1] -> (B, 49, 2048)
    decoder: StepDecoder
