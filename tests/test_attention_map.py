"""The attention-map picture: a grid of the photo and one overlaid tile per word."""

import io

import numpy as np
from PIL import Image

from bot.attention_map import COLUMNS, GAP, LABEL_HEIGHT, TILE, render, render_jpeg, upsample
from tests.images import scene


def corner_attention(words: int) -> np.ndarray:
    """Word 0 looks at the top-left cell, word 1 at the bottom-right one, the rest everywhere."""
    maps = np.full((words, 7, 7), 1 / 49, dtype=np.float32)
    maps[0] = 0.0
    maps[0, 0, 0] = 1.0
    maps[1] = 0.0
    maps[1, 6, 6] = 1.0
    return maps


def tile(grid: Image.Image, index: int) -> np.ndarray:
    columns = COLUMNS
    x = GAP + (index % columns) * (TILE + GAP)
    y = GAP + (index // columns) * (TILE + LABEL_HEIGHT + GAP)
    return np.asarray(grid.crop((x, y, x + TILE, y + TILE)), dtype=np.float32)


def brightness(pixels: np.ndarray, top: bool, left: bool) -> float:
    quarter = TILE // 7  # one cell of the 7x7 grid
    rows = slice(0, quarter) if top else slice(TILE - quarter, TILE)
    cols = slice(0, quarter) if left else slice(TILE - quarter, TILE)
    return float(pixels[rows, cols].mean())


def test_upsample_peaks_where_the_model_looked() -> None:
    weights = np.zeros((7, 7), dtype=np.float32)
    weights[0, 0] = 0.5
    heat = upsample(weights)
    assert heat.shape == (TILE, TILE)
    assert heat.max() <= 1.0 and heat.min() >= 0.0
    assert heat[:32, :32].mean() > 0.3 > heat[-32:, -32:].mean()
    assert not upsample(np.zeros((7, 7))).any()


def test_grid_has_the_photo_and_one_tile_per_word_lit_where_it_looked() -> None:
    words = ["a", "dog", "runs", "on", "grass"]
    photo = Image.new("RGB", (640, 480), (200, 200, 200))
    grid = render(photo, words, corner_attention(len(words)))
    rows = 2  # the photo and five words, four to a row
    assert grid.size == (COLUMNS * (TILE + GAP) + GAP, rows * (TILE + LABEL_HEIGHT + GAP) + GAP)
    original, first, second = tile(grid, 0), tile(grid, 1), tile(grid, 2)
    assert abs(brightness(original, True, True) - brightness(original, False, False)) < 1
    assert brightness(first, True, True) > brightness(first, False, False) + 60
    assert brightness(second, False, False) > brightness(second, True, True) + 60
    uniform = tile(grid, 3)
    assert abs(brightness(uniform, True, True) - brightness(uniform, False, False)) < 5


def test_labels_are_drawn_under_the_tiles() -> None:
    photo = scene(3)
    grid = render(photo, ["word"], corner_attention(2)[:1])
    label = np.asarray(
        grid.crop((GAP + TILE + GAP, GAP + TILE, 2 * (TILE + GAP), GAP + TILE + LABEL_HEIGHT))
    )
    assert (label < 128).any()  # dark ink on the white strip
    blank = np.asarray(grid.crop((GAP, GAP + TILE, GAP + TILE, GAP + TILE + LABEL_HEIGHT)))
    assert (blank > 250).all()  # the photo's tile has no word


def test_jpeg_output_opens_and_handles_any_photo_mode() -> None:
    photo = scene(1).convert("RGBA")
    data = render_jpeg(
        photo, ["a", "very-long-word-that-does-not-fit-under-one-tile" * 3], corner_attention(2)
    )
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert image.size[0] == 3 * (TILE + GAP) + GAP
