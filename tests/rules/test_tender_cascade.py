"""The tender_cascade kind: author errors at file:line, its examples, and the composer (parts
always add up to the total, deterministic, caps and balances respected)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules.environment import Environment
from rules.pipeline import check_source
from rules.tender_cascade import (BUYER_PREPENDED, CASCADE, EXCEEDS_TOTAL, NOT_COVERED, CompositionError, Leg, Step,
                                  compose)

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "definitions" / "broken" / "tender_cascade"
TYPES = {"card", "store_credit", "net_terms", "gift_card"}


@pytest.fixture
def tender_env() -> Environment:
    return Environment(tender_types=TYPES)


def check(name: str, env: Environment):
    return check_source((BROKEN / name).read_text("utf-8"), f"broken/tender_cascade/{name}", env)


def test_an_unknown_tender_and_a_repeated_step_are_refused_at_their_lines(tender_env):
    checked = check("unknown_tender.yaml", tender_env)

    assert [str(e) for e in checked.errors] == [
        "broken/tender_cascade/unknown_tender.yaml:5:13: tender_cascade/typo: /steps/1/tender: unknown tender type "
        "'gift_crad' (did you mean 'gift_card'?)",
        "broken/tender_cascade/unknown_tender.yaml:6:13: tender_cascade/typo: /steps/2/tender: tender 'store_credit' "
        "is already a step; a tender fills once"]
    assert checked.definition is None


def test_a_failing_example_names_the_split_it_got(tender_env):
    checked = check("failing_example.yaml", tender_env)

    assert [str(e) for e in checked.errors] == [
        "broken/tender_cascade/failing_example.yaml:10:7: tender_cascade/half_credit: /examples/0/expect: example "
        "failed: got the split store_credit 49.99 (cascade), card 50.00 (cascade)"]


def test_a_predicate_over_an_unknown_payer_field_is_an_author_error(tender_env):
    source = "kind: tender_cascade\nname: x\nwhen:\n  acount: acme\nsteps:\n  - tender: card\n"
    checked = check_source(source, "x.yaml", tender_env)

    assert [str(e) for e in checked.errors] == [
        "x.yaml:4:3: tender_cascade/x: /when/acount: unknown field 'acount' of payer (did you mean 'account'?)"]


def test_steps_fill_in_order_up_to_balances_and_caps():
    steps = [Step("store_credit", max_amount=Decimal("100")), Step("net_terms", max_percent=Decimal("50")), Step("card")]
    legs = compose(Decimal("500.00"), steps, {"store_credit": Decimal("300"), "net_terms": Decimal("1000")})

    assert legs == [Leg("store_credit", Decimal("100"), CASCADE), Leg("net_terms", Decimal("250.00"), CASCADE),
                    Leg("card", Decimal("150.00"), CASCADE)]


def test_the_buyers_tenders_go_first_and_share_a_balance_with_the_cascade():
    legs = compose(Decimal("50.00"), [Step("store_credit"), Step("card")], {"store_credit": Decimal("30")},
                   prepended=[("store_credit", Decimal("20.00")), ("gift_card", Decimal("5.00"))])

    assert legs == [Leg("store_credit", Decimal("20.00"), BUYER_PREPENDED, 0),
                    Leg("gift_card", Decimal("5.00"), BUYER_PREPENDED, 1),
                    Leg("store_credit", Decimal("10"), CASCADE), Leg("card", Decimal("15.00"), CASCADE)]


def test_tenders_that_do_not_add_up_are_refused():
    with pytest.raises(CompositionError) as exceeded:
        compose(Decimal("10.00"), [Step("card")], {}, prepended=[("gift_card", Decimal("12.00"))])
    assert (exceeded.value.code, exceeded.value.index, exceeded.value.message) == (
        EXCEEDS_TOTAL, 0, "tenders[0].amount: 12.00 is more than the 10.00 left of the total 10.00")
    with pytest.raises(CompositionError) as uncovered:
        compose(Decimal("10.00"), [Step("store_credit")], {"store_credit": Decimal("4.00")})
    assert (uncovered.value.code, uncovered.value.message) == (
        NOT_COVERED, "tenders: 6.00 of the total 10.00 is covered by no tender; add a card or another tender")


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)


@settings(max_examples=300, deadline=None)
@given(total=amounts, credit=amounts, terms=amounts, cap=st.one_of(st.none(), amounts),
       percent=st.one_of(st.none(), st.integers(1, 100)), gift=st.one_of(st.none(), amounts))
def test_the_parts_always_add_up_to_the_total_and_respect_every_limit(total, credit, terms, cap, percent, gift):
    steps = [Step("store_credit", max_amount=cap), Step("net_terms", max_percent=None if percent is None else
                                                        Decimal(percent)), Step("card")]
    available = {"store_credit": credit, "net_terms": terms}
    prepended = [] if gift is None or gift > total else [("gift_card", gift)]

    legs = compose(total, steps, available, prepended=prepended)

    assert sum(leg.amount for leg in legs) == total
    assert all(leg.amount > 0 and leg.amount == leg.amount.quantize(Decimal("0.01")) for leg in legs)
    by = {leg.tender: leg.amount for leg in legs}
    assert by.get("store_credit", 0) <= min(credit, cap if cap is not None else credit)
    assert by.get("net_terms", 0) <= terms
    if percent is not None:
        assert by.get("net_terms", 0) <= total * percent / 100
    assert legs == compose(total, steps, available, prepended=prepended)  # deterministic
