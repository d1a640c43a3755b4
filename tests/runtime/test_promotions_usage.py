"""Usage limits under real concurrency and their release: 100 placeOrder calls at once with a
code limited to 10 uses (PostgreSQL; SQLite runs 20 against 5, its single writer serializing
them) place exactly 10 discounted orders and refuse the rest with PROMOTION_LIMIT_REACHED; a
cancelled order gives its use back; a stale promotion stops applying and says why."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update
from sqlmodel import select

from runtime.catalog.models import ProductVariant
from runtime.carts.models import Cart
from runtime.orders.models import Order
from runtime.promotions.live import live_promotions
from runtime.promotions.models import CartCoupon, OrderDiscount, PromotionUsage, PromotionUsageCounter
from tests.admin_ui.helpers import sign_in
from tests.runtime.helpers import recorded_statements, signed_in
from tests.runtime.test_carts_api import post, rows, store
from tests.runtime.test_checkout_api import ready_cart
from tests.runtime.test_inventory_concurrency import clone_carts, place_all, wide_pool
from tests.runtime.test_promotions_api import APPLY, CART, EXPLAIN, poll_every_request, publish  # noqa: F401

LIMITED = """kind: promotion
name: launch_code
message: Launch offer
phase: order
coupon: {codes: [LAUNCH]}
limits: {global: {max: %d}}
action: {type: amount_off, amount: {EUR: 5}}
examples:
  - given: {cart: {currency: EUR, coupon_codes: [launch], lines: [{id: "1", sku: MUG-1, quantity: 2, unit_price: 9}]}}
    expect: {applied: true, discount: "5.00", lines: {"1": "5.00"}}
"""
CANCEL = ("mutation($id: ID!) { transitionOrder(orderId: $id, transition: \"cancel\") { order { state } "
          "errors { code message } } }")


def coupon_carts(app, client, count: int) -> list[str]:
    first = ready_cart(client, quantity=2)
    assert post(client, APPLY, {"id": first, "code": "launch"})["data"]["applyCartCoupon"]["errors"] == []
    carts = [first, *clone_carts(app, first, count - 1)]

    def copy_coupon(session):
        for cart in session.exec(select(Cart).where(Cart.token != first)):
            session.add(CartCoupon(cart_id=cart.id, code="LAUNCH"))

    app.extensions["vectis.db"].run(copy_coupon)
    return carts


def test_concurrent_place_orders_never_exceed_an_enforced_limit(app, client, backend):
    callers, limit = (100, 10) if backend == "postgres" else (20, 5)
    wide_pool(app)
    store(app)
    publish(client, signed_in(app, client, "merchandiser"), LIMITED % limit)
    carts = coupon_carts(app, client, callers)

    answers = place_all(app, carts)

    assert [status for status, _ in answers] == [200] * callers
    results = [body["data"]["placeOrder"] for _, body in answers]
    placed = [r for r in results if r["order"] is not None]
    refused = [r["errors"] for r in results if r["order"] is None]
    assert len(placed) == limit
    assert {r["order"]["total"]["amount"] for r in placed} == {"17.90"}  # 18.00 + 4.90 − 5.00
    assert refused == [[{"code": "PROMOTION_LIMIT_REACHED", "field": "cartId",
                         "message": "cartId: coupon LAUNCH reached its usage limit; remove it (removeCartCoupon) "
                                    "and place the order again"}]] * (callers - limit)
    assert len(rows(app, Order)) == limit == len(rows(app, PromotionUsage))
    assert sum(d.amount for d in rows(app, OrderDiscount)) == Decimal(5 * limit)
    assert [(c.key, c.used) for c in rows(app, PromotionUsageCounter)] == [("global:launch_code", limit)]
    # staff list the orders with their discount lines: one statement for all of them
    staff = signed_in(app, client, "sales")
    statements = {}
    for fields in ("id", "id discounts { sku amount { amount } couponCode promotion }"):
        with recorded_statements(app.extensions["vectis.db"]) as statements[fields]:
            listed = post(client, f"{{ orders(first: 50) {{ nodes {{ {fields} }} }} }}", {}, staff)["data"]["orders"]["nodes"]
    assert len(listed) == limit and all(
        n["discounts"] == [{"sku": "MUG-1", "amount": {"amount": "5.00"}, "couponCode": "LAUNCH",
                            "promotion": "launch_code"}] for n in listed)
    assert len(statements[fields]) == len(statements["id"]) + 1


def test_a_cancelled_order_gives_its_use_back(app, client):
    store(app)
    merchandiser = signed_in(app, client, "merchandiser")
    publish(client, merchandiser, LIMITED % 1)
    cart = coupon_carts(app, client, 1)[0]
    placed = post(client, "mutation($id: ID!, $key: String!) { placeOrder(cartId: $id, idempotencyKey: $key) { order { id } "
                          "errors { code message } } }", {"id": cart, "key": "k1"})["data"]["placeOrder"]
    assert placed["errors"] == []
    # the limit is reached: a new cart cannot apply the code
    second = ready_cart(client)
    refused = post(client, APPLY, {"id": second, "code": "LAUNCH"})["data"]["applyCartCoupon"]
    assert [e["code"] for e in refused["errors"]] == ["COUPON_USAGE_LIMIT_REACHED"]
    staff = signed_in(app, client, "sales")
    cancelled = post(client, CANCEL, {"id": placed["order"]["id"]}, staff)["data"]["transitionOrder"]
    assert cancelled == {"order": {"state": "cancelled"}, "errors": []}
    assert [(c.key, c.used) for c in rows(app, PromotionUsageCounter)] == [("global:launch_code", 0)]
    assert rows(app, PromotionUsage)[0].released_at is not None
    applied = post(client, APPLY, {"id": second, "code": "LAUNCH"})["data"]["applyCartCoupon"]
    assert applied["errors"] == []


STALE = """kind: promotion
name: brand_days
message: Brand days
phase: line
target: {skus: [MUG-1, GONE-1], brands: [acme]}
action: {type: percentage_off, percent: 10}
"""
PROMOTIONS = "{ promotions { name revision phase stale staleReason } }"


def test_a_promotion_naming_what_no_longer_exists_is_stale_and_stops_applying(app, client):
    store(app)
    merchandiser = signed_in(app, client, "merchandiser")
    publish(client, merchandiser, """kind: promotion
name: mug_sale
message: Mug sale
phase: line
target: {skus: [MUG-1]}
action: {type: percentage_off, percent: 10}
""")
    cart = ready_cart(client)
    assert post(client, CART, {"id": cart})["data"]["cart"]["discountTotal"] == {"amount": "1.80"}
    assert post(client, PROMOTIONS, {}, merchandiser)["data"]["promotions"] == [
        {"name": "mug_sale", "revision": 1, "phase": "line", "stale": False, "staleReason": None}]
    # the SKU is renamed in the catalog: the promotion's reference no longer resolves
    app.extensions["vectis.db"].run(lambda s: s.execute(update(ProductVariant).where(ProductVariant.sku == "MUG-1")
                                                        .values(sku="MUG-2")))
    live_promotions(app).stale_checked_at = float("-inf")  # as after STALE_CHECK_SECONDS
    assert post(client, PROMOTIONS, {}, merchandiser)["data"]["promotions"] == [
        {"name": "mug_sale", "revision": 1, "phase": "line", "stale": True, "staleReason": "skus MUG-1 no longer resolve"}]
    assert post(client, CART, {"id": cart})["data"]["cart"]["discountTotal"] == {"amount": "0.00"}
    explained = post(client, EXPLAIN, {"id": cart}, merchandiser)["data"]["cart"]["promotionExplain"]
    assert [(e["promotion"], e["applied"], e["reason"], e["detail"]) for e in explained] == [
        ("mug_sale", False, "STALE", "skus MUG-1 no longer resolve")]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'vectis_promotion_stale{promotion="mug_sale"} 1.0' in metrics
    # the admin definitions index flags it with the reason
    admin = app.test_client()
    sign_in(app, admin, "viewer")
    index = admin.get("/admin/definitions?kind=promotion").get_data(as_text=True)
    assert '<span class="status stale" title="skus MUG-1 no longer resolve" >stale</span>' in " ".join(index.split())
