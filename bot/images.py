"""Which files the bot takes as photos, which photo size it downloads, and HEIC support."""

from collections.abc import Sequence
from pathlib import PurePath

import pillow_heif
from telegram import PhotoSize

from captioning.preprocessing import IMAGE_SIZE

IMAGE_MIME_TYPES = frozenset(
    {
        "image/jpeg",
        "image/pjpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/heif",
        "image/gif",  # an animated one is captioned by its first frame
    }
)
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".webp", ".heic", ".heif", ".gif"})


def enable_heic() -> None:
    """Let Pillow open HEIC/HEIF photos (as iPhones send them as files)."""
    pillow_heif.register_heif_opener()


def is_image_document(mime_type: str | None, file_name: str | None) -> bool:
    """Whether a file sent as a document is one of the image types the bot reads."""
    if mime_type and mime_type.lower() in IMAGE_MIME_TYPES:
        return True
    if mime_type and mime_type.lower() not in ("application/octet-stream", ""):
        return False
    return bool(file_name) and PurePath(file_name or "").suffix.lower() in IMAGE_EXTENSIONS


def pick_photo(sizes: Sequence[PhotoSize]) -> PhotoSize:
    """The smallest of Telegram's sizes that still covers the model's input, else the largest."""
    ordered = sorted(sizes, key=lambda size: size.width * size.height)
    for size in ordered:
        if min(size.width, size.height) >= IMAGE_SIZE:
            return size
    return ordered[-1]
