"""The promotion kind and engine: actions, phases, combination (stack group, stop, exclusive),
floors, order-phase allocation (a property test over currency precisions), author errors."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.environment import Environment
from rules.pipeline import check_source
from rules.promotion_engine import PromotionSet, catalog_prices, evaluate
from runtime.money import minor_units
from runtime.promotions.arithmetic import MONEY

ENV = Environment(money=MONEY)
AT = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def compiled(source: str):
    checked = check_source(source, "p.yaml", ENV)
    assert checked.errors == []
    return checked.definition.compiled


def promo(name: str, body: str):
    return compiled(f"kind: promotion\nname: {name}\n{body}")


def cart(*lines, currency="EUR", **extra):
    return {"currency": currency, "lines": [{"id": str(i), "sku": sku, "quantity": q, "unit_price": p}
                                            for i, (sku, q, p) in enumerate(lines, 1)], **extra}


def run(promotions, fact, **kwargs):
    return evaluate(PromotionSet(promotions), fact, money=MONEY, at=AT, **kwargs)


def test_each_line_action():
    mug = cart(("MUG", 3, "10.00"), ("CUP", 2, "4.50"))
    cases = {
        "phase: line\naction: {type: percentage_off, percent: 15}": {"1": "4.50", "2": "1.35"},
        "phase: line\ntarget: {skus: [MUG]}\naction: {type: amount_off, amount: {EUR: 2}, per: unit}": {"1": "6.00"},
        "phase: line\ntarget: {skus: [MUG]}\naction: {type: amount_off, amount: {EUR: 2}, per: line}": {"1": "2.00"},
        "phase: line\naction: {type: amount_off, amount: {EUR: 5}, per: once}": {"1": "3.85", "2": "1.15"},
        "phase: line\ntarget: {skus: [MUG]}\naction: {type: fixed_price, price: {EUR: '7.99'}}": {"1": "6.03"},
        "phase: line\ntarget: {skus: [MUG, CUP]}\naction: {type: buy_x_get_y, buy: {quantity: 2}, get: {quantity: 1, skus: [MUG, CUP]}}":
            {"2": "4.50"},  # 5 units: one application (get a cup, buy two mugs); the second lacks a buy unit
        "phase: line\naction: {type: tiered, by: quantity, tiers: [{min: 3, percent: 5}, {min: 5, percent: 10}]}":
            {"1": "3.00", "2": "0.90"},
        "phase: order\naction: {type: percentage_off, percent: 10}": {"1": "3.00", "2": "0.90"},
        # 39.00 of spend reaches the 30 tier: 6.00 spread over 30.00 and 9.00
        "phase: line\naction: {type: tiered, by: spend, tiers: [{min: 30, amount: {EUR: 6}}, {min: 50, percent: 20}]}":
            {"1": "4.62", "2": "1.38"},
        # chosen: the get units in the order of get.skus (MUG first, although CUP is cheaper), half price
        "phase: line\naction: {type: buy_x_get_y, buy: {quantity: 1}, get: {quantity: 1, skus: [MUG, CUP], percent: 50}, "
        "choose: chosen, max_applications: 1}": {"1": "5.00"},
    }
    for body, expected in cases.items():
        result = run([promo("p", body)], mug)
        assert {k: str(v) for k, v in result.outcome("p").lines.items()} == expected, body


def test_buy_two_get_one_cheapest_with_a_maximum_of_applications():
    p = promo("b2g1", "phase: line\ntarget: {skus: [A]}\naction: {type: buy_x_get_y, buy: {quantity: 2}, "
                      "get: {quantity: 1, skus: [A]}, max_applications: 1}")
    result = run([p], cart(("A", 7, "3.00")))
    assert result.outcome("p" if False else "b2g1").amount == Decimal("3.00")  # one free unit, not two


def test_shipping_and_floors():
    free = promo("free", "phase: shipping\nconditions: {subtotal: {gte: 50}}\naction: {type: free_shipping}")
    half = promo("half", "phase: shipping\naction: {type: shipping_discount, amount: {EUR: 9}}")
    result = run([free, half], cart(("A", 1, "60"), subtotal=60), shipping=Decimal("4.90"))
    assert (result.outcome("free").shipping, result.outcome("half").applied) == (Decimal("4.90"), False)
    assert result.outcome("half").reason == "NOTHING_TO_DISCOUNT"
    third = promo("third", "phase: shipping\naction: {type: shipping_discount, percent: 33}")
    assert run([third], cart(("A", 1, "5")), shipping=Decimal("4.90")).shipping_discount == Decimal("1.62")
    assert run([third], cart(("A", 1, "5"), currency="KWD"), shipping=Decimal("4.905")).shipping_discount == \
        Decimal("1.619")
    # $0 floor: two amounts larger than the line leave it at 0, never below
    big = [promo(f"big{i}", f"phase: line\npriority: {i}\naction: {{type: amount_off, amount: {{EUR: 8}}, per: line}}")
           for i in (1, 2)]
    result = run(big, cart(("A", 1, "10.00")))
    assert (result.line_discount("1"), result.outcome("big2").amount, result.outcome("big1").amount) == (
        Decimal("10.00"), Decimal("8"), Decimal("2.00"))


def test_stack_group_keeps_the_best_deal_and_stop_ends_the_phase():
    """The worked example of docs/promotions.md."""
    ten = promo("ten_percent", "phase: line\npriority: 5\nstack_group: summer\naction: {type: percentage_off, percent: 10}")
    five_off = promo("five_off", "phase: line\npriority: 9\nstack_group: summer\naction: {type: amount_off, amount: {EUR: 5}}")
    vip = promo("vip_stop", "phase: line\npriority: 20\nstacking: stop\nscope: {customer_groups: [vip]}\n"
                            "action: {type: percentage_off, percent: 20}")
    low = promo("newsletter", "phase: line\npriority: 1\naction: {type: amount_off, amount: {EUR: 1}}")
    order = promo("order_two", "phase: order\naction: {type: amount_off, amount: {EUR: 2}}")
    items = cart(("A", 2, "40.00"))  # 80.00
    result = run([ten, five_off, vip, low, order], items)
    # no vip: in group summer 10% (8.00) beats 5.00 although its priority is lower
    assert [(o.name, o.applied, o.reason) for o in result.outcomes] == [  # by phase, priority, name
        ("vip_stop", False, "OUT_OF_SCOPE"), ("five_off", False, "LOST_STACK_GROUP"), ("ten_percent", True, None),
        ("newsletter", True, None), ("order_two", True, None)]
    assert result.total == Decimal("11.00")
    result = run([ten, five_off, vip, low, order], {**items, "customer_group": "vip"})
    # vip (priority 20, stop) applies first; nothing else of the line phase; the order phase still does
    assert [(o.name, o.applied, o.reason) for o in result.outcomes if o.phase == "line"] == [
        ("vip_stop", True, None), ("five_off", False, "LOST_STACK_GROUP"), ("ten_percent", False, "STOPPED"),
        ("newsletter", False, "STOPPED")]
    assert (result.outcome("vip_stop").amount, result.outcome("order_two").amount) == (Decimal("16.00"), Decimal("2"))


def test_a_tie_in_a_stack_group_goes_to_priority_then_name():
    a = promo("alpha", "phase: line\nstack_group: g\naction: {type: amount_off, amount: {EUR: 3}}")
    b = promo("beta", "phase: line\nstack_group: g\naction: {type: amount_off, amount: {EUR: 3}}")
    assert [o.name for o in run([b, a], cart(("A", 1, "10"))).applied] == ["alpha"]
    b2 = promo("beta", "phase: line\nstack_group: g\npriority: 1\naction: {type: amount_off, amount: {EUR: 3}}")
    assert [o.name for o in run([b2, a], cart(("A", 1, "10"))).applied] == ["beta"]


def test_exclusive_applies_alone_in_its_phase():
    a = promo("alone", "phase: line\nexclusive: true\naction: {type: percentage_off, percent: 10}")
    b = promo("other", "phase: line\npriority: 50\naction: {type: percentage_off, percent: 10}")
    result = run([a, b], cart(("A", 1, "10")))
    assert [(o.name, o.applied, o.reason) for o in result.outcomes] == [("other", False, "EXCLUDED"), ("alone", True, None)]


def test_conditions_scope_schedule_and_coupon_explain_why_not():
    p = promo("p", "phase: order\nschedule: {from: '2026-06-01T00:00:00', until: '2026-06-02T00:00:00'}\n"
                   "coupon: {codes: [Save10]}\nconditions: {subtotal: {gte: 100}}\n"
                   "action: {type: percentage_off, percent: 10}")
    fact = cart(("A", 1, "20"), subtotal=20, coupon_codes=["save10"])
    outcome = run([p], fact).outcome("p")
    assert (outcome.reason, outcome.detail) == ("CONDITIONS_FAILED", "subtotal >= 100 (actual: 20)")
    assert run([p], {**fact, "coupon_codes": []}).outcome("p").reason == "COUPON_REQUIRED"
    # the zone-less schedule is read in the channel's zone: 12:00 UTC is 22:00 in Sydney, still June 1
    assert run([p], fact, zone="Australia/Sydney").outcome("p").reason == "CONDITIONS_FAILED"
    assert run([p], fact, zone="Pacific/Kiritimati").outcome("p").reason == "SCHEDULE_CLOSED"  # already June 2 there


@settings(max_examples=200, deadline=None)
@given(currency=st.sampled_from(["EUR", "JPY", "KWD", "BHD", "USD"]),
       units=st.lists(st.tuples(st.integers(1, 9), st.integers(1, 10**6)), min_size=1, max_size=12),
       percent=st.integers(1, 100), amount=st.integers(1, 10**7))
def test_order_discounts_are_allocated_exactly_in_every_precision(currency, units, percent, amount):
    places = minor_units(currency)
    lines = [("S%d" % i, qty, str(Decimal(price).scaleb(-places))) for i, (qty, price) in enumerate(units)]
    fact = cart(*lines, currency=currency)
    value = str(Decimal(amount).scaleb(-places))
    for body in (f"phase: order\naction: {{type: percentage_off, percent: {percent}}}",
                 f"phase: order\naction: {{type: amount_off, amount: {{{currency}: '{value}'}}}}"):
        outcome = run([promo("o", body)], fact).outcome("o")
        shares = list(outcome.lines.values())
        assert sum(shares, Decimal(0)) == outcome.amount  # the shares add up exactly
        assert all(share == share.quantize(Decimal(1).scaleb(-places)) for share in shares)
        for index, (_sku, qty, price) in enumerate(lines, 1):  # no line below 0
            assert outcome.lines.get(str(index), Decimal(0)) <= Decimal(price) * qty


@pytest.mark.parametrize("body, message", [
    ("phase: line\nschedule: {from: '2026-06-02T00:00:00Z', until: '2026-06-01T00:00:00Z'}\n"
     "action: {type: percentage_off, percent: 5}", "/schedule/until: the schedule ends"),
    ("phase: line\naction: {type: percentage_off, percent: 120}", "a percentage must be a number from 0 to 100, got 120"),
    ("phase: line\naction: {type: amount_off, amount: {EUR: -2}}", "an amount must be a number of at least 0, got -2"),
    ("phase: line\ntarget: {when: {sku: {eq: 'A'}, quantity: {lt: 0}, unit_price: {nope: 1}}}\n"
     "action: {type: percentage_off, percent: 5}", "/target/when"),
    ("phase: line\ntarget: {when: {quantity: {gt: 5, lt: 3}}}\naction: {type: percentage_off, percent: 5}",
     "the target can select no cart line: quantity would have to be > 5 and < 3"),
    ("phase: line\ntarget: {when: {quantity: {lt: 1}}}\naction: {type: percentage_off, percent: 5}",
     "the target can select no cart line: quantity would have to be >= 1 and < 1"),
    ("phase: line\ntarget: {when: {$and: [{sku: A}, {sku: B}]}}\naction: {type: percentage_off, percent: 5}",
     "sku cannot be both 'A' and 'B'"),
    ("phase: line\naction: {type: buy_x_get_y, buy: {quantity: 2}, get: {quantity: 1}}",
     "get must name the variants given"),
    ("phase: line\nstacking: stopp\naction: {type: percentage_off, percent: 5}", "did you mean 'stop'?"),
    ("phase: order\naction: {type: fixed_price, price: {EUR: 1}}", "action 'fixed_price' does not act in the order phase"),
    ("phase: catalog\nconditions: {subtotal: {gt: 1}}\naction: {type: percentage_off, percent: 5}",
     "a catalog-phase promotion cannot have conditions"),
    ("phase: line\naction: {type: tiered, tiers: [{min: 5, percent: 5}, {min: 3, percent: 10}]}", "tiers must rise"),
])
def test_author_mistakes_are_refused_at_file_and_line(body, message):
    checked = check_source(f"kind: promotion\nname: p\n{body}\n", "p.yaml", ENV)
    assert checked.errors, body
    text = "\n".join(str(e) for e in checked.errors)
    assert message in text and "p.yaml:" in text


def test_a_failing_example_is_reported_at_its_expectation():
    checked = check_source("kind: promotion\nname: p\nphase: line\naction: {type: percentage_off, percent: 10}\n"
                           "examples:\n  - given: {cart: {currency: EUR, lines: [{id: a, sku: X, quantity: 1, unit_price: 10}]}}\n"
                           "    expect: {discount: '2.00'}\n", "p.yaml", ENV)
    assert [str(e) for e in checked.errors] == [
        "p.yaml:7:24: promotion/p: /examples/0/expect/discount: example failed: expected discount 2.00, got 1.00"]


def test_conditions_read_the_customer_and_lines_of_the_cart():
    p = promo("b2b_mugs", "phase: order\nconditions: {customer.is_b2b: true, lines: {any: {$i.sku: MUG, $i.quantity: {gte: 10}}}}\n"
                          "action: {type: percentage_off, percent: 5}")
    b2b = cart(("MUG", 10, "2.00"), customer={"is_b2b": True})
    assert run([p], b2b).outcome("b2b_mugs").amount == Decimal("1.00")
    outcome = run([p], {**b2b, "customer": {"is_b2b": False}}).outcome("b2b_mugs")
    assert (outcome.reason, [f.condition for f in outcome.failures]) == ("CONDITIONS_FAILED", ["customer.is_b2b == True"])


def test_catalog_prices_decide_each_variant_on_its_own():
    ten = promo("ten", "phase: catalog\nstack_group: sale\naction: {type: percentage_off, percent: 10}")
    three = promo("three", "phase: catalog\nstack_group: sale\naction: {type: amount_off, amount: {EUR: 3}}")
    web = promo("web_only", "phase: catalog\nscope: {channels: [web]}\ntarget: {brands: [acme]}\n"
                            "action: {type: fixed_price, price: {EUR: '1.00'}}")
    variants = [{"id": "a", "sku": "A", "unit_price": 10}, {"id": "b", "sku": "B", "unit_price": 50},
                {"id": "c", "sku": "C", "brand": "acme", "unit_price": 20}]
    found = catalog_prices(PromotionSet([ten, three, web]), variants, money=MONEY, currency="EUR",
                           scope={"channel": "web"}, at=AT)
    # in group sale the best deal is per variant: 3.00 off 10, 10 % off 50; on the acme one 3.00 off
    # (better than 2.00) applies first by name, then the fixed price
    assert found == [(Decimal("7.00"), ["three"]), (Decimal("45.00"), ["ten"]),
                     (Decimal("1.00"), ["three", "web_only"])]
    assert catalog_prices(PromotionSet([web]), variants[2:], money=MONEY, currency="EUR", scope={"channel": "b2b"},
                          at=AT) == [(Decimal("20"), [])]
