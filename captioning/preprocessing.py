"""Turn whatever a user sends into the 224x224 RGB tensor the encoder was trained on.

Flickr8k as the project trains on it is squashed to 224x224 (aspect ratio not kept), so every
photo is resized whole, with no crop. EXIF rotation is applied first; grayscale, RGBA, palette,
CMYK and 16-bit images become RGB (transparency over white). Pillow's decompression-bomb guard
stays on, and a caller may set a lower pixel limit: an image over it is refused, not decoded. A
large JPEG is decoded reduced (by 1/2, 1/4 or 1/8 in libjpeg, `Image.draft`) to no less than
what the model needs, so an 80-megapixel photo costs a few MB, not 240.

Only the last step, to a tensor, needs torch, and it imports it then: what checks and opens a
photo (the bot's front, the web page's upload) runs without loading torch.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    import torch

IMAGE_SIZE = 224


class BadImageError(ValueError):
    """The bytes are not an image Pillow can read, or the image is too large to decode safely."""


DECODE_SIZE = IMAGE_SIZE * 2  # a JPEG is decoded reduced to no less than this on each side


def open_image(
    source: bytes | Path | str, *, max_pixels: int | None = None, reduce: bool = True
) -> Image.Image:
    """Decode an image fully (so a truncated file fails here, not later); a JPEG reduced to no
    less than DECODE_SIZE on each side, unless not `reduce`.

    Raises BadImageError for anything that is not a whole, safely sized image (over `max_pixels`
    as decoded, or Pillow's own limit); a missing file raises FileNotFoundError as usual."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        image = Image.open(io.BytesIO(data))
        if reduce and image.format == "JPEG":
            image.draft("RGB", (DECODE_SIZE, DECODE_SIZE))
        pixels = image.width * image.height
        limit = min(max_pixels or pixels, Image.MAX_IMAGE_PIXELS or pixels)
        if pixels > limit:  # Pillow only warns up to twice its own limit
            raise BadImageError(f"image has too many pixels to decode safely ({pixels})")
        if pixels == 0:
            raise BadImageError("image has no pixels")
        image.load()
    except UnidentifiedImageError as exc:
        raise BadImageError("not an image format this bot reads") from exc
    except Image.DecompressionBombError as exc:
        raise BadImageError(f"image has too many pixels to decode safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadImageError(f"broken or truncated image ({exc})") from exc
    return image


def to_rgb(image: Image.Image) -> Image.Image:
    """Apply EXIF orientation, and flatten any mode to RGB (transparent parts become white)."""
    image = ImageOps.exif_transpose(image) or image
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max() or 1.0
        image = Image.fromarray((array / top * 255).astype(np.uint8), mode="L")
    return image.convert("RGB")


def prepare(image: Image.Image) -> Image.Image:
    """Any PIL image -> the 224x224 RGB photo the model sees."""
    rgb = to_rgb(image)
    if rgb.size != (IMAGE_SIZE, IMAGE_SIZE):
        rgb = rgb.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC, reducing_gap=3.0)
    return rgb


def to_tensor(image: Image.Image) -> torch.Tensor:
    """A prepared 224x224 RGB photo -> (3, 224, 224) float in [0, 1]."""
    import torch

    array = np.asarray(image, dtype=np.float32) / 255.0  # (224, 224, 3)
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


def batch(images: list[Image.Image]) -> torch.Tensor:
    """PIL images of any mode and size -> (B, 3, 224, 224)."""
    import torch

    return torch.stack([to_tensor(prepare(im)) for im in images])
