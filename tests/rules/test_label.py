"""The label kind: display, surfaces, schedule, channel scope, examples and author errors."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from rules.environment import Environment
from rules.facts import default_catalog
from rules.label import SURFACES
from rules.pipeline import check_source

LABELS = Path(__file__).parents[1] / "fixtures" / "definitions" / "broken" / "labels"

FULL = """kind: label
name: black_friday
label: {text: Black Friday, style: sale, color: "#111111", icon: tag, priority: 30}
surfaces: [catalog_card, search_results]
schedule: {from: "2026-11-27T00:00:00Z", until: "2026-12-01T00:00:00+01:00"}
channels: [b2c, outlet]
when:
  compare_at_price: {gt: {field: price}}
  variants: {any: {$i.stock: {gt: 0}}}
examples:
  - given: {price: 10, compare_at_price: 20, variants: [{stock: 0}, {stock: 3}]}
    expect: true
  - description: inside the window, in a listed channel
    given: {price: 10, compare_at_price: 20, variants: [{stock: 3}]}
    at: "2026-11-28T09:00:00Z"
    channel: b2c
    expect: true
  - description: the window closed (until is exclusive)
    given: {price: 10, compare_at_price: 20, variants: [{stock: 3}]}
    at: "2026-11-30T23:00:00Z"
    expect: false
  - description: a channel it is not scoped to
    given: {price: 10, compare_at_price: 20, variants: [{stock: 3}]}
    channel: b2b
    expect: false
"""


def _utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def test_a_full_label_compiles_with_every_field():
    checked = check_source(FULL, "black_friday.yaml", Environment())

    assert [str(e) for e in checked.errors] == []
    label = checked.definition.compiled
    assert (label.text, label.style, label.color, label.icon, label.priority) == (
        "Black Friday", "sale", "#111111", "tag", 30)
    assert label.surfaces == {"catalog_card", "search_results"}
    assert label.channels == {"b2c", "outlet"}
    assert (label.starts_at, label.ends_at) == (_utc(2026, 11, 27), _utc(2026, 11, 30, 23))


def test_schedule_from_is_inclusive_and_until_exclusive():
    label = check_source(FULL, "x.yaml", Environment()).definition.compiled

    assert label.active_at(_utc(2026, 11, 26, 23, 59)) is False
    assert label.active_at(_utc(2026, 11, 27)) is True
    assert label.active_at(_utc(2026, 11, 30, 22, 59)) is True
    assert label.active_at(_utc(2026, 11, 30, 23)) is False


def test_channel_scope_and_surfaces():
    label = check_source(FULL, "x.yaml", Environment()).definition.compiled

    assert [label.shown_in(c) for c in ("b2c", "outlet", "b2b", None)] == [True, True, False, False]
    assert [s for s in SURFACES if label.shows_on(s)] == ["search_results", "catalog_card"]


def test_a_label_without_scope_shows_everywhere_always_with_the_neutral_style():
    source = "kind: label\nname: cheap\nlabel: {text: Cheap}\nwhen: {price: {lt: 10}}\n"
    label = check_source(source, "x.yaml", Environment()).definition.compiled

    assert label.surfaces == set(SURFACES)
    assert label.channels is None and label.shown_in(None) and label.shown_in("b2b")
    assert label.active_at(_utc(1999, 1, 1)) and label.active_at(_utc(2999, 1, 1))
    assert (label.style, label.priority, label.functions) == ("neutral", 0, ())


def test_a_failing_scoped_example_says_which_scope_hid_the_label():
    source = FULL.replace("channel: b2b\n    expect: false", "channel: b2b\n    expect: true")

    checked = check_source(source, "x.yaml", Environment())

    assert [str(e) for e in checked.errors] == [
        "x.yaml:25:13: label/black_friday: /examples/3/expect: example failed: expected true, "
        "got false: the label is not shown in channel 'b2b'"]


def test_an_example_time_without_a_zone_is_an_author_error():
    source = FULL.replace('at: "2026-11-28T09:00:00Z"', 'at: "2026-11-28 09:00"')

    checked = check_source(source, "x.yaml", Environment())

    assert [str(e) for e in checked.errors] == [
        "x.yaml:15:9: label/black_friday: /examples/1/at: expected an ISO-8601 time with a zone, "
        "got '2026-11-28 09:00'"]


def test_the_functions_a_label_calls_are_listed_with_their_pack():
    env = Environment(predicate_functions={"acme.is_gold": lambda f: True,
                                           "beta.is_gold": lambda f: False})
    source = ("kind: label\nname: gold\nlabel: {text: Gold}\n"
              "when: {$or: [{$fn: beta.is_gold}, {$fn: acme.is_gold}, {price: {gt: 100}}]}\n")

    label = check_source(source, "x.yaml", env).definition.compiled

    assert label.functions == ("acme.is_gold", "beta.is_gold")


def test_a_pack_field_is_read_under_its_namespace():
    facts = default_catalog().with_pack_fields([("acme", "product", "origin", {"type": "string"})])
    env = Environment(facts=facts, packs={"acme", "core"})
    source = "kind: label\nname: french\nlabel: {text: From France}\nwhen: {acme.origin: FR}\n"

    label = check_source(source, "x.yaml", env).definition.compiled

    assert label.applies({"acme": {"origin": "FR"}}) is True
    assert label.applies({"origin": "FR"}) is False


@pytest.mark.parametrize("field", ["price", "compare_at_price", "stock", "tags", "category",
                                   "categories", "brand", "attributes.color", "age_days",
                                   "variants"])
def test_the_product_fact_declares_what_labels_read(field):
    assert default_catalog().field("product", tuple(field.split(".")))


BROKEN = {
    "schedule_reversed.yaml": [
        "broken/labels/schedule_reversed.yaml:6:10: label/black_friday: /schedule/until: the "
        "schedule ends (2026-11-27T00:00:00Z) before or when it starts (2026-11-30T00:00:00Z)"],
    "schedule_no_zone.yaml": [
        "broken/labels/schedule_no_zone.yaml:4:18: label/black_friday: /schedule/from: expected "
        "an ISO-8601 time with a zone like '2026-11-27T00:00:00Z', got '2026-11-27 00:00'"],
    "unknown_surface.yaml": [
        "broken/labels/unknown_surface.yaml:3:29: label/cheap: /label/style: 'bargain' is not one "
        "of 'neutral', 'info', 'success', 'warning', 'danger', 'sale', 'new'",
        "broken/labels/unknown_surface.yaml:4:26: label/cheap: /surfaces/1: 'search_result' is "
        "not one of 'product_page', 'related_products', 'recently_viewed', 'search_results', "
        "'catalog_card' (did you mean 'search_results'?)"],
    "unknown_variant_field.yaml": [
        "broken/labels/unknown_variant_field.yaml:7:7: label/cheap_variant: "
        "/when/variants/any/$i.prise: unknown field '$i.prise' of the items of product.variants "
        "(did you mean '$i.price'?)"],
    "bad_channel.yaml": [
        "broken/labels/bad_channel.yaml:4:12: label/b2b_only: /channels/0: channel 'B2B' must be "
        "a channel slug (lower-case letters, digits, single hyphens)"],
}


@pytest.mark.parametrize("file", sorted(BROKEN))
def test_broken_label_fixture_reports_exact_errors(file):
    checked = check_source((LABELS / file).read_text("utf-8"), f"broken/labels/{file}",
                           Environment())

    assert [str(error) for error in checked.errors] == BROKEN[file]
    assert checked.definition is None


def test_every_broken_label_fixture_has_a_case():
    assert {path.name for path in LABELS.glob("*.yaml")} == set(BROKEN)
