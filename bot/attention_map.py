"""Attention maps: where the model looked for each word of its caption.

The picture is a grid: the photo as the model saw it (squashed to a square), then one tile per
word with that word's 7x7 attention upsampled to the tile and laid over the photo (dark where the
model did not look, bright and warm where it did), each with its word underneath.
"""

import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from captioning.preprocessing import to_rgb

TILE = 224
COLUMNS = 4
LABEL_HEIGHT = 30
GAP = 4
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
WARM = np.array([255.0, 190.0, 40.0], dtype=np.float32)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def upsample(weights: np.ndarray, size: int = TILE) -> np.ndarray:
    """A word's attention grid (7x7) -> (size, size) in [0, 1], smooth, its peak at 1."""
    grid = np.clip(np.asarray(weights, dtype=np.float32), 0.0, None)
    peak = float(grid.max()) if grid.size else 0.0
    if peak <= 0.0 or not math.isfinite(peak):
        return np.zeros((size, size), dtype=np.float32)
    scaled = Image.fromarray(grid / peak, mode="F").resize((size, size), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(scaled, dtype=np.float32), 0.0, 1.0)


def overlay(photo: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """The photo (H, W, 3 uint8) dimmed where `heat` (H, W in [0, 1]) is low, warmed where high."""
    alpha = heat[..., None]
    lit = photo.astype(np.float32) * (0.2 + 0.8 * alpha)
    warmed = lit * (1.0 - 0.4 * alpha) + WARM * (0.4 * alpha)
    return np.clip(warmed, 0.0, 255.0).astype(np.uint8)


def _font() -> Font:
    try:
        return ImageFont.load_default(size=18)
    except (OSError, ValueError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    """`text`, shortened with an ellipsis until it fits in `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def render(photo: Image.Image, words: Sequence[str], attention: np.ndarray) -> Image.Image:
    """The grid image for a caption: `attention` is (len(words), 7, 7)."""
    square = np.asarray(to_rgb(photo).resize((TILE, TILE), Image.Resampling.BICUBIC))
    tiles: list[tuple[str, np.ndarray]] = [("", square)]
    for word, weights in zip(words, attention, strict=False):
        tiles.append((word, overlay(square, upsample(weights))))
    columns = min(COLUMNS, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    cell_w, cell_h = TILE + GAP, TILE + LABEL_HEIGHT + GAP
    grid = Image.new("RGB", (columns * cell_w + GAP, rows * cell_h + GAP), BACKGROUND)
    draw = ImageDraw.Draw(grid)
    font = _font()
    for index, (label, pixels) in enumerate(tiles):
        x = GAP + (index % columns) * cell_w
        y = GAP + (index // columns) * cell_h
        grid.paste(Image.fromarray(pixels), (x, y))
        text = _fit(draw, label, font, TILE - 8)
        width = draw.textlength(text, font=font)
        draw.text((x + (TILE - width) / 2, y + TILE + 5), text, fill=INK, font=font)
    return grid


def render_jpeg(photo: Image.Image, words: Sequence[str], attention: np.ndarray) -> bytes:
    """The grid as JPEG bytes, ready to send."""
    buffer = io.BytesIO()
    render(photo, words, attention).save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()
