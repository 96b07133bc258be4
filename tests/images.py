"""Photos the tests make themselves: gradients and shapes drawn with Pillow, encoded."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def scene(seed: int = 0, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A colourful picture that differs with `seed`: a sky gradient, a lawn and a few shapes."""
    width, height = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / max(1, height - 1)
        sky = (int(60 + 120 * t), int(120 + 80 * t), 230 - (seed * 37) % 90)
        draw.line([(0, y), (width, y)], fill=sky)
    horizon = height * (55 + seed % 20) // 100
    draw.rectangle([0, horizon, width, height], fill=(40 + seed % 50, 150, 50))
    for i in range(3 + seed % 4):
        x = (seed * 97 + i * 151) % width
        y = horizon + (seed * 31 + i * 53) % max(1, height - horizon)
        r = 15 + (seed + i * 7) % 40
        colour = ((seed * 50 + i * 80) % 256, (i * 90) % 256, (seed * 20 + 100) % 256)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    return img


def encode(img: Image.Image, fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def jpeg(seed: int = 0, size: tuple[int, int] = (640, 480)) -> bytes:
    return encode(scene(seed, size), "JPEG")


def png(seed: int = 0, size: tuple[int, int] = (320, 240)) -> bytes:
    return encode(scene(seed, size).convert("RGBA"), "PNG")


def webp(seed: int = 0, size: tuple[int, int] = (320, 240)) -> bytes:
    return encode(scene(seed, size), "WEBP")


def heic(seed: int = 0, size: tuple[int, int] = (320, 240)) -> bytes:
    """An HEIC photo, as iPhones take them (encoded with pillow-heif)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(scene(seed, size), "HEIF")


def truncated_jpeg(seed: int = 0) -> bytes:
    """A JPEG cut off after its first kilobyte: the header reads, the pixels do not."""
    return jpeg(seed)[:1024]
