"""Bulk coupon codes: generated unique with a prefix and pattern, listed page by page with their
uses, exported as CSV; refusals name the field and change nothing; generated codes unlock their
promotion like listed ones; schedule refusals say not started or expired."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from runtime.promotions.models import PromotionCoupon
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import post, rows, store
from tests.runtime.test_checkout_api import ready_cart
from tests.runtime.test_promotions_api import APPLY, poll_every_request, publish  # noqa: F401

WELCOME = """kind: promotion
name: welcome
message: Welcome gift
phase: order
coupon: {codes: [WELCOME10]}
limits: {per_code: {max: 1}}
action: {type: percentage_off, percent: 10}
"""
GENERATE = ("mutation($p: String!, $n: Int!, $prefix: String, $pattern: String) { generatePromotionCoupons("
            "promotion: $p, count: $n, prefix: $prefix, pattern: $pattern) { batch codes errors { code field message } } }")
LIST = ("query($p: String!, $first: Int, $after: String) { promotionCoupons(promotion: $p, first: $first, after: $after) {"
        " nodes { code batch uses } totalCount endCursor } }")
CSV = "query($p: String!) { promotionCouponsCsv(promotion: $p) }"


def test_codes_are_generated_unique_listed_and_exported(app, client):
    store(app)
    merchandiser = signed_in(app, client, "merchandiser")
    publish(client, merchandiser, WELCOME)
    made = post(client, GENERATE, {"p": "welcome", "n": 50, "prefix": "wel-", "pattern": "####-####"},
                merchandiser)["data"]["generatePromotionCoupons"]
    assert made["errors"] == [] and len(set(made["codes"])) == 50
    assert all(re.fullmatch(r"WEL-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code) for code in made["codes"])
    # listed: the definition's code first, then the generated ones in code order, 20 a page
    first = post(client, LIST, {"p": "welcome", "first": 20}, merchandiser)["data"]["promotionCoupons"]
    assert (first["totalCount"], len(first["nodes"]), first["nodes"][0]) == (
        51, 20, {"code": "WELCOME10", "batch": None, "uses": 0})
    seen = [n["code"] for n in first["nodes"]]
    cursor = first["endCursor"]
    while cursor:
        page = post(client, LIST, {"p": "welcome", "first": 20, "after": cursor}, merchandiser)["data"]["promotionCoupons"]
        seen += [n["code"] for n in page["nodes"]]
        cursor = page["endCursor"]
    assert seen == ["WELCOME10", *sorted(made["codes"])]
    csv = post(client, CSV, {"p": "welcome"}, merchandiser)["data"]["promotionCouponsCsv"].splitlines()
    assert csv[0] == "code,batch,created_at,uses" and len(csv) == 52
    assert csv[2].startswith(f"{sorted(made['codes'])[0]},{made['batch']},")
    # a generated code unlocks the promotion, in any case
    cart = ready_cart(client)
    applied = post(client, APPLY, {"id": cart, "code": made["codes"][0].lower()})["data"]["applyCartCoupon"]
    assert applied["errors"] == [] and applied["cart"]["discountTotal"] == {"amount": "1.80"}


def test_refused_generation_names_the_field_and_creates_nothing(app, client):
    store(app)
    merchandiser = signed_in(app, client, "merchandiser")
    publish(client, merchandiser, WELCOME)
    publish(client, merchandiser, WELCOME.replace("name: welcome", "name: no_codes").replace(
        "coupon: {codes: [WELCOME10]}\nlimits: {per_code: {max: 1}}\n", ""))
    cases = [
        ({"p": "welcom", "n": 5}, "NOT_FOUND", "promotion", "promotion: no live promotion 'welcom'"),
        ({"p": "no_codes", "n": 5}, "PROMOTION_WITHOUT_COUPON", "promotion",
         "promotion: no_codes has no coupon block; add 'coupon: {}' to its definition to give it codes"),
        ({"p": "welcome", "n": 0}, "INVALID_INPUT", "count", "count: expected 1 to 10000, got 0"),
        ({"p": "welcome", "n": 5, "prefix": "a b"}, "INVALID_INPUT", "prefix",
         "prefix: expected up to 16 letters, digits, '-' or '_', got 'A B'"),
        ({"p": "welcome", "n": 5, "pattern": "##"}, "INVALID_INPUT", "pattern", None),
    ]
    for variables, code, field, message in cases:
        answer = post(client, GENERATE, variables, merchandiser)["data"]["generatePromotionCoupons"]
        assert answer["codes"] is None and [(e["code"], e["field"]) for e in answer["errors"]] == [(code, field)]
        if message:
            assert answer["errors"][0]["message"] == message
    assert rows(app, PromotionCoupon) == []
    # buyers may not generate
    buyer = post(client, GENERATE, {"p": "welcome", "n": 1})
    assert buyer["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")


def test_a_coupon_outside_its_schedule_is_not_started_or_expired(app, client, frozen_clock):
    store(app)
    merchandiser = signed_in(app, client, "merchandiser")
    publish(client, merchandiser, WELCOME.replace("phase: order\n", "phase: order\nschedule: {from: '2026-02-01T00:00:00', "
                                                                    "until: '2026-03-01T00:00:00'}\n"))
    cart = ready_cart(client)
    early = post(client, APPLY, {"id": cart, "code": "welcome10"})["data"]["applyCartCoupon"]["errors"]
    assert early == [{"code": "COUPON_NOT_STARTED", "field": "code", "message": "code: coupon WELCOME10 is not valid yet",
                      "conditions": None}]
    frozen_clock.freeze(datetime(2026, 3, 2, tzinfo=timezone.utc))
    late = post(client, APPLY, {"id": cart, "code": "welcome10"})["data"]["applyCartCoupon"]["errors"]
    assert [e["code"] for e in late] == ["COUPON_EXPIRED"]
    frozen_clock.freeze(datetime(2026, 2, 10, tzinfo=timezone.utc))
    ok = post(client, APPLY, {"id": cart, "code": "welcome10"})["data"]["applyCartCoupon"]
    assert ok["errors"] == [] and ok["cart"]["couponCodes"] == ["WELCOME10"]


def test_a_per_code_limit_counts_each_code_apart(app, client):
    store(app)
    merchandiser = signed_in(app, client, "merchandiser")
    publish(client, merchandiser, WELCOME)
    first, second = post(client, GENERATE, {"p": "welcome", "n": 2}, merchandiser)["data"]["generatePromotionCoupons"]["codes"]
    place = ("mutation($id: ID!, $key: String!) { placeOrder(cartId: $id, idempotencyKey: $key) {"
             " order { total { amount } } errors { code message } } }")
    cart = ready_cart(client)
    assert post(client, APPLY, {"id": cart, "code": first})["data"]["applyCartCoupon"]["errors"] == []
    assert post(client, place, {"id": cart, "key": "k1"})["data"]["placeOrder"] == {
        "order": {"total": {"amount": "21.10"}}, "errors": []}  # 18.00 − 1.80 + 4.90
    # the used code is spent; the other one still works
    again = ready_cart(client)
    refused = post(client, APPLY, {"id": again, "code": first})["data"]["applyCartCoupon"]["errors"]
    assert refused == [{"code": "COUPON_USAGE_LIMIT_REACHED", "field": "code", "conditions": None,
                        "message": f"code: coupon {first} reached its usage limit"}]
    assert post(client, APPLY, {"id": again, "code": second})["data"]["applyCartCoupon"]["errors"] == []
    listed = post(client, LIST, {"p": "welcome"}, merchandiser)["data"]["promotionCoupons"]["nodes"]
    assert {n["code"]: n["uses"] for n in listed} == {"WELCOME10": 0, first: 1, second: 0}
