"""ONNX Runtime sessions for the exported encoder and decoder step, behind the engine interface."""

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from captioning.decoder import Decoder, DecoderConfig
from captioning.engines.base import State, StepOutput


def session(path: str, threads: int, arena: bool = True) -> ort.InferenceSession:
    """A CPU session using `threads` threads for each operator, all graph optimisations on.
    `arena`: keep the memory of intermediate results between calls (ONNX Runtime's arena and
    memory pattern); without, it is allocated per call and given back."""
    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = options.enable_mem_pattern = arena
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    # no busy-waiting between calls: beam search runs PyTorch ops between decoder steps, and
    # spinning ONNX Runtime threads would take the cores from them
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class OrtEncoder:
    """photos (B, 3, 224, 224) in [0, 1] -> features (B, 49, 2048), as `Encoder` gives them."""

    def __init__(self, path: str, threads: int) -> None:
        # No arena: the encoder's activations (tens of MB at batch 8) would stay in the serving
        # process between photos; allocated per call they cost no measurable time (int8, one
        # photo 9.6 ms either way, batch 8 54.8 ms with the arena, 54.5 ms without) and the bot
        # holds 10 MB less after one photo, 50 MB less after a batch of 8.
        self.session = session(path, threads, arena=False)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        pixels = np.ascontiguousarray(images.numpy(), dtype=np.float32)
        (features,) = self.session.run(["features"], {"images": pixels})
        return torch.from_numpy(features)


class InitialState(nn.Module):
    """`Decoder.init_state` with only the layers it uses (a quarter of the decoder's weights),
    so that the rest of a float32 decoder can be freed once its step runs in ONNX Runtime."""

    def __init__(self, decoder: Decoder) -> None:
        super().__init__()
        self.init_h, self.init_c = decoder.init_h, decoder.init_c
        self.feature_proj = decoder.attention.feature_proj

    def forward(self, feats: torch.Tensor) -> State:
        """feats (B, L, D) -> h (B, H), c (B, H), feats_proj (B, L, A), as `Decoder` gives them"""
        mean = feats.mean(dim=1)  # (B, D)
        return self.init_h(mean), self.init_c(mean), self.feature_proj(feats)


class OrtStepDecoder:
    """The decoder step in ONNX Runtime; the initial state (once a photo) stays in PyTorch.
    It keeps no reference to `decoder`, only to the layers of its initial state."""

    def __init__(self, path: str, decoder: Decoder, threads: int) -> None:
        self.session = session(path, threads)
        self._config = decoder.config
        self.initial = InitialState(decoder)

    @property
    def config(self) -> DecoderConfig:
        return self._config

    def init_state(self, feats: torch.Tensor) -> State:
        initial: State = self.initial(feats)
        return initial

    def step(
        self,
        tokens: torch.Tensor,
        feats: torch.Tensor,
        feats_proj: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
    ) -> StepOutput:
        feeds = {
            "tokens": tokens.numpy(),
            "feats": _array(feats),
            "feats_proj": _array(feats_proj),
            "h": _array(h),
            "c": _array(c),
        }
        logits, h_next, c_next, alpha = self.session.run(None, feeds)
        return (
            torch.from_numpy(logits),
            torch.from_numpy(h_next),
            torch.from_numpy(c_next),
            torch.from_numpy(alpha),
        )


def _array(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.numpy())
