"""One checked-in broken predicate per kind of mistake in the predicate language, exact message."""

import pytest

from rules.environment import Environment
from rules.pipeline import check_source

CASES = {
    "iany_on_scalar.yaml": [
        "broken/predicates/iany_on_scalar.yaml:5:15: label/on_sale: /when/name/any: "
        "$iany needs a list, but 'name' is a string field of product",
    ],
    "item_field_without_i.yaml": [
        "broken/predicates/item_field_without_i.yaml:6:22: label/big_variant: /when/$iany/variants/$gt/stock: "
        "inside $iany/$iall fields are read from the current item: write '$i.stock' "
        "(or '$i' for the item itself)",
    ],
    "unknown_item_field.yaml": [
        "broken/predicates/unknown_item_field.yaml:6:11: label/cheap_variant: /when/variants/any/$i.prise: "
        "unknown field '$i.prise' of the items of product.variants (did you mean '$i.price'?)",
    ],
    "mt_on_number.yaml": [
        "broken/predicates/mt_on_number.yaml:5:17: label/stock_pattern: /when/$imt/stock: "
        "$imt matches strings, but 'stock' is a number field of product",
    ],
    "arithmetic_on_string.yaml": [
        "broken/predicates/arithmetic_on_string.yaml:5:30: label/margin: /when/price/gt/mul/0/field: "
        "arithmetic needs numbers, but 'name' is a string field of product",
    ],
    "arithmetic_shape.yaml": [
        "broken/predicates/arithmetic_shape.yaml:5:23: label/markup: /when/$gt/price/$mul: "
        "$mul needs {$l: left, $r: right}",
    ],
    "unsupported_pattern.yaml": [
        "broken/predicates/unsupported_pattern.yaml:5:18: label/shoe_sku: /when/sku/matches: invalid regular "
        "expression 'SH-\\\\d+': backslash escapes are not supported (use a class: [0-9] for a "
        "digit, [.] for a dot) at position 3",
    ],
    "stale_pack_function.yaml": [
        "broken/predicates/stale_pack_function.yaml:5:8: label/gold: /when/$fn: predicate function "
        "'acme.is_gold' belongs to pack 'acme', which is not installed",
    ],
    "stale_pack_field.yaml": [
        "broken/predicates/stale_pack_field.yaml:5:3: label/french: /when/acme.origin: field 'acme.origin' "
        "belongs to pack 'acme', which is not installed",
    ],
    "unknown_pack_function.yaml": [
        "broken/predicates/unknown_pack_function.yaml:5:8: label/vip: /when/$fn: unknown predicate function "
        "'core.is_vp' (did you mean 'core.is_vip'?)",
    ],
}


@pytest.fixture
def pack_env() -> Environment:
    return Environment(predicate_functions={"core.is_vip": lambda fact: True},
                       packs=frozenset({"core"}))


@pytest.mark.parametrize("file", sorted(CASES))
def test_broken_predicate_reports_exact_errors(broken, pack_env, file):
    # given a checked-in broken predicate
    source = (broken / "predicates" / file).read_text("utf-8")

    # when it is checked
    checked = check_source(source, f"broken/predicates/{file}", pack_env)

    # then it is refused with exactly these errors
    assert [str(error) for error in checked.errors] == CASES[file]
    assert checked.definition is None


def test_every_broken_predicate_has_a_case(broken):
    assert {path.name for path in (broken / "predicates").glob("*.yaml")} == set(CASES)
