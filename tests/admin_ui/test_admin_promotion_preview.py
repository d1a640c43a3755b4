"""The promotion preview: a sample cart priced line by line with the draft against the live
revision, and the simulation against the placed orders of the last N days (bounded, read-only),
with exact amounts on a small fixture; viewers may preview but not publish."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from admin_ui.previews import promotion, promotion_history
from runtime.auth.service import seed_roles
from runtime.accounts.service import create_customer_group, register_customer, set_customer_group
from runtime.catalog.models import ProductVariant
from runtime.channels.models import Channel
from runtime.orders.models import Order, OrderLine
from runtime.definitions.environment import build_environment
from runtime.definitions.store import check
from runtime.promotions.facts import Buyer, PricedLine, buyer_facts, cart_fact, line_facts
from runtime.promotions.live import live_promotions
from runtime.carts.models import Cart
from runtime.promotions.models import CartCoupon, OrderDiscount, PromotionUsage
from tests.admin_ui.helpers import publish, revisions, seed_catalog, sign_in

LIVE = """kind: promotion
name: tools_sale
message: Tools sale
phase: line
target: {skus: [SKU-01, SKU-02]}
action: {type: percentage_off, percent: 10}
examples:
  - given: {cart: {currency: EUR, lines: [{id: "1", sku: SKU-01, quantity: 2, unit_price: 11}]}}
    expect: {applied: true, discount: "2.20"}
"""
#: The draft: 20% and SKU-03 too.
DRAFT = LIVE.replace("[SKU-01, SKU-02]", "[SKU-01, SKU-02, SKU-03]").replace("percent: 10", "percent: 20").replace(
    '"2.20"', '"4.40"')
FREESHIP = """kind: promotion
name: freeship
message: Free shipping
phase: shipping
coupon: {codes: [FREESHIP]}
action: {type: free_shipping}
examples:
  - given: {cart: {currency: EUR, coupon_codes: [FREESHIP], lines: []}, shipping: "4.90"}
    expect: {applied: true, shipping: "4.90"}
"""
PAGE = "/admin/definitions/promotion/tools_sale"


def post(client, path, token, **form):
    return client.post(path, data={"csrf_token": token, **form})


def place(session, number: str, days_ago: int, lines: list[tuple[str, int]], now, state: str = "placed",
          customer_id: int | None = None, coupon: str | None = None) -> Order:
    """An order as placeOrder leaves it (only what the simulation reads), placed ``days_ago``;
    with ``coupon``, its converted cart had applied that code."""
    channel = session.execute(select(Channel).where(Channel.slug == "web")).scalar_one()
    variants = {v.sku: v for v in session.execute(select(ProductVariant)).scalars()}
    at = now - timedelta(days=days_ago)
    cart_id = None
    if coupon is not None:
        cart = Cart(token=f"t-{number}", channel_id=channel.id, currency="EUR", state="converted", state_entered_at=at)
        session.add(cart)
        session.flush()
        session.add(CartCoupon(cart_id=cart.id, code=coupon))
        cart_id = cart.id
    subtotal = sum((variants[sku].base_price * quantity for sku, quantity in lines), Decimal(0))
    order = Order(number=number, channel_id=channel.id, cart_id=cart_id, currency="EUR", base_currency="EUR", state=state,
                  state_entered_at=at, customer_id=customer_id, subtotal=subtotal, shipping_total=Decimal("4.90"),
                  total=subtotal + Decimal("4.90"), base_total=subtotal + Decimal("4.90"), created_at=at, updated_at=at)
    session.add(order)
    session.flush()
    session.add_all([OrderLine(order_id=order.id, variant_id=variants[sku].id, sku=sku, product_name=sku,
                               quantity=quantity, unit_price=variants[sku].base_price,
                               line_total=variants[sku].base_price * quantity, base_unit_price=variants[sku].base_price,
                               price_level="BASE") for sku, quantity in lines])
    return order


@pytest.fixture
def history(app, frozen_clock):
    """SKU-0i costs 10 + i; five orders, one cancelled and one older than 30 days."""
    seed_catalog(app.extensions["vectis.db"])
    now = frozen_clock.now()

    def work(session):
        seed_roles(session)
        create_customer_group(session, "vip", "VIP")
        customer = register_customer(session, "vip@example.test", "correct horse battery", "Vera", "Ip")
        set_customer_group(session, customer_id=customer.id, group_slug="vip")
        place(session, "V-1", 2, [("SKU-01", 2), ("SKU-05", 1)], now, customer_id=customer.id)
        place(session, "V-2", 10, [("SKU-03", 1)], now, coupon="TOOLS20")
        place(session, "V-3", 40, [("SKU-01", 1)], now)
        place(session, "V-4", 5, [("SKU-02", 1)], now, state="cancelled")
        place(session, "V-5", 1, [("SKU-07", 3)], now)

    app.extensions["vectis.db"].run(work)
    publish(app, LIVE)
    publish(app, FREESHIP)


def compiled(app, source: str):
    checked = check(source, build_environment(app.extensions["vectis.registry"]), "promotion/tools_sale")
    assert checked.ok, checked.errors
    return checked.definition.compiled


def test_a_sample_cart_is_priced_line_by_line_with_the_draft_against_the_live_revision(app, client, history):
    token = sign_in(app, client, "merchandiser")
    response = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1",
                    cart_rows="SKU-01 2\nSKU-03 1\nSKU-05 1\nNOPE 1", coupons="freeship", shipping="4.90")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-sku="([^"]+)" data-line="\d+">(.*?)</tr>', page, re.S))
    cells = {sku: re.search(r'class="live"><strong class="discount">−([\d.]+)</strong> = ([\d.]+).*?'
                            r'class="draft"><strong class="discount">−([\d.]+)</strong> = ([\d.]+)', rows[sku], re.S).groups()
             for sku in ("SKU-01", "SKU-03", "SKU-05")}
    # SKU-01: 2 × 11.00 → 10 % live, 20 % draft; SKU-03 (13.00) only in the draft; SKU-05 in neither
    assert cells == {"SKU-01": ("2.20", "19.80", "4.40", "17.60"), "SKU-03": ("0.00", "13.00", "2.60", "10.40"),
                     "SKU-05": ("0.00", "15.00", "0.00", "15.00")}
    assert "line 4: no variant with SKU &#39;NOPE&#39;" in rows["NOPE"]
    assert re.search(r'id="live-lines">−2.20<', page) and re.search(r'id="draft-lines">−7.00<', page)
    # the FREESHIP coupon gives the 4.90 shipping on both sides: 50.00 − lines + 4.90 − 4.90
    assert re.search(r'id="draft-shipping">−4.90<', page)
    assert re.search(r'id="live-total">47.80<', page) and re.search(r'id="draft-total">43.00<', page)
    assert "applied: −2.20" in re.search(r'id="outcome-live">(.*?)</p>', page, re.S).group(1)
    assert "applied: −7.00" in re.search(r'id="outcome-draft">(.*?)</p>', page, re.S).group(1)
    assert revisions(app, "promotion", "tools_sale") == [(1, "someone@example.test", "test", True)]


def test_sample_cart_input_errors_name_their_field(app, client, history):
    token = sign_in(app, client, "merchandiser")
    page = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1", cart_rows="SKU-01 1",
                channel="nowhere", buyer="ghost@example.test", coupons="x", shipping="-1").get_data(as_text=True)
    problems = re.findall(r'<p class="refused">(.*?)</p>', page)
    assert problems == ["channel: no channel &#39;nowhere&#39;",
                        "buyer: no customer with e-mail &#39;ghost@example.test&#39;",
                        "coupons: expected a coupon code of 2 to 40 letters, digits, &#39;-&#39; or &#39;_&#39;, "
                        "got &#39;x&#39;",
                        "shipping: expected 0 or more, got &#39;-1&#39;"]


def test_a_draft_naming_a_sku_that_does_not_exist_is_shown_stale(app, client, history):
    token = sign_in(app, client, "merchandiser")
    page = post(client, PAGE, token, source=DRAFT.replace("SKU-03]", "SKU-99]"), action="preview",
                base_revision="1", cart_rows="SKU-01 1").get_data(as_text=True)
    assert "Stale once published: skus SKU-99 no longer resolve. It would not apply." in page
    assert "<code>STALE</code> skus SKU-99 no longer resolve" in re.search(
        r'id="outcome-draft">(.*?)</p>', page, re.S).group(1)


def test_simulation_reprices_the_last_n_days_of_orders_with_the_draft_against_live(app, client, history):
    token = sign_in(app, client, "merchandiser")
    page = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1",
                simulate_days="30").get_data(as_text=True)
    # V-1, V-2 and V-5 (V-3 is 40 days old, V-4 cancelled)
    assert re.search(r'id="sim-scanned">3<', page)
    assert re.search(r'id="sim-touched-draft">2<', page) and re.search(r'id="sim-touched-live">1<', page)
    assert re.search(r'id="sim-changed">2<', page)
    eur = re.search(r'<tr data-currency="EUR">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'class="(own-live|own-draft|all-live|all-draft)">([\d.]+)<', eur) == [
        ("own-live", "2.20"), ("own-draft", "7.00"), ("all-live", "2.20"), ("all-draft", "7.00")]
    top = re.findall(r'<tr data-sku="(SKU-\d\d)"><td>[^<]*</td><td>(\d+ / \d+)</td>\s*<td class="live">([\d.]+) EUR</td>'
                     r'<td class="draft">([\d.]+) EUR</td>', page)
    assert top == [("SKU-01", "1 / 1", "2.20", "4.40"), ("SKU-03", "0 / 1", "0.00", "2.60")]
    assert re.findall(r"<li>(V-\d): ([\d.]+) → ([\d.]+) EUR</li>", page) == [("V-1", "2.20", "4.40"), ("V-2", "0.00", "2.60")]


def test_simulation_is_bounded_by_days_and_orders_and_refuses_bad_bounds(app, client, history):
    token = sign_in(app, client, "merchandiser")
    newest = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1", simulate_days="30",
                  simulate_max_orders="1").get_data(as_text=True)
    assert re.search(r'id="sim-scanned">1<', newest) and "(the newest 1 only)" in newest
    assert re.search(r'id="sim-touched-draft">0<', newest)  # V-5: SKU-07 only
    longer = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1",
                  simulate_days="45").get_data(as_text=True)
    assert re.search(r'id="sim-scanned">4<', longer) and re.search(r'id="sim-touched-live">2<', longer)
    bad = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1", simulate_days="0",
               simulate_max_orders="99999").get_data(as_text=True)
    assert re.findall(r'<p class="refused">(.*?)</p>', bad) == [
        "simulate_days: expected a whole number from 1 to 365, got &#39;0&#39;",
        "simulate_max_orders: expected a whole number from 1 to 5000, got &#39;99999&#39;"]


def test_simulation_options_ignore_the_schedule_and_assume_the_coupon(app, client, history):
    token = sign_in(app, client, "merchandiser")
    later = DRAFT.replace("phase: line", "phase: line\nschedule: {from: '2026-06-01T00:00:00Z'}")
    closed = post(client, PAGE, token, source=later, action="preview", base_revision="1",
                  simulate_days="30").get_data(as_text=True)
    assert re.search(r'id="sim-touched-draft">0<', closed)
    opened = post(client, PAGE, token, source=later, action="preview", base_revision="1", simulate_days="30",
                  simulate_ignore_schedule="1").get_data(as_text=True)
    assert re.search(r'id="sim-touched-draft">2<', opened) and ", ignoring its schedule" in opened
    coupon = DRAFT.replace("phase: line", "phase: line\ncoupon: {codes: [TOOLS20]}").replace(
        "{currency: EUR, lines", "{currency: EUR, coupon_codes: [TOOLS20], lines")
    page = post(client, PAGE, token, source=coupon, action="preview", base_revision="1",
                simulate_days="30").get_data(as_text=True)
    assert re.search(r'id="sim-touched-draft">1<', page)  # V-2's cart applied TOOLS20
    assert re.findall(r"<li>(V-\d): ([\d.]+) → ([\d.]+) EUR</li>", page) == [("V-1", "2.20", "0.00"), ("V-2", "0.00", "2.60")]
    page = post(client, PAGE, token, source=coupon, action="preview", base_revision="1", simulate_days="30",
                simulate_assume_coupon="1").get_data(as_text=True)
    assert re.search(r'id="sim-touched-draft">2<', page)


def test_simulation_issues_only_selects_and_writes_nothing(app, history):
    engine = app.extensions["vectis.db"].engine
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    counts = []
    with app.extensions["vectis.db"].session() as s:
        counts.append(tuple(s.execute(select(func.count()).select_from(model)).scalar_one()
                            for model in (OrderDiscount, PromotionUsage, Order)))
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with app.app_context(), app.extensions["vectis.db"].session() as s:
            current = live_promotions(app).promotions.by_name("tools_sale")
            shown = promotion.preview(app, s, compiled(app, DRAFT), current,
                                      {"simulate_days": "30", "cart_rows": "SKU-01 1"})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert shown["history"]["scanned"] == 3 and shown["cart"]["totals"]["draft"]["lines"] == Decimal("2.20")
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements), statements
    with app.extensions["vectis.db"].session() as s:
        counts.append(tuple(s.execute(select(func.count()).select_from(model)).scalar_one()
                            for model in (OrderDiscount, PromotionUsage, Order)))
    assert counts[0] == counts[1] == (0, 0, 5)


def test_an_order_fact_has_the_shape_of_a_cart_fact(app, history):
    with app.app_context(), app.extensions["vectis.db"].session() as s:
        order = s.execute(select(Order).where(Order.number == "V-1")).scalar_one()
        lines = list(s.execute(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).scalars())
        channel = s.get(Channel, order.channel_id)
        buyer = Buyer(order.customer_id, order.account_id, order.user_id, order.email)
        priced = [PricedLine(str(line.id), line.variant_id, line.quantity, line.unit_price) for line in lines]
        expected = cart_fact(s, channel=channel, currency="EUR", lines=priced, buyer=buyer, coupon_codes=["FREESHIP"])
        got = promotion_history.order_fact(order, channel.slug, list(zip(lines, line_facts(s, priced))), ["FREESHIP"],
                                           buyer_facts(s, buyer))
    assert got == expected and got["customer_group"] == "vip"


def test_viewers_may_preview_but_not_publish_a_promotion(app, client, history):
    token = sign_in(app, client, "viewer")
    page = client.get(PAGE).get_data(as_text=True)
    assert 'name="cart_rows"' in page and 'name="simulate_days"' in page
    assert 'button type="submit" name="action" value="publish"' not in page
    preview = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1", cart_rows="SKU-01 2",
                   simulate_days="30")
    assert preview.status_code == 200
    assert re.search(r'id="draft-lines">−4.40<', preview.get_data(as_text=True))
    refused = post(client, PAGE, token, source=DRAFT, action="publish", base_revision="1", note="mine")
    assert refused.status_code == 403
    assert revisions(app, "promotion", "tools_sale") == [(1, "someone@example.test", "test", True)]
    assert app.extensions["vectis.definitions"].get("promotion", "tools_sale").revision == 1


def test_a_new_promotion_is_previewed_against_nothing_live(app, client, history):
    token = sign_in(app, client, "merchandiser")
    assert 'name="simulate_days"' in client.get("/admin/definitions/new?kind=promotion").get_data(as_text=True)
    source = DRAFT.replace("name: tools_sale", "name: fresh_sale")
    page = post(client, "/admin/definitions/new", token, kind="promotion", source=source, action="preview",
                cart_rows="SKU-01 2", simulate_days="30").get_data(as_text=True)
    assert "Live revision (not published)" in page
    assert re.search(r'id="live-lines">−2.20<', page)  # tools_sale, live, still applies on the live side
    # the draft side stacks both, each on what the one before left: fresh_sale (first by name) 20 % of
    # 22.00 = 4.40, then tools_sale 10 % of 17.60 = 1.76
    assert re.search(r'id="draft-lines">−6.16<', page)
    assert "not in this set" in re.search(r'id="outcome-live">(.*?)</p>', page, re.S).group(1)
    assert re.search(r'id="sim-touched-draft">2<', page) and re.search(r'id="sim-touched-live">0<', page)
    assert revisions(app, "promotion", "fresh_sale") == []
