"""The mmoq_cap kind: broken fixtures with exact messages, selection and scope, strictest-wins
resolution with provenance, and the violation check's exact values."""
from pathlib import Path

import pytest

from rules.mmoq_limits import (ABOVE_30D_MAX, ABOVE_BACKORDER_MAX, ABOVE_MAX, BELOW_MIN, NOT_INCREMENT, ORDER,
                               ROLLING_30_DAYS, VARIANT, Source, resolve, violations)
from rules.pipeline import check_paths, check_source

FIXTURES = Path(__file__).parents[1] / "fixtures" / "definitions"
CAPS = FIXTURES / "broken" / "mmoq_cap"
#: A complete cap with examples (not shipped: a cap is a live business rule in every store).
EXAMPLE = FIXTURES / "mmoq_cap"

CASES = {
    "min_above_max.yaml": [
        "broken/mmoq_cap/min_above_max.yaml:6:17: mmoq_cap/min_above_max: /limits/min_quantity: "
        "min_quantity 50 is above max_per_customer_per_order 40: no quantity is allowed",
    ],
    "impossible_increment.yaml": [
        "broken/mmoq_cap/impossible_increment.yaml:6:14: mmoq_cap/impossible_increment: /limits/increment: "
        "increment 12 allows no quantity from 1 to 10 (max_per_customer_per_order): the smallest multiple is 12",
    ],
    "select_both.yaml": [
        "broken/mmoq_cap/select_both.yaml:3:1: mmoq_cap/select_both: /select: give exactly one of 'skus' "
        "(a list of SKUs) and 'when' (a predicate over the variant)",
    ],
    "unknown_field.yaml": [
        "broken/mmoq_cap/unknown_field.yaml:5:5: mmoq_cap/unknown_field: /select/when/tag: "
        "unknown field 'tag' of variant (did you mean 'tags'?)",
    ],
    "unknown_limit.yaml": [
        "broken/mmoq_cap/unknown_limit.yaml:6:3: mmoq_cap/unknown_limit: /limits/max_per_order: "
        "unexpected key 'max_per_order' (did you mean 'max_per_customer_per_order'?)",
    ],
    "failing_example.yaml": [
        "broken/mmoq_cap/failing_example.yaml:11:41: mmoq_cap/failing_example: /examples/0/expect/violations: "
        "example failed: expected violations [], got ['MMOQ_NOT_INCREMENT'] "
        "(MMOQ_NOT_INCREMENT: increment 6, requested 8, allowed 12)",
    ],
}


@pytest.mark.parametrize("file", sorted(CASES))
def test_broken_cap_reports_exact_errors(env, file):
    # given a checked-in broken cap
    source = (CAPS / file).read_text("utf-8")

    # when it is checked
    checked = check_source(source, f"broken/mmoq_cap/{file}", env)

    # then it is refused with exactly these errors
    assert [str(error) for error in checked.errors] == CASES[file]
    assert checked.definition is None


def test_every_broken_cap_has_a_case():
    assert {path.name for path in CAPS.glob("*.yaml")} == set(CASES)


def _example(env):
    result = check_paths([EXAMPLE], env, origin="tests/fixtures/definitions/mmoq_cap")
    assert [str(error) for error in result.errors] == []
    return {d.name: d.compiled for d in result.definitions}


def test_the_example_cap_passes_its_examples_and_selects_by_predicate_within_its_scope(env):
    cap = _example(env)["bulk_fasteners"]
    wholesale, retail = {"customer_group": "wholesale"}, {"customer_group": "retail"}

    assert cap.applies({"sku": "SCR-1", "tags": ["bulk"]}, wholesale) is True
    assert cap.applies({"sku": "SCR-1", "tags": ["bulk"]}, retail) is False
    assert cap.applies({"sku": "SCR-1", "tags": ["bulk"]}, {}) is False
    assert cap.applies({"sku": "SCR-1", "tags": []}, wholesale) is False


def test_a_sku_list_cap_without_scope_applies_to_everyone(env):
    source = "kind: mmoq_cap\nname: two\nselect: {skus: [A-1, A-2]}\nlimits: {min_quantity: 2}\n"
    cap = check_source(source, "two.yaml", env).definition.compiled

    assert [cap.applies({"sku": sku}, {"channel": "web"}) for sku in ("A-1", "A-2", "A-3")] == [True, True, False]


def test_strictest_limit_wins_and_says_which_definition_set_it():
    a, b = Source("bulk", 3), Source("vip", 1)
    resolved = resolve([(a, {"min_quantity": 12, "max_per_customer_per_order": 100, "display_unit": "box"}),
                        (b, {"min_quantity": 24, "max_per_customer_per_order": 500, "increment": 6})],
                       fallback={"max_per_customer_30d": 900, "min_quantity": 1, "display_unit": "each"})

    assert {name: (limit.value, limit.source) for name, limit in resolved.limits.items()} == {
        "min_quantity": (24, b), "max_per_customer_per_order": (100, a), "increment": (6, b),
        "max_per_customer_30d": (900, VARIANT)}
    assert (resolved.display_unit, resolved.display_unit_source) == ("box", a)


def test_variant_fields_are_the_fallback_when_no_definition_applies():
    resolved = resolve([], fallback={"min_quantity": 3, "increment": None, "display_unit": "each"})

    assert {name: limit.value for name, limit in resolved.limits.items()} == {"min_quantity": 3}
    assert resolved.limits["min_quantity"].source == VARIANT
    assert resolved.display_unit == "each"


def test_violations_carry_limit_requested_allowed_and_window():
    source = Source("bulk", 2)
    resolved = resolve([(source, {"min_quantity": 24, "increment": 12, "max_per_customer_per_order": 100,
                                  "max_per_customer_30d": 500, "max_backorder_qty": 10})])

    def codes(quantity, **kwargs):
        return [(v.code, v.limit, v.requested, v.allowed, v.window) for v in violations(resolved, quantity, **kwargs)]

    assert codes(12) == [(BELOW_MIN, 24, 12, 24, ORDER)]
    assert codes(30) == [(NOT_INCREMENT, 12, 30, 36, ORDER)]
    assert codes(99) == [(NOT_INCREMENT, 12, 99, 96, ORDER)]
    assert codes(120) == [(ABOVE_MAX, 100, 120, 96, ORDER)]
    assert codes(48, ordered_30d=470) == [(ABOVE_30D_MAX, 500, 48, 24, ROLLING_30_DAYS)]
    assert codes(48, ordered_30d=500) == [(ABOVE_30D_MAX, 500, 48, 0, ROLLING_30_DAYS)]
    assert codes(48, available=30) == [(ABOVE_BACKORDER_MAX, 10, 48, 40, ORDER)]
    assert codes(36, available=30) == []
    assert codes(48) == []
    assert {v.source for v in violations(resolved, 12)} == {source}


def test_an_example_expecting_violations_needs_a_quantity(env):
    source = ("kind: mmoq_cap\nname: q\nselect: {skus: [A-1]}\nlimits: {min_quantity: 2}\nexamples:\n"
              "  - given: {variant: {sku: A-1}}\n    expect: {applies: true, violations: []}\n")

    checked = check_source(source, "q.yaml", env)

    assert [str(error) for error in checked.errors] == [
        "q.yaml:6:12: mmoq_cap/q: /examples/0/given: example needs given.quantity (base units in the cart) "
        "to check violations"]
