"""Quick order rows over GraphQL: pasted text in several separators, CSV and XLSX uploads with a
header, row numbers in every error, ambiguous names with alternatives, bounds on rows and size,
and the rows feeding cartBulkLookup and bulkAddToCart."""
from __future__ import annotations

import base64
import io

from openpyxl import Workbook

from runtime.quick_order.sheet import FILE_MAX_BYTES
from tests.runtime.test_carts_api import ERRORS, cart_state, new_cart, post, store
from tests.runtime.test_mmoq_api import BULK_ADD, LOOKUP
from tests.runtime.test_packaging_api import ladder

ROWS = ("query($input: QuickOrderInput!) { quickOrderRows(input: $input) { header rows { row text identifier"
        f" variant {{ sku }} quantity package multiplier alternatives {{ sku }} {ERRORS} }} {ERRORS} }} }}")


def rows_of(client, **input) -> dict:
    return post(client, ROWS, {"input": input})["data"]["quickOrderRows"]


def brief(answer: dict) -> list[tuple]:
    return [(r["row"], r["variant"] and r["variant"]["sku"], r["quantity"], r["package"], r["multiplier"],
             [e["message"] for e in r["errors"]]) for r in answer["rows"]]


def upload(name: str, content: bytes) -> dict:
    return {"filename": name, "contentBase64": base64.b64encode(content).decode()}


def test_pasted_rows_in_any_separator_resolve_skus_and_names_with_row_numbers(app, client):
    store(app)
    ladder(app, {"each": 1, "box": 12})
    text = ("MUG-1\t2\tbox\n"
            "cup-1, 3\n"
            "\n"
            "Mug Blue; 4; Boxes (10)\n"
            "5 Cup\n"
            "Mug 1\n"
            "PLATE-9 2\n"
            "CUP-1 2.5\n")

    answer = rows_of(client, text=text)

    assert answer["errors"] == [] and answer["header"] is None
    assert brief(answer) == [
        (1, "MUG-1", 2, "box", None, []),
        (2, "CUP-1", 3, None, None, []),
        (4, "MUG-1", 4, "box", 10, []),
        (5, "CUP-1", 5, None, None, []),
        (6, None, 1, None, None, ["row 6: 'Mug' names 2 variants (CUP-1, MUG-1): give the SKU"]),
        (7, None, 2, None, None, ["row 7: no SKU or product named 'PLATE-9' is sold in this channel"]),
        (8, "CUP-1", None, None, None, ["row 8: quantity '2.5' is not a whole number"])]
    assert answer["rows"][4]["alternatives"] == [{"sku": "CUP-1"}, {"sku": "MUG-1"}]
    assert [(e["code"], e["field"]) for r in answer["rows"] for e in r["errors"]] == [
        ("INVALID_INPUT", "input.text.6"), ("NOT_FOUND", "input.text.7"), ("INVALID_QUANTITY", "input.text.8")]


def test_a_csv_and_an_xlsx_with_a_header_read_the_same_rows(app, client):
    store(app)
    csv = b"Qty;Artikelnummer;Unit\r\n2;MUG-1;\r\n7;CUP-1;each\r\n"
    book = Workbook()
    sheet = book.active
    for values in (("Quantity", "SKU", "Unit"), (2, "MUG-1", None), (None, None, None), (7.0, "CUP-1", "each")):
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)

    from_csv = rows_of(client, file=upload("order.csv", csv))
    from_xlsx = rows_of(client, file=upload("order.xlsx", buffer.getvalue()))

    assert from_csv["header"] == ["quantity", "identifier", "package"] == from_xlsx["header"]
    assert brief(from_csv) == [(2, "MUG-1", 2, None, None, []), (3, "CUP-1", 7, "each", None, [])]
    assert brief(from_xlsx) == [(2, "MUG-1", 2, None, None, []), (4, "CUP-1", 7, "each", None, [])]


def test_bad_input_is_a_clear_error_naming_the_field(app, client):
    store(app)
    cases = [
        ({"text": "  \n"}, "INVALID_INPUT", "input.text", "input.text: paste at least one row (SKU or name, quantity)"),
        ({"text": "MUG-1 1", "file": upload("a.csv", b"MUG-1,1")}, "INVALID_INPUT", "input",
         "input: give either text or file, exactly one"),
        ({"text": "\n".join(f"MUG-1 {n}" for n in range(1, 502))}, "INVALID_INPUT", "input.text",
         "input.text: at most 500 rows, got 501"),
        ({"file": upload("a.csv", b"x" * (FILE_MAX_BYTES + 1))}, "INVALID_INPUT", "input.file",
         f"input.file: {FILE_MAX_BYTES + 1} bytes; a file holds at most {FILE_MAX_BYTES}"),
        ({"file": upload("photo.png", b"\x89PNG\r\n\x1a\n....")}, "INVALID_INPUT", "input.file",
         "input.file: 'photo.png' is not a CSV or XLSX file"),
        ({"file": upload("order.xlsx", b"PK\x03\x04 not really a workbook")}, "INVALID_INPUT", "input.file",
         "input.file: not a readable XLSX workbook (BadZipFile)"),
        ({"file": {"filename": "a.csv", "contentBase64": "***"}}, "INVALID_INPUT", "input.file.contentBase64",
         "input.file.contentBase64: not base64"),
        ({"text": "SKU,Qty\n"}, "INVALID_INPUT", "input.text", "input.text: no rows to order (only a header or blank lines)"),
    ]
    for input, code, field, message in cases:
        answer = rows_of(client, **input)
        assert answer == {"header": None, "rows": [], "errors": [{"code": code, "field": field, "message": message}]}


def test_the_rows_feed_the_lookup_preview_and_the_bulk_add(app, client):
    store(app)
    ladder(app, {"each": 1, "box": 12})
    answer = rows_of(client, text="MUG-1 1 box (10)\nCup 3\nPLATE-9 1\n")
    ready = [{"sku": r["variant"]["sku"], "quantity": r["quantity"], "package": r["package"],
              "multiplier": r["multiplier"]} for r in answer["rows"] if not r["errors"]]
    cart = new_cart(client)["id"]

    preview = post(client, LOOKUP, {"input": {"cartId": cart, "rows": ready}})["data"]["cartBulkLookup"]
    before = cart_state(app)
    assert [(r["sku"], r["package"], r["multiplier"], r["unitChanged"]) for r in preview["rows"]] == [
        ("MUG-1", "box", 12, True), ("CUP-1", None, 1, False)]
    assert cart_state(app) == before

    added = post(client, BULK_ADD, {"id": cart, "rows": ready})["data"]["bulkAddToCart"]
    assert added["errors"] == [] and added["failed"] == []
    assert [(l["variant"]["sku"], l["quantity"], l["package"]) for l in added["cart"]["lines"]] == [
        ("MUG-1", 1, "box"), ("CUP-1", 3, None)]
