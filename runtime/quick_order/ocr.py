"""Text from a photo of an order list: the image checked with Pillow (a real image, within bounds),
then read by Tesseract (Debian's ``tesseract-ocr``) in a subprocess with a time-out. The text then
goes through the parse providers like typed text."""
from __future__ import annotations

import io
import shutil
import subprocess

from PIL import Image, UnidentifiedImageError

from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.errors import BusinessError

#: Bytes of an image (inside the GraphQL edge's 200,000 characters once base64), pixels, seconds.
IMAGE_MAX_BYTES = 140_000
IMAGE_MAX_PIXELS = 12_000_000
OCR_TIMEOUT_SECONDS = 20
FORMATS = {"PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF"}


def available() -> bool:
    return shutil.which("tesseract") is not None


def image_text(content: bytes, where: str = "input.image") -> str:
    if len(content) > IMAGE_MAX_BYTES:
        raise BusinessError(Code.INVALID_INPUT, f"{where}: {len(content)} bytes; an image holds at most "
                            f"{IMAGE_MAX_BYTES}", field=where)
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in FORMATS:
                raise BusinessError(Code.INVALID_INPUT, f"{where}: a {image.format} image; send PNG, JPEG, WEBP, "
                                    "TIFF, BMP or GIF", field=where)
            if image.width * image.height > IMAGE_MAX_PIXELS:
                raise BusinessError(Code.INVALID_INPUT, f"{where}: {image.width}x{image.height} pixels; at most "
                                    f"{IMAGE_MAX_PIXELS}", field=where)
            image.load()
            png = io.BytesIO()
            image.convert("L").save(png, format="PNG")  # one format for Tesseract, grey is enough
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise BusinessError(Code.INVALID_INPUT, f"{where}: not an image", field=where) from None
    return read_png(png.getvalue(), where)


def read_png(png: bytes, where: str = "input.image") -> str:
    """Tesseract's text of a PNG (checked already)."""
    if not available():
        raise BusinessError(Code.CHECKOUT_FAILED, f"{where}: reading photos needs Tesseract (Debian's tesseract-ocr), "
                            "which this server does not have; paste the text instead", field=where)
    try:
        done = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "4"], input=png,
                              capture_output=True, timeout=OCR_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise BusinessError(Code.CHECKOUT_FAILED, f"{where}: reading the photo took longer than "
                            f"{OCR_TIMEOUT_SECONDS} s", field=where) from None
    if done.returncode != 0:
        raise BusinessError(Code.CHECKOUT_FAILED, f"{where}: the photo could not be read "
                            f"({done.stderr.decode(errors='replace').strip()[:200]})", field=where)
    return done.stdout.decode(errors="replace")
