"""Which files count as photos, which photo size is fetched, and decoding downloads."""

import io

import pytest
from PIL import Image
from telegram import PhotoSize

from bot.images import enable_heic, is_image_document, pick_photo
from captioning.preprocessing import BadImageError, open_image


@pytest.mark.parametrize(
    ("mime_type", "file_name", "accepted"),
    [
        ("image/jpeg", "a.jpg", True),
        ("image/png", None, True),
        ("image/webp", "x", True),
        ("image/heic", "IMG_1.HEIC", True),
        ("application/octet-stream", "IMG_2.JPEG", True),
        (None, "photo.png", True),
        ("application/pdf", "report.pdf", False),
        ("image/gif", "cat.gif", True),  # its first frame
        ("image/svg+xml", "logo.svg", False),
        ("text/plain", "notes.jpg", False),  # the type Telegram saw wins over the name
        (None, None, False),
        (None, "README", False),
    ],
)
def test_is_image_document(mime_type: str | None, file_name: str | None, accepted: bool) -> None:
    assert is_image_document(mime_type, file_name) is accepted


def size(side: int, ratio: float = 0.75) -> PhotoSize:
    return PhotoSize(f"id{side}", f"u{side}", width=side, height=int(side * ratio))


def test_pick_photo_takes_the_smallest_that_covers_the_model_input() -> None:
    sizes = [size(1280), size(90), size(800), size(320)]  # 320x240 covers 224x224
    assert pick_photo(sizes).file_id == "id320"
    assert pick_photo([size(90), size(200)]).file_id == "id200"  # none covers: the largest
    assert pick_photo([size(320, 0.5), size(800, 0.5)]).file_id == "id800"  # 320x160 too thin


def encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buffer, format=fmt)
    return buffer.getvalue()


def test_heic_opens_once_enabled_and_broken_files_are_refused() -> None:
    enable_heic()
    good, heic = encoded("JPEG"), encoded("HEIF")
    assert open_image(good).size == (40, 30)
    assert open_image(heic).size == (40, 30)
    for broken in (good[: len(good) // 2], b"not an image"):
        with pytest.raises(BadImageError):
            open_image(broken)
