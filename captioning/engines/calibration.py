"""The int8 encoder's activation ranges, and the photos they are measured on.

The ranges are measured once on Flickr8k training photos (`captionbot engines --calibrate`) and
committed beside the encoder weights (`model_weights/resnet50_imagenet.int8-ranges.json`), so
every int8 encoder built from them is the same, with or without the data set. The training photos
are what the model saw, so their ranges are the right ones; where the file is missing and the data
set is absent (a bare checkout, CI), smooth random scenes stand in, and the log says so.
"""

import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from captioning import preprocessing
from captioning.bundle_config import read_config

log = logging.getLogger(__name__)

DEFAULT_DATA = Path("../shared/flickr8k")
TRAIN_LIST = "Flickr_8k.trainImages.txt"
COUNT = 32


def ranges_file(bundle: Path) -> Path:
    """Where the int8 activation ranges of this bundle's encoder are kept."""
    weights = bundle / read_config(bundle)["encoder"]["weights"]
    return weights.with_name(weights.name.split(".")[0] + ".int8-ranges.json")


def flickr8k_train_photos(data: Path, count: int) -> list[Path]:
    """`count` photos spread evenly over the training split, or [] when it is not there."""
    listing = data / TRAIN_LIST
    if not listing.is_file():
        return []
    names = [n.strip() for n in listing.read_text().splitlines() if n.strip()]
    picked = names[:: max(1, len(names) // count)][:count]
    return [data / "Images" / n for n in picked if (data / "Images" / n).is_file()]


def generated_photo(rng: np.random.Generator) -> Image.Image:
    """A smooth random colour field with some texture: natural-photo-like pixel statistics."""
    coarse = rng.uniform(0, 255, size=(rng.integers(2, 8), rng.integers(2, 8), 3))
    base = Image.fromarray(coarse.astype(np.uint8)).resize(
        (preprocessing.IMAGE_SIZE,) * 2, Image.Resampling.BICUBIC
    )
    noise = rng.normal(0, rng.uniform(2, 25), size=(*base.size[::-1], 3))
    pixels = np.clip(np.asarray(base, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def calibration_batch(
    data: Path | None = DEFAULT_DATA, count: int = COUNT
) -> tuple[torch.Tensor, str]:
    """(count, 3, 224, 224) photos in [0, 1], and a line saying where they came from."""
    paths = flickr8k_train_photos(data, count) if data is not None else []
    if len(paths) >= count // 2:
        images = [preprocessing.open_image(p) for p in paths]
        return preprocessing.batch(images), f"{len(paths)} Flickr8k training photos from {data}"
    log.warning("no Flickr8k training photos at %s: calibrating int8 on generated photos", data)
    rng = np.random.default_rng(0)
    images = [generated_photo(rng) for _ in range(count)]
    return preprocessing.batch(images), f"{count} generated photos"
