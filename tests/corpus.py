"""Files that are not quite photos, or not photos at all: what people (and broken clients) send.
Each item says whether the bot should caption it (it is a readable image) or refuse it politely."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass

from PIL import Image

from tests import images


@dataclass(frozen=True)
class Item:
    name: str
    data: bytes
    file_name: str
    mime_type: str | None
    captioned: bool  # a readable image: it gets a caption; anything else, a polite refusal
    captioned_as_photo: bool | None = None  # when it differs as a photo (no file type to judge)

    def expected(self, how: str) -> bool:
        """Whether the item sent as a "photo" or a "document" is to be captioned."""
        if how == "photo" and self.captioned_as_photo is not None:
            return self.captioned_as_photo
        return self.captioned


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int, rows: int = 0) -> bytes:
    """A PNG whose header claims `width`x`height`, with `rows` rows of (zero) pixels after it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = [_png_chunk(b"IHDR", header)]
    if rows:
        raw = (b"\0" + b"\0" * (3 * width)) * rows
        chunks.append(_png_chunk(b"IDAT", zlib.compress(raw, 9)))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + _png_chunk(b"IEND", b"")


def animated(fmt: str) -> bytes:
    frames = [images.scene(seed).resize((160, 120)) for seed in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format=fmt, save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def png16() -> bytes:
    gray = images.scene(4).convert("L").resize((200, 150))
    wide = Image.frombytes("I;16", gray.size, bytes(b for v in gray.tobytes() for b in (0, v)))
    return images.encode(wide, "PNG")


def cmyk_jpeg() -> bytes:
    return images.encode(images.scene(5).convert("CMYK"), "JPEG")


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", images.jpeg(6))
    return buffer.getvalue()


def corpus() -> list[Item]:
    jpeg, png = images.jpeg(7), images.png(8)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    return [
        Item("empty", b"", "empty.jpg", "image/jpeg", False),
        Item("truncated-jpeg", jpeg[: len(jpeg) // 3], "cut.jpg", "image/jpeg", False),
        Item("truncated-png", png[: len(png) // 2], "cut.png", "image/png", False),
        Item("header-only", jpeg[:20], "header.jpg", "image/jpeg", False),
        Item("png-60000-no-data", png_claiming(60000, 60000), "huge.png", "image/png", False),
        Item("png-60000-data", png_claiming(60000, 60000, rows=8), "huge.png", "image/png", False),
        Item("png-0x0", png_claiming(0, 0), "empty.png", "image/png", False),
        Item("random-bytes", os.urandom(4096), "noise.jpg", "image/jpeg", False),
        Item("html-as-jpeg", b"<!doctype html><title>x</title>", "page.jpg", "image/jpeg", False),
        Item("zip-as-png", zip_file(), "archive.png", "image/png", False),
        Item("svg", svg, "drawing.svg", "image/svg+xml", False),
        Item("pdf", pdf, "report.pdf", "application/pdf", False),
        Item(
            "exe", b"MZ\x90\x00" + os.urandom(512), "setup.exe", "application/x-msdownload", False
        ),
        Item("no-mime", jpeg, "photo", None, False, captioned_as_photo=True),
        Item("animated-gif", animated("GIF"), "loop.gif", "image/gif", True),
        Item("animated-webp", animated("WEBP"), "loop.webp", "image/webp", True),
        Item("png-16-bit", png16(), "deep.png", "image/png", True),
        Item("cmyk-jpeg", cmyk_jpeg(), "print.jpg", "image/jpeg", True),
        Item("panorama", images.jpeg(9, size=(20000, 50)), "pano.jpg", "image/jpeg", True),
    ]
