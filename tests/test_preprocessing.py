import io

import numpy as np
import pytest
from PIL import Image

from captioning.preprocessing import BadImageError, batch, open_image, prepare, to_rgb
from tests.helpers import photo


def encoded(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "L", "LA", "RGBA", "P", "CMYK", "I;16", "I", "1"])
def test_every_mode_becomes_a_224_rgb_photo(mode: str) -> None:
    prepared = prepare(photo(mode=mode))
    assert prepared.mode == "RGB" and prepared.size == (224, 224)
    assert np.asarray(prepared).std() > 5  # the picture survived, not a blank frame


def test_transparency_becomes_white() -> None:
    image = Image.new("RGBA", (50, 50), (255, 0, 0, 0))
    assert to_rgb(image).getpixel((10, 10)) == (255, 255, 255)


def test_palette_with_transparency() -> None:
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.info["transparency"] = 0
    assert to_rgb(image).getpixel((5, 5)) == (255, 255, 255)


def test_exif_rotation_is_applied() -> None:
    wide = Image.new("RGB", (200, 100), (0, 0, 255))
    wide.paste((255, 0, 0), (0, 0, 100, 100))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    image = open_image(encoded(wide, "JPEG", exif=exif, quality=95))
    upright = to_rgb(image)
    assert upright.size == (100, 200)
    r, _, b = upright.getpixel((50, 20))  # the red half is now on top
    assert r > 200 and b < 60


def test_a_large_photo_is_resized_whole() -> None:
    big = photo(6000, 4000)
    prepared = prepare(open_image(encoded(big, "JPEG", quality=80)))
    assert prepared.size == (224, 224)
    # squashed, not cropped: the sun (upper left quarter) and the field (bottom) are both there
    array = np.asarray(prepared).astype(int)
    assert array[56, 56, 0] > 200 and array[200, 112, 1] > 140


def test_a_large_jpeg_is_decoded_reduced_to_what_the_model_needs() -> None:
    data = encoded(photo(6000, 4000), "JPEG", quality=80)
    image = open_image(data)
    assert image.size == (750, 500)  # 1/8 in libjpeg: still over 448 on each side
    assert open_image(data, reduce=False).size == (6000, 4000)
    # the pixel limit is on what is decoded: this JPEG passes a limit its full size is over
    assert open_image(data, max_pixels=1_000_000).size == (750, 500)


def test_a_pixel_limit_refuses_what_cannot_be_reduced() -> None:
    data = encoded(photo(2000, 1500), "PNG")
    with pytest.raises(BadImageError, match="too many pixels"):
        open_image(data, max_pixels=1_000_000)
    assert open_image(data, max_pixels=3_000_000).size == (2000, 1500)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_common_formats_open(fmt: str) -> None:
    image = open_image(encoded(photo(64, 48), fmt))
    assert prepare(image).size == (224, 224)


def test_not_an_image_is_refused() -> None:
    with pytest.raises(BadImageError, match="not an image"):
        open_image(b"%PDF-1.4 definitely not a photo")


def test_truncated_jpeg_is_refused() -> None:
    data = encoded(photo(400, 300), "JPEG")
    with pytest.raises(BadImageError, match="broken or truncated"):
        open_image(data[: len(data) // 2])


def test_decompression_bomb_guard_stays_on(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encoded(Image.new("L", (3000, 3000)), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)  # 9M pixels is over twice this
    with pytest.raises(BadImageError, match="too many pixels"):
        open_image(data)


def test_batch_shape_and_range() -> None:
    x = batch([photo(), photo(100, 300, mode="L")])
    assert x.shape == (2, 3, 224, 224)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
