"""Test files for the attachment rules (D5), generated at run time.

The EICAR test string is assembled from two base64 pieces (as in scripts/services.sh) so that no file of the
repository contains it and no antivirus flags the repository.
"""

import base64
import functools
import io
import random
import struct
import zlib

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw
from pypdf import PdfWriter

IMAGE_SIZE = (1200, 900)


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    """An uploaded file as Django hands it to a form; `content_type` is the browser's claim (never trusted)."""
    return SimpleUploadedFile(name, data, content_type=content_type)


class RawUpload(io.BytesIO):
    """A bare uploaded-file object (name, size, read, seek), its name kept exactly as sent: Django's own
    `UploadedFile` already drops "../" parts, this one lets the tests reach our sanitising."""

    def __init__(self, name: str, data: bytes, size: int | None = None):
        super().__init__(data)
        self.name = name
        self.size = len(data) if size is None else size


@functools.cache
def eicar() -> bytes:
    return base64.b64decode(
        "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9" + "JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo="
    )


def with_eicar(data: bytes) -> bytes:
    """The file with the EICAR string appended (after a JPEG's or PNG's end marker: viewers still open it)."""
    return data + eicar()


def _pdf(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@functools.cache
def pdf(pages: int = 1) -> bytes:
    """A valid A4 PDF of blank pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    return _pdf(writer)


@functools.cache
def pdf_with_eicar() -> bytes:
    """A valid one-page PDF carrying EICAR as an embedded file (an attachment inside the PDF)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("note.txt", eicar())
    return _pdf(writer)


@functools.cache
def encrypted_pdf(*, opens_without_password: bool = False) -> bytes:
    """A one-page PDF encrypted with RC4-128 (no extra dependency): a password to open it, or only an owner's
    password (restrictions on copying or printing) when `opens_without_password`."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    user_password = "" if opens_without_password else "secret"
    writer.encrypt(user_password=user_password, owner_password="proprietaire", algorithm="RC4-128")
    return _pdf(writer)


@functools.cache
def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty (/Count 0, /Kids [])."""
    return _pdf(PdfWriter())


@functools.cache
def broken_pdf() -> bytes:
    """A PDF header followed by noise: recognised as PDF by its content, but no document inside."""
    return b"%PDF-1.7\n" + random.Random(5).randbytes(4096)


@functools.cache
def truncated_pdf() -> bytes:
    """A valid PDF cut before its page object: the header survives, the document does not."""
    data = pdf()
    return data[: data.index(b"/Type /Page\n") - 20]


def _picture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    image = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for y in range(40, size[1] - 40, 40):
        draw.line((40, y, size[0] - 40, y), fill=(30, 30, 90), width=3)
    draw.rectangle((size[0] // 20, size[1] // 20, size[0] // 3, size[1] // 4), outline=(200, 0, 0), width=5)
    return image.convert(mode)


@functools.cache
def jpeg(size: tuple[int, int] = IMAGE_SIZE, *, progressive: bool = False, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    _picture(size, mode).save(buffer, format="JPEG", quality=85, progressive=progressive)
    return buffer.getvalue()


@functools.cache
def png(size: tuple[int, int] = IMAGE_SIZE) -> bytes:
    buffer = io.BytesIO()
    _picture(size).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))


@functools.cache
def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A real, complete PNG of huge dimensions in a tiny file: 1-bit grey, every row zero, deflated."""
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    compressor = zlib.compressobj(9)
    rows_per_step = max(1, (1 << 20) // len(row))
    parts = []
    for start in range(0, height, rows_per_step):
        parts.append(compressor.compress(row * min(rows_per_step, height - start)))
    parts.append(compressor.flush())
    header = struct.pack("!IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def html() -> bytes:
    return b"<!DOCTYPE html>\n<html lang='fr'><head><title>Facture</title></head><body><p>Bonjour</p></body></html>\n"


def svg() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="900">'
        b"<rect width='1200' height='900' fill='white'/><script>alert(document.cookie)</script></svg>\n"
    )


def oversized() -> bytes:
    """ATTACHMENT_MAX_BYTES + 1 bytes that would otherwise look like a PDF."""
    head = pdf()
    return head + b" " * (settings.ATTACHMENT_MAX_BYTES + 1 - len(head))
