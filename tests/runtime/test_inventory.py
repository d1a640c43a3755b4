"""Inventory over GraphQL: holds at checkout and at add-to-cart, out-of-stock refusals that change
nothing, backorders and the risk flag, the timer sweep returning stock once, policy versions,
shipping and cancelling, clearing a product, and the ERP's push and handoff."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from runtime.carts.models import Cart
from runtime.catalog.models import Product, ProductVariant
from runtime.channels.models import Channel
from runtime.clock import clock
from runtime.inventory.models import Reservation, StockLevel, Warehouse
from runtime.orders.models import Order, OrderLine
from runtime.state_machines.models import StateTransition
from runtime.state_machines.sweep import sweep_state_machine_timers, sweep_timers
from tests.runtime.helpers import gql, signed_in
from tests.runtime.test_carts_api import ADD, ERRORS, LINE_IDS, UPDATE, new_cart, post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart

STOCK = ("query($skus: [String!]!) { stockLevels(skus: $skus) { sku tracked onHand held confirmed available"
         " backorderLimit warehouses { warehouse { code } onHand reserved } externalStockSnapshot } }")
TRANSITION = ("mutation($id: ID!, $t: String!) { transitionOrder(orderId: $id, transition: $t) {"
              " order { state } errors { code message } } }")
RISKY = "{ orders(inventoryRiskOnly: true) { totalCount nodes { number inventoryRiskFlag lines { sku trackingEnabledAtCheckout } } } }"


def tracked_store(app, on_hand: int = 5, backorder_limit: int = 0, mode: str = "checkout") -> dict:
    """``store`` with product "mug" tracked: MUG-1 has ``on_hand`` in warehouse "main"."""
    ids = store(app)

    def work(session):
        session.execute(update(Product).where(Product.slug == "mug").values(track_inventory=True))
        session.execute(update(ProductVariant).where(ProductVariant.id == ids["mug"])
                        .values(backorder_limit=backorder_limit))
        session.execute(update(Channel).values(inventory_hold_mode=mode))
        main = Warehouse(code="main", name="Main")
        session.add(main)
        session.flush()
        session.add(StockLevel(variant_id=ids["mug"], warehouse_id=main.id, on_hand=on_hand, reserved=0))
        return main.id

    ids["warehouse"] = app.extensions["vectis.db"].run(work)
    return ids


def stock(app) -> tuple[int, int]:
    level = rows(app, StockLevel)[0]
    return level.on_hand, level.reserved


def states(app) -> list[tuple[str, int, int]]:
    return [(r.state, r.quantity, r.backordered) for r in sorted(rows(app, Reservation), key=lambda r: r.id)]


def staff(app, client, role: str = "admin") -> str:
    return signed_in(app, client, role)


def test_place_order_holds_confirms_and_shipping_fulfils(app, client):
    tracked_store(app, on_hand=5)
    cart = ready_cart(client, quantity=2)
    assert states(app) == []  # this channel holds at checkout, not at add-to-cart
    placed = post(client, PLACE, {"id": cart, "key": "k-1"})["data"]["placeOrder"]
    assert placed["errors"] == []
    assert stock(app) == (5, 2)
    assert states(app) == [("confirmed", 2, 0)]
    order = rows(app, Order)[0]
    assert rows(app, Reservation)[0].order_id == order.id
    assert [line.tracking_enabled_at_checkout for line in rows(app, OrderLine)] == [True]
    assert (order.inventory_risk_flag, order.pipeline["inventory"]) == (False, {"tracked": ["MUG-1"], "backordered": {}})
    history = [(h.transition, h.from_state, h.to_state) for h in rows(app, StateTransition)
               if h.entity_type == "reservation"]
    assert history == [("confirm", "held", "confirmed")]
    token = staff(app, client)
    answer = gql(client, STOCK, {"skus": ["MUG-1", "CUP-1", "NOPE"]}, token).get_json()["data"]["stockLevels"]
    assert answer == [
        {"sku": "MUG-1", "tracked": True, "onHand": 5, "held": 0, "confirmed": 2, "available": 3, "backorderLimit": 0,
         "warehouses": [{"warehouse": {"code": "main"}, "onHand": 5, "reserved": 2}], "externalStockSnapshot": None},
        {"sku": "CUP-1", "tracked": True, "onHand": 0, "held": 0, "confirmed": 0, "available": 0, "backorderLimit": 0,
         "warehouses": [], "externalStockSnapshot": None}]
    # when the order ships, its units leave stock
    assert gql(client, TRANSITION, {"id": str(order.id), "t": "ship"}, token).get_json()["data"]["transitionOrder"] == {
        "order": {"state": "shipped"}, "errors": []}
    assert (stock(app), states(app)) == ((3, 0), [("fulfilled", 2, 0)])


def test_out_of_stock_is_refused_and_changes_nothing(app, client):
    tracked_store(app, on_hand=5)
    cart = ready_cart(client, quantity=6)
    answer = post(client, PLACE, {"id": cart, "key": "k-1"})["data"]["placeOrder"]
    assert answer == {"order": None, "errors": [{"code": "OUT_OF_STOCK", "field": "cartId",
                                                 "message": "cartId: 6 of 'MUG-1' requested, 5 available"}]}
    assert (stock(app), states(app), rows(app, Order)) == ((5, 0), [], [])
    assert rows(app, Cart)[0].state == "active"


def test_a_backorder_within_the_limit_places_a_flagged_order_and_clearing_it_unblocks_the_order(app, client):
    ids = tracked_store(app, on_hand=5, backorder_limit=2)
    placed = post(client, PLACE, {"id": ready_cart(client, quantity=6), "key": "k-1"})["data"]["placeOrder"]
    assert placed["errors"] == []
    assert (stock(app), states(app)) == ((5, 6), [("confirmed", 6, 1)])
    refused = post(client, PLACE, {"id": ready_cart(client, quantity=2), "key": "k-2"})["data"]["placeOrder"]
    assert refused["errors"] == [{"code": "OUT_OF_STOCK", "field": "cartId",
                                  "message": "cartId: 2 of 'MUG-1' requested, 0 available (plus 2 on backorder)"}]
    token = staff(app, client)
    risky = gql(client, RISKY, token=token).get_json()["data"]["orders"]
    assert risky == {"totalCount": 1, "nodes": [{"number": rows(app, Order)[0].number, "inventoryRiskFlag": True,
                                                 "lines": [{"sku": "MUG-1", "trackingEnabledAtCheckout": True}]}]}
    version = rows(app, Product, Product.slug == "mug")[0].inventory_state_version
    clear = ("mutation($id: ID!) { clearProductBackorders(productId: $id) { product { inventoryStateVersion }"
             " cleared { sku quantity backordered state orderId } orderIds errors { code field message } } }")
    product_id = str(rows(app, ProductVariant, ProductVariant.id == ids["mug"])[0].product_id)
    order_id = str(rows(app, Order)[0].id)
    assert gql(client, clear, {"id": product_id}, token).get_json()["data"]["clearProductBackorders"] == {
        "product": {"inventoryStateVersion": version + 1},
        "cleared": [{"sku": "MUG-1", "quantity": 6, "backordered": 1, "state": "confirmed", "orderId": order_id}],
        "orderIds": [order_id], "errors": []}
    assert states(app) == [("confirmed", 6, 0)]
    unknown = gql(client, clear, {"id": "999999"}, token).get_json()["data"]["clearProductBackorders"]
    assert unknown == {"product": None, "cleared": [], "orderIds": [], "errors": [
        {"code": "NOT_FOUND", "field": "productId", "message": "productId: no product '999999'"}]}


def test_add_to_cart_holds_follow_the_lines_and_expire_once(app, client):
    tracked_store(app, on_hand=5, mode="add_to_cart")
    clock.freeze(clock.now())
    try:
        cart = new_cart(client, [{"sku": "MUG-1", "quantity": 2}])["id"]
        assert (stock(app), states(app)) == ((5, 2), [("held", 2, 0)])
        added = post(client, ADD, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 2}]})["data"]["addCartLines"]
        assert added["errors"] == []
        assert (stock(app), states(app)) == ((5, 4), [("released", 2, 0), ("held", 4, 0)])
        line = list(post(client, LINE_IDS, {"id": cart})["data"]["cart"]["lines"])[0]["id"]
        refused = post(client, UPDATE, {"id": cart, "line": line, "q": 6})["data"]["updateCartLine"]
        assert refused["errors"] == [{"code": "OUT_OF_STOCK", "field": "lines",
                                      "message": "lines: 6 of 'MUG-1' requested, 5 available"}]
        assert (stock(app), states(app)) == ((5, 4), [("released", 2, 0), ("held", 4, 0)])
        # when the hold's 15 minutes pass, the sweep expires it and gives its units back, once
        clock.advance(timedelta(minutes=16))
        with app.app_context():  # the generic timer job leaves reservations to ExpireStaleReservations
            sweep_state_machine_timers()
        assert states(app) == [("released", 2, 0), ("held", 4, 0)]
        assert sweep_timers(app, machines=("reservation",)) == {("reservation", "reservation", "held"): 1}
        assert sweep_timers(app, machines=("reservation",)) == {}
        assert (stock(app), states(app)) == ((5, 0), [("released", 2, 0), ("expired", 4, 0)])
        # placeOrder holds again inside its transaction and confirms
        for query, variables in _checkout_steps():
            assert list(post(client, query, {"id": cart, **variables})["data"].values())[0]["errors"] == []
        assert post(client, PLACE, {"id": cart, "key": "k-1"})["data"]["placeOrder"]["errors"] == []
        assert (stock(app), states(app)) == ((5, 4), [("released", 2, 0), ("expired", 4, 0), ("confirmed", 4, 0)])
    finally:
        clock.unfreeze()


def _checkout_steps():
    from tests.runtime.test_carts_api import AT, BILL_TO, EMAIL, METHOD, PAY, SHIP_TO

    return [(EMAIL, {"email": "ada@example.test"}), (SHIP_TO, {"input": {"address": AT}}),
            (BILL_TO, {"input": {"address": AT}}), (METHOD, {"code": "standard"}),
            (PAY, {"input": {"token": "4242424242424242"}})]


def test_a_hold_taken_under_an_older_policy_is_revalidated_at_place_order(app, client):
    tracked_store(app, on_hand=5, mode="add_to_cart")
    cart = ready_cart(client, quantity=2)
    assert states(app) == [("held", 2, 0)]
    token = staff(app, client)
    limit = ("mutation { setVariantBackorderLimit(sku: \"MUG-1\", backorderLimit: 3) {"
             " stock { backorderLimit } errors { code } } }")
    assert gql(client, limit, token=token).get_json()["data"]["setVariantBackorderLimit"] == {
        "stock": {"backorderLimit": 3}, "errors": []}
    assert post(client, PLACE, {"id": cart, "key": "k-1"})["data"]["placeOrder"]["errors"] == []
    assert (stock(app), states(app)) == ((5, 2), [("released", 2, 0), ("confirmed", 2, 0)])
    release = [h.context for h in rows(app, StateTransition) if h.transition == "release"]
    assert release == [{"reason": "cart changed"}]


def test_cancelling_releases_and_clearing_a_product_reports_what_it_released(app, client):
    ids = tracked_store(app, on_hand=5, mode="add_to_cart")
    token = staff(app, client)
    first = post(client, PLACE, {"id": ready_cart(client, quantity=1), "key": "k-1"})["data"]["placeOrder"]["order"]
    second = post(client, PLACE, {"id": ready_cart(client, quantity=1), "key": "k-2"})["data"]["placeOrder"]["order"]
    open_cart = ready_cart(client, quantity=2)
    assert stock(app) == (5, 4)
    cancelled = gql(client, TRANSITION, {"id": first["id"], "t": "cancel"}, token).get_json()["data"]
    assert cancelled["transitionOrder"] == {"order": {"state": "cancelled"}, "errors": []}
    assert stock(app) == (5, 3)
    clear = ("mutation($id: ID!) { clearProductInventoryState(productId: $id) { product { slug }"
             " released { sku warehouseCode quantity state orderId cartId } releasedCount releasedQuantity"
             " errors { code } } }")
    product_id = str(rows(app, ProductVariant, ProductVariant.id == ids["mug"])[0].product_id)
    cart_id = str(rows(app, Cart, Cart.token == open_cart)[0].id)
    answer = gql(client, clear, {"id": product_id}, token).get_json()["data"]["clearProductInventoryState"]
    assert answer == {"product": {"slug": "mug"}, "releasedCount": 2, "releasedQuantity": 3, "errors": [], "released": [
        {"sku": "MUG-1", "warehouseCode": "main", "quantity": 1, "state": "confirmed", "orderId": second["id"],
         "cartId": str(rows(app, Order, Order.id == int(second["id"]))[0].cart_id)},
        {"sku": "MUG-1", "warehouseCode": "main", "quantity": 2, "state": "held", "orderId": None, "cartId": cart_id}]}
    assert stock(app) == (5, 0)
    assert [o.inventory_risk_flag for o in sorted(rows(app, Order), key=lambda o: o.id)] == [False, True]
    again = gql(client, clear, {"id": product_id}, token).get_json()["data"]["clearProductInventoryState"]
    assert (again["releasedCount"], again["released"], stock(app)) == (0, [], (5, 0))
    refused = gql(client, clear, {"id": product_id}, signed_in(app, client, "viewer")).get_json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


PUSH = ("mutation($input: PushExternalStockInput!) { pushExternalStock(input: $input) {"
        " results { sku status onHand message } " + ERRORS + " } }")
HANDOFF = ("mutation($id: ID!, $ref: String!) { acknowledgeOrderExternalHandoff(orderId: $id, externalReference: $ref) {"
           " order { number } released { quantity state } " + ERRORS + " } }")


def api_key(client, token, scopes=("stock.push",)) -> tuple[str, str]:
    create = ("mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } key"
              " errors { code } } }")
    made = gql(client, create, {"input": {"name": "ERP", "scopes": list(scopes)}}, token).get_json()
    return made["data"]["createApiKey"]["apiKey"]["id"], made["data"]["createApiKey"]["key"]


def with_key(client, key, query, variables):
    return client.post("/graphql", json={"query": query, "variables": variables}, headers={"X-Api-Key": key}).get_json()


def test_an_erp_pushes_stock_in_order_idempotently_and_hands_orders_off(app, client):
    tracked_store(app, on_hand=5)
    admin = staff(app, client)
    key_id, key = api_key(client, admin)
    items = [{"sku": "MUG-1", "quantity": 40, "at": "2026-01-15T10:00:00Z"},
             {"sku": "HIDDEN-1", "quantity": 7, "at": "2026-01-15T10:00:00Z"}]
    first = with_key(client, key, PUSH, {"input": {"warehouseCode": "main", "items": items}})["data"]["pushExternalStock"]
    assert first == {"errors": [], "results": [
        {"sku": "MUG-1", "status": "APPLIED", "onHand": 40, "message": "MUG-1: on hand set to 40 in main"},
        {"sku": "HIDDEN-1", "status": "RECORDED", "onHand": 7, "message": "HIDDEN-1: untracked; recorded for audit only"}]}
    replay = with_key(client, key, PUSH, {"input": {"warehouseCode": "main", "items": items}})["data"]["pushExternalStock"]
    assert [(r["status"], r["onHand"]) for r in replay["results"]] == [("DUPLICATE", 40), ("DUPLICATE", 7)]
    older = [{"sku": "MUG-1", "quantity": 3, "at": "2026-01-15T09:00:00+00:00"}]
    stale = with_key(client, key, PUSH, {"input": {"warehouseCode": "main", "items": older}})["data"]["pushExternalStock"]
    assert stale["results"] == [{"sku": "MUG-1", "status": "STALE", "onHand": 40,
                                 "message": "MUG-1: older than the last push applied (2026-01-15T10:00:00+00:00); ignored"}]
    assert stock(app) == (40, 0)
    assert rows(app, ProductVariant, ProductVariant.sku == "HIDDEN-1")[0].external_stock_snapshot == {
        "main": {"quantity": 7, "at": "2026-01-15T10:00:00+00:00"}}
    # an unknown SKU or a bad quantity refuses the whole push: nothing changes
    bad = [{"sku": "MUG-1", "quantity": 1, "at": "2026-01-15T11:00:00Z"},
           {"sku": "NOPE-9", "quantity": 1, "at": "2026-01-15T11:00:00Z"},
           {"sku": "CUP-1", "quantity": -2, "at": "2026-01-15T11:00:00Z"}]
    refused = with_key(client, key, PUSH, {"input": {"warehouseCode": "main", "items": bad}})["data"]["pushExternalStock"]
    assert refused == {"results": [], "errors": [
        {"code": "NOT_FOUND", "field": "input.items.1.sku",
         "message": "input.items.1.sku: no variant with SKU 'NOPE-9'; nothing was applied"},
        {"code": "INVALID_INPUT", "field": "input.items.2.quantity",
         "message": "input.items.2.quantity: expected a whole number of 0 or more, got -2"}]}
    assert stock(app) == (40, 0)
    # drift: the ERP counts fewer than are confirmed -> the order is flagged
    order = post(client, PLACE, {"id": ready_cart(client, quantity=2), "key": "k-1"})["data"]["placeOrder"]["order"]
    drift = [{"sku": "MUG-1", "quantity": 1, "at": "2026-01-15T12:00:00Z"}]
    with_key(client, key, PUSH, {"input": {"warehouseCode": "main", "items": drift}})
    assert (stock(app), rows(app, Order)[0].inventory_risk_flag) == ((1, 2), True)
    # the ERP takes the order over: its holds are released, once
    handed = with_key(client, key, HANDOFF, {"id": order["id"], "ref": "ERP-77"})["data"]
    assert handed["acknowledgeOrderExternalHandoff"] == {"order": {"number": order["number"]}, "errors": [],
                                                         "released": [{"quantity": 2, "state": "confirmed"}]}
    assert stock(app) == (1, 0)
    again = with_key(client, key, HANDOFF, {"id": order["id"], "ref": "ERP-77"})["data"]
    assert again["acknowledgeOrderExternalHandoff"]["released"] == []
    other = with_key(client, key, HANDOFF, {"id": order["id"], "ref": "ERP-78"})["data"]
    assert other["acknowledgeOrderExternalHandoff"]["errors"] == [{
        "code": "ALREADY_HANDED_OFF", "field": "externalReference",
        "message": "externalReference: the order was handed off as 'ERP-77' already"}]
    # a revoked key is refused before anything runs
    revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { errors { code } } }"
    gql(client, revoke, {"id": key_id}, admin)
    denied = with_key(client, key, PUSH, {"input": {"warehouseCode": "main", "items": drift}})
    assert denied["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert denied["errors"][0]["message"] == "X-Api-Key: the API key is revoked"
    assert stock(app) == (1, 0)


def test_lines_of_one_variant_in_different_packages_count_together(app, client):
    from runtime.packaging.service import define_package, set_ladder

    ids = tracked_store(app, on_hand=30, mode="add_to_cart")

    def ladder(session):
        define_package(session, "box", "Box")
        product_id = session.get(ProductVariant, ids["mug"]).product_id
        set_ladder(session, product_id, [{"package": "box", "multiplier": 12}])

    app.extensions["vectis.db"].run(ladder)
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 2, "package": "box"}, {"sku": "MUG-1", "quantity": 5}])
    assert cart.get("id"), cart
    assert (stock(app), states(app)) == ((30, 29), [("held", 29, 0)])
    refused = post(client, ADD, {"id": cart["id"], "lines": [{"sku": "MUG-1", "quantity": 2}]})["data"]["addCartLines"]
    assert refused["errors"] == [{"code": "OUT_OF_STOCK", "field": "lines",
                                  "message": "lines: 31 of 'MUG-1' requested, 30 available"}]
    assert (stock(app), states(app)) == ((30, 29), [("held", 29, 0)])


def test_bad_inventory_input_names_the_field_and_changes_nothing(app, client):
    tracked_store(app)
    token = staff(app, client)
    warehouse = ("mutation($input: CreateWarehouseInput!) { createWarehouse(input: $input) {"
                 " warehouse { code } errors { code field message } } }")
    answer = gql(client, warehouse, {"input": {"code": "main", "name": " "}}, token).get_json()["data"]["createWarehouse"]
    assert answer == {"warehouse": None, "errors": [
        {"code": "DUPLICATE_CODE", "field": "input.code", "message": "input.code: a warehouse 'main' exists already"},
        {"code": "INVALID_INPUT", "field": "input.name", "message": "input.name: expected 1 to 200 characters"}]}
    on_hand = ("mutation($input: SetStockOnHandInput!) { setStockOnHand(input: $input) { stock { onHand }"
               " errors { code field message } } }")
    negative = gql(client, on_hand, {"input": {"sku": "MUG-1", "warehouseCode": "main", "onHand": -1}}, token)
    assert negative.get_json()["data"]["setStockOnHand"]["errors"] == [
        {"code": "INVALID_INPUT", "field": "input.onHand",
         "message": "input.onHand: expected a whole number of 0 or more, got -1"}]
    unknown = gql(client, on_hand, {"input": {"sku": "MUG-1", "warehouseCode": "east", "onHand": 3}}, token)
    assert unknown.get_json()["data"]["setStockOnHand"]["errors"] == [
        {"code": "NOT_FOUND", "field": "input.warehouseCode",
         "message": "input.warehouseCode: no warehouse 'east' (known: main)"}]
    assert (stock(app), len(rows(app, Warehouse))) == ((5, 0), 1)
    counted = gql(client, on_hand, {"input": {"sku": "MUG-1", "warehouseCode": "main", "onHand": 9}}, token)
    assert counted.get_json()["data"]["setStockOnHand"] == {"stock": {"onHand": 9}, "errors": []}
