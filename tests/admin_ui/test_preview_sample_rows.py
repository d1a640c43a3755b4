"""The ``SKU quantity`` rows every cart-sample preview reads (mmoq_cap, promotion, tax_rule)."""
from __future__ import annotations

import pytest

from admin_ui.previews.mmoq_cap import parse_rows
from runtime.carts.lines import MAX_LINE_BASE_UNITS


def test_good_rows_are_read_with_any_separator():
    rows = parse_rows("MUG-1 2\n\nGLOVE-M,3\nSEED-9;\t007\n")
    assert [(r.line, r.sku, r.quantity, r.error) for r in rows] == [
        (1, "MUG-1", 2, None), (3, "GLOVE-M", 3, None), (4, "SEED-9", 7, None)]


@pytest.mark.parametrize("quantity", ["0", "000", "-1", "1.5", "²", "٣", "x", "1 2"])
def test_a_quantity_that_is_not_a_positive_whole_number_is_named(quantity):
    [row] = parse_rows(f"MUG-1 {quantity}")
    assert row.quantity is None
    assert row.error.startswith("line 1: expected 'SKU quantity' with a positive whole quantity, got ")


@pytest.mark.parametrize("quantity", [str(MAX_LINE_BASE_UNITS + 1), "1" * 23, "9" * 5000])
def test_a_quantity_above_what_a_cart_line_takes_is_refused_not_overflowed(quantity):
    [row] = parse_rows(f"MUG-1 {quantity}")
    assert row.quantity is None
    assert row.error == f"line 1: at most {MAX_LINE_BASE_UNITS} per line, got {quantity[:24]}"


def test_the_largest_line_is_accepted():
    assert parse_rows(f"MUG-1 {MAX_LINE_BASE_UNITS}")[0].quantity == MAX_LINE_BASE_UNITS
