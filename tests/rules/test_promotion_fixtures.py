"""One checked-in broken promotion per author-error kind, each with its exact message."""
from pathlib import Path

from rules.environment import Environment
from rules.pipeline import check_paths
from runtime.promotions.arithmetic import MONEY

FOLDER = Path(__file__).parents[1] / "fixtures" / "definitions" / "broken" / "promotions"
CASES = {
    "schedule_reversed.yaml": [
        "promotions/schedule_reversed.yaml:6:10: promotion/schedule_reversed: /schedule/until: the schedule ends "
        "(2026-06-01T00:00:00) before or when it starts (2026-06-08T00:00:00)"],
    "percent_out_of_range.yaml": [
        "promotions/percent_out_of_range.yaml:6:12: promotion/percent_out_of_range: /action/percent: a percentage "
        "must be a number from 0 to 100, got 110"],
    "negative_amount.yaml": [
        "promotions/negative_amount.yaml:6:17: promotion/negative_amount: /action/amount/EUR: an amount must be a "
        "number of at least 0, got '-5.00'"],
    "target_selects_nothing.yaml": [
        "promotions/target_selects_nothing.yaml:6:5: promotion/target_selects_nothing: /target/when: the target can "
        "select no cart line: quantity would have to be >= 10 and < 5"],
    "get_not_variants.yaml": [
        "promotions/get_not_variants.yaml:8:3: promotion/get_not_variants: /action/get: get must name the variants "
        "given: 'skus' (SKUs) or 'when' (a predicate over the cart line)"],
    "unknown_stacking.yaml": [
        "promotions/unknown_stacking.yaml:4:11: promotion/unknown_stacking: /stacking: 'stopp' is not one of "
        "'stack', 'stop' (did you mean 'stop'?)"],
    "unknown_target_field.yaml": [
        "promotions/unknown_target_field.yaml:6:5: promotion/unknown_target_field: /target/when/skuu: unknown field "
        "'skuu' of cart_line (did you mean 'sku'?)"],
}


def test_each_broken_promotion_gives_its_message():
    result = check_paths([FOLDER], Environment(money=MONEY))
    found = {Path(c.path).name: [str(e) for e in c.errors] for c in result.checked}
    assert found == CASES
