"""Small builders shared by the unit tests: tiny random decoders and generated photos."""

import torch
from PIL import Image, ImageDraw

from captioning.decoder import Decoder, DecoderConfig


def tiny_decoder(vocab_size: int = 7, feature_dim: int = 8, seed: int = 0) -> Decoder:
    """A random decoder whose word probabilities are far from uniform (no near-ties)."""
    torch.manual_seed(seed)
    decoder = Decoder(
        DecoderConfig(
            vocab_size, feature_dim, embed_dim=6, attention_dim=5, hidden_dim=9, dropout=0.5
        )
    )
    torch.nn.init.normal_(decoder.out.weight, std=3.0)
    torch.nn.init.normal_(decoder.embed.weight, std=1.0)
    return decoder.eval()


def photo(width: int = 320, height: int = 240, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A generated picture: a gradient sky, a sun and a green field."""
    image = Image.new("RGB", (width, height), (90, 140, 220))
    draw = ImageDraw.Draw(image)
    for y in range(height // 2):
        draw.line([(0, y), (width, y)], fill=(90 + y % 60, 140, 220 - y % 40))
    draw.rectangle([0, height // 2, width, height], fill=(40 + seed * 10, 160, 60))
    r = min(width, height) // 8
    draw.ellipse(
        [width // 4 - r, height // 4 - r, width // 4 + r, height // 4 + r], fill=(250, 220, 60)
    )
    return image if mode == "RGB" else image.convert(mode)
