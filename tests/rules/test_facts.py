"""Fact schemas: every fact kind loads, list items resolve as $i, pack fields join the catalog."""

import pytest

from rules.facts import (ARRAY, NUMBER, STRING, UnknownField, check_pack_field, default_catalog,
                         resolve)

KINDS = {"product", "variant", "cart", "cart_line", "order", "customer", "event"}


def test_every_fact_kind_of_the_issue_is_shipped():
    assert KINDS <= default_catalog().names


@pytest.mark.parametrize("fact, path, types", [
    ("product", ("price",), {NUMBER}), ("product", ("variants",), {ARRAY}),
    ("cart", ("shipping_address", "country"), {STRING}), ("customer", ("lifetime_spend",), {NUMBER}),
    ("order", ("lines",), {ARRAY}), ("variant", ("options", "size"), {STRING}),
])
def test_fields_resolve_to_their_types(fact, path, types):
    assert default_catalog().field(fact, path).types == types


def test_list_items_come_from_the_referenced_schema():
    lines = default_catalog().field("cart", ("lines",))

    assert resolve(lines.items, ("quantity",), "the items of cart.lines").types == {NUMBER}
    assert lines.items == default_catalog().schemas["cart_line"]


def test_a_path_cannot_reach_into_a_list():
    with pytest.raises(UnknownField) as raised:
        default_catalog().field("cart", ("lines", "quantity"))

    assert raised.value.message == "field 'lines' of cart is a list; reach into its items with " \
                                   "$iany or $iall"


def test_pack_fields_live_under_the_pack_name():
    catalog = default_catalog().with_pack_fields([("acme", "customer", "loyalty_tier",
                                                   {"type": "string", "enum": ["gold", "silver"]})])

    assert catalog.field("customer", ("acme", "loyalty_tier")).enum == ("gold", "silver")
    assert catalog.pack_namespaces() == {"acme"}
    assert "acme" not in default_catalog().schemas["customer"]["properties"]  # a copy


def test_a_pack_cannot_take_the_name_of_a_core_field():
    with pytest.raises(ValueError, match="pack 'price' is named like a field of product"):
        default_catalog().with_pack_fields([("price", "product", "x", {"type": "string"})])


@pytest.mark.parametrize("value, message", [
    ({"fact": "custmer", "schema": {"type": "string"}}, "unknown fact kind 'custmer' (did you mean 'customer'?)"),
    ({"fact": "customer", "schema": {}}, "schema: a JSON Schema with a type"),
    ("customer", "expected a mapping {fact: <fact kind>, schema: <JSON Schema>}"),
    ({"fact": "product", "schema": {"type": "number"}, "values": {}}, "expected a mapping {fact: <fact kind>"),
    ({"fact": "product", "schema": {"type": "number"}, "load": {}}, "load: expected a function (session, ids)"),
])
def test_a_pack_field_registration_is_checked(value, message):
    with pytest.raises((TypeError, ValueError)) as raised:
        check_pack_field(value)

    assert str(raised.value).startswith(message)
