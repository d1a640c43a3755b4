"""Parse-to-cart from a photo: an order list rendered with Pillow, read by Tesseract, parsed by
the catalog parser; a non-image and an oversized image refused as data. The OCR test is skipped
where Debian's tesseract-ocr is not installed (scripts/test.sh installs it when it may)."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from runtime.quick_order import ocr
from runtime.quick_order.ocr import IMAGE_MAX_BYTES
from tests.runtime.test_carts_api import post, store
from tests.runtime.test_packaging_api import ladder
from tests.runtime.test_quick_order_parse import PARSE

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = ["Order for Monday", "2 boxes of blue mugs", "MUG-1 x6", "3 cups", "Thanks, Anna"]


def render(lines: list[str], size: int = 28) -> bytes:
    font = ImageFont.truetype(FONT, size)
    image = Image.new("L", (900, 60 + len(lines) * int(size * 1.8)), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((30, 30 + number * int(size * 1.8)), line, fill=0, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def image_input(content: bytes, name: str = "list.png") -> dict:
    return {"input": {"image": {"filename": name, "contentBase64": base64.b64encode(content).decode()}}}


@pytest.mark.skipif(not ocr.available(), reason="Tesseract (Debian's tesseract-ocr) is not installed: "
                    "apt-get install tesseract-ocr, or run scripts/test.sh as root")
def test_a_photo_of_a_list_is_read_and_parsed(app, client):
    store(app)
    ladder(app, {"each": 1, "box": 12})

    answer = post(client, PARSE, image_input(render(LINES)))["data"]["cartAiParseToLookupItems"]

    assert answer["errors"] == [] and answer["provider"] == "core.cart_parse_provider.catalog"
    assert [(i["sku"], i["quantity"], i["package"]) for i in answer["items"]] == [
        ("MUG-1", 2, "box"), ("MUG-1", 6, None), ("CUP-1", 3, None)]


def test_a_non_image_and_an_oversized_image_are_refused_as_data(app, client):
    store(app)
    cases = [
        (image_input(b"%PDF-1.7 not an image", "list.pdf"), "input.image", "input.image: not an image"),
        (image_input(b"\x89PNG" + b"0" * IMAGE_MAX_BYTES), "input.image.contentBase64",
         f"input.image.contentBase64: a file holds at most {IMAGE_MAX_BYTES} bytes"),
        ({"input": {"text": "MUG-1 1", "image": {"filename": "a.png", "contentBase64": ""}}}, "input",
         "input: give either text or image, exactly one"),
    ]
    for variables, field, message in cases:
        answer = post(client, PARSE, variables)["data"]["cartAiParseToLookupItems"]
        assert answer["items"] == [] and answer["errors"] == [{"code": "INVALID_INPUT", "field": field,
                                                               "message": message}]
