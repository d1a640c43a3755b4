"""Quick order input read into rows: pasted text (tab, comma, semicolon or space separated), a CSV
or an XLSX file. Pure: no catalog here (``entry`` resolves the identifiers).

A row is an identifier (a SKU or a product name), a quantity and optionally a package, with an
expected size in brackets (``box (12)``). A first row whose cells name columns (``SKU``,
``Qty``, ``Unit``…) is a header and decides which cell is which; without one, the cells are
read as identifier, quantity, package, and a whole number first and text second are swapped.
Row numbers count every line of the input from 1, so they match what the buyer sees.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.carts.lines import MAX_LINE_BASE_UNITS
from runtime.errors import BusinessError
from runtime.mmoq.bulk import ROWS_MAX

#: Characters of pasted text, and bytes of an uploaded file (before base64), at most: both inside
#: the GraphQL edge's 200,000 characters per string (base64 adds a third), 500 rows with room to spare.
TEXT_MAX_CHARS = 100_000
FILE_MAX_BYTES = 140_000
COLUMNS = {
    "identifier": {"sku", "item", "item no", "item number", "article", "article no", "part", "part no", "part number",
                   "product", "product name", "name", "description", "code", "artikel", "artikelnummer"},
    "quantity": {"qty", "quantity", "amount", "count", "menge", "anzahl", "pcs", "units", "order qty"},
    "package": {"unit", "units of measure", "uom", "package", "pack", "packaging", "einheit"},
}
QUANTITY = re.compile(r"^(?:x\s*)?(\d+)(?:\s*x)?$", re.IGNORECASE)
DECIMAL = re.compile(r"^\d+[.,]\d+$")
PACKAGE = re.compile(r"^(?P<slug>[^()]+?)\s*(?:\((?P<size>\d+)\))?$")


@dataclass
class SheetRow:
    """One data row: ``row`` its line in the input (from 1), ``text`` as given."""

    row: int
    text: str
    identifier: str = ""
    quantity: int | None = None
    package: str | None = None
    multiplier: int | None = None
    errors: list[BusinessError] = field(default_factory=list)


@dataclass
class Sheet:
    rows: list[SheetRow]
    #: The columns the header named (identifier, quantity, package), or None without a header.
    header: list[str] | None = None


def from_text(text: str, where: str = "input.text") -> Sheet:
    if not isinstance(text, str) or not text.strip():
        raise BusinessError(Code.INVALID_INPUT, f"{where}: paste at least one row (SKU or name, quantity)", field=where)
    if len(text) > TEXT_MAX_CHARS:
        raise BusinessError(Code.INVALID_INPUT, f"{where}: at most {TEXT_MAX_CHARS} characters, got {len(text)}",
                            field=where)
    return _read([(number, _split(line)) for number, line in enumerate(text.splitlines(), start=1)], where)


def from_file(filename: str, content: bytes, where: str = "input.file") -> Sheet:
    """A CSV (any of the separators, UTF-8 or Latin-1) or the first sheet of an XLSX workbook."""
    if len(content) > FILE_MAX_BYTES:
        raise BusinessError(Code.INVALID_INPUT, f"{where}: {len(content)} bytes; a file holds at most {FILE_MAX_BYTES}",
                            field=where)
    if not content.strip():
        raise BusinessError(Code.INVALID_INPUT, f"{where}: the file is empty", field=where)
    name = (filename or "").lower()
    if content[:4] == b"PK\x03\x04" or name.endswith(".xlsx"):
        return _read(_xlsx_cells(content, where), where)
    if name and not name.endswith((".csv", ".txt", ".tsv")):
        raise BusinessError(Code.INVALID_INPUT, f"{where}: {filename!r} is not a CSV or XLSX file", field=where)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    if "\x00" in text:
        raise BusinessError(Code.INVALID_INPUT, f"{where}: {filename!r} is not a CSV or XLSX file", field=where)
    lines = text.splitlines()
    delimiter = next((d for d in ("\t", ";", ",") if any(d in line for line in lines[:20])), None)
    if delimiter is None:
        return _read([(n, _split(line)) for n, line in enumerate(lines, start=1)], where)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return _read([(n, [cell.strip() for cell in cells]) for n, cells in enumerate(reader, start=1)], where)


def _xlsx_cells(content: bytes, where: str) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # only uploads of workbooks need it

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BusinessError(Code.INVALID_INPUT, f"{where}: not a readable XLSX workbook ({type(exc).__name__})",
                            field=where) from None
    try:
        found = []
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            if number > ROWS_MAX * 2 + 1:  # blank rows count too: stop reading long before memory matters
                raise BusinessError(Code.INVALID_INPUT, f"{where}: more than {ROWS_MAX} rows", field=where)
            found.append((number, [_cell(value) for value in values]))
        return found
    finally:
        book.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _split(line: str) -> list[str]:
    """Cells of a pasted line: by tab, semicolon or comma, else by spaces (the quantity is the
    first or last whole number; text after it is the package)."""
    line = line.strip()
    for delimiter in ("\t", ";", ","):
        if delimiter in line:
            return [cell.strip() for cell in line.split(delimiter)]
    tokens = line.split()
    if len(tokens) < 2:
        return tokens
    if QUANTITY.match(tokens[0]) and not QUANTITY.match(tokens[-1]):
        return [" ".join(tokens[1:]), tokens[0]]
    for index in range(len(tokens) - 1, 0, -1):
        if QUANTITY.match(tokens[index]) or DECIMAL.match(tokens[index]):
            return [" ".join(tokens[:index]), tokens[index], *([" ".join(tokens[index + 1:])] if tokens[index + 1:] else [])]
    return [" ".join(tokens)]


def _header(cells: list[str]) -> list[str] | None:
    named = [next((column for column, words in COLUMNS.items() if cell.lower().strip(" :#") in words), "")
             for cell in cells]
    return named if "identifier" in named and "quantity" in named else None


def _read(lines: list[tuple[int, list[str]]], where: str) -> Sheet:
    lines = [(number, cells) for number, cells in lines if any(cells) and not cells[0].startswith("#")]
    header = _header(lines[0][1]) if lines else None
    data = lines[1:] if header else lines
    if len(data) > ROWS_MAX:
        raise BusinessError(Code.INVALID_INPUT, f"{where}: at most {ROWS_MAX} rows, got {len(data)}", field=where)
    if not data:
        raise BusinessError(Code.INVALID_INPUT, f"{where}: no rows to order (only a header or blank lines)", field=where)
    return Sheet([_row(number, cells, header, where) for number, cells in data], header)


def _row(number: int, cells: list[str], header: list[str] | None, where: str) -> SheetRow:
    if header:
        picked = {column: cells[i] for i, column in enumerate(header) if column and i < len(cells) and cells[i]}
    else:
        cells = [cell for cell in cells if cell]
        if len(cells) >= 2 and QUANTITY.match(cells[0]) and not QUANTITY.match(cells[1]):
            cells[0], cells[1] = cells[1], cells[0]
        picked = dict(zip(("identifier", "quantity", "package"), cells))
    row = SheetRow(number, "\t".join(cells).strip(), identifier=picked.get("identifier", "").strip())
    at = f"{where}.{number}"
    if not row.identifier:
        row.errors.append(BusinessError(Code.INVALID_INPUT, f"row {number}: no SKU or product name", field=at))
    _quantity(row, picked.get("quantity", ""), at)
    package = picked.get("package", "").strip()
    if package:
        match = PACKAGE.match(package)
        row.package = match.group("slug").strip().lower()
        row.multiplier = int(match.group("size")) if match.group("size") else None
    return row


def _quantity(row: SheetRow, text: str, at: str) -> None:
    match = QUANTITY.match(text.strip())
    if not text.strip():
        row.errors.append(BusinessError(Code.INVALID_QUANTITY, f"row {row.row}: no quantity", field=at))
    elif match is None:
        row.errors.append(BusinessError(Code.INVALID_QUANTITY, f"row {row.row}: quantity {text.strip()!r} is not a "
                                        "whole number", field=at))
    elif not 1 <= int(match.group(1)) <= MAX_LINE_BASE_UNITS:
        row.errors.append(BusinessError(Code.INVALID_QUANTITY, f"row {row.row}: quantity {int(match.group(1))} is "
                                        f"outside 1 to {MAX_LINE_BASE_UNITS}", field=at))
    else:
        row.quantity = int(match.group(1))
