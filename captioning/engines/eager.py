"""The baseline engine: the PyTorch modules as they are, float32, eager mode."""

from captioning.decoder import Decoder
from captioning.encoder import Encoder
from captioning.engines.base import Engine


def eager_engine(encoder: Encoder, decoder: Decoder) -> Engine:
    return Engine("eager", encoder, decoder)
