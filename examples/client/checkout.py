"""A full checkout over HTTP against the demo store, with the standard library only.

    python examples/client/checkout.py --url http://127.0.0.1:8000/graphql [--scenario guest|b2c|b2b|all]
                                       [--coupon WELCOME10]

Each scenario searches products, creates a cart with one line, sets the shipping and billing
addresses, the first available shipping method and a payment, places the order with an
idempotency key, reads the order back and prints one line:

    guest  order V-000001  paid  captured  239.39 EUR  (3M Heavy-Duty Drill 196 x1)  id=1
    b2c    order V-000002  paid  captured  23.52 EUR  (3M Max Nitrile Gloves 256 x1)  discount 2.07 (WELCOME10)  id=2

* ``guest``: no login, channel ``web``, typed-in addresses, the mock gateway's test card;
* ``b2c``: ``customer@demo.test``, channel ``web``, the customer's saved address, the test card,
  and the coupon ``WELCOME10`` (``--coupon``; ``--coupon ''`` for none). The demo allows it once
  per customer: when it was used already (``COUPON_CUSTOMER_LIMIT_REACHED``) the order is placed
  without it and the line says so;
* ``b2b``: ``buyer@acme.demo.test``, channel ``b2b``, the location's saved address and saved card;
* ``b2b-approval`` (not part of ``all``): the B2B checkout with enough units to pass 1,000, which the
  demo route ``manager_over_1000`` sends for approval: placeOrder is refused (``APPROVAL_REQUIRED``),
  the buyer submits the cart, ``manager@acme.demo.test`` approves it, and the buyer places it.

A guest cannot read an order by id (it is the buyer's or staff's), so the guest's summary is the
``placeOrder`` payload's order. Exits 1 with the GraphQL errors on the first failure.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid

TEST_CARD = "4242424242424242"
USERS = {"b2c": ("customer@demo.test", "demo-customer-password"), "b2b": ("buyer@acme.demo.test", "demo-buyer-password")}
CHANNELS = {"guest": "web", "b2c": "web", "b2b": "b2b"}
SEARCH = {"guest": "Drill", "b2c": "Gloves", "b2b": "Screws"}
#: The scenario that applies a coupon (``--coupon`` changes the code).
COUPON_SCENARIO, DEFAULT_COUPON = "b2c", "WELCOME10"
#: Refusals of applyCartCoupon after which the checkout goes on without the code.
COUPON_ALREADY_USED = {"COUPON_CUSTOMER_LIMIT_REACHED", "COUPON_USAGE_LIMIT_REACHED"}

MONEY = "{ amount currency }"
ORDER = f"""id number state paymentStatus currency total {MONEY} discountTotal {MONEY}
  lines {{ sku productName quantity unitPrice {MONEY} }}"""
CART = f"""id version total {MONEY}
  availableShippingMethods {{ code name amount {MONEY} }}"""

Q_LOGIN = """mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { tokens { accessToken } errors { code field message } } }"""
Q_PRODUCTS = """query Products($search: String) {
  products(first: 5, filter: {search: $search}) { nodes { name variants { id sku } } } }"""
Q_VIEWER = """query Viewer { viewer { customer { addresses { id } }
  employee { location { id addresses { id } } } } }"""
Q_SAVED_CARDS = "query SavedCards($locationId: ID) { savedPaymentMethods(locationId: $locationId) { id } }"
Q_ORDER = f"query Order($id: ID!) {{ order(id: $id) {{ {ORDER} }} }}"


def mutation(name: str, args: str, params: str, selection: str) -> str:
    return f"mutation({params}) {{ {name}({args}) {{ {selection} errors {{ code field message }} }} }}"


M_CREATE_CART = mutation("createCart", "input: $input", "$input: CreateCartInput!", f"cart {{ {CART} }}")
M_SHIPPING = mutation("setCartShippingAddress", "cartId: $cartId, input: $input", "$cartId: ID!, $input: CartAddressInput!",
                      f"cart {{ {CART} }}")
M_BILLING = mutation("setCartBillingAddress", "cartId: $cartId, input: $input", "$cartId: ID!, $input: CartAddressInput!",
                     f"cart {{ {CART} }}")
M_METHOD = mutation("setCartShippingMethod", "cartId: $cartId, code: $code", "$cartId: ID!, $code: String!", f"cart {{ {CART} }}")
M_PAYMENT = mutation("setCartPayment", "cartId: $cartId, input: $input", "$cartId: ID!, $input: CartPaymentInput!",
                     f"cart {{ {CART} }}")
M_COUPON = mutation("applyCartCoupon", "cartId: $cartId, code: $code", "$cartId: ID!, $code: String!",
                    f"cart {{ couponCodes discountTotal {MONEY} }}")
M_PLACE = mutation("placeOrder", "cartId: $cartId, idempotencyKey: $key", "$cartId: ID!, $key: String!", f"order {{ {ORDER} }}")

GUEST_ADDRESS = {"firstName": "Gina", "lastName": "Gast", "line1": "Praterstraße 1", "postalCode": "1020",
                 "city": "Wien", "country": "AT", "phone": "+43 1 5550199"}


class Failed(Exception):
    """A request failed: the message has the operation and the errors the server returned."""


class Client:
    def __init__(self, url: str, channel: str, timeout: float = 30):
        self.url, self.channel, self.timeout, self.token = url, channel, timeout, None

    def call(self, query: str, variables: dict | None = None, payload: str | None = None,
             allowed: frozenset[str] = frozenset()) -> dict:
        """``data`` of the answer, or of ``data[payload]`` for a mutation; any error raises Failed,
        except a payload's refusal whose codes are all in ``allowed`` (returned with its errors)."""
        headers = {"Content-Type": "application/json", "X-Channel-Slug": self.channel}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            answer = _json_or(exc.read(), f"HTTP {exc.code}")
        except urllib.error.URLError as exc:
            raise Failed(f"{self.url}: {exc.reason}") from None
        name = payload or query.split("(", 1)[0].split("{", 1)[0].split()[-1]
        if answer.get("errors"):
            raise Failed(f"{name}: {json.dumps(answer['errors'])}")
        data = answer.get("data") or {}
        if payload is None:
            return data
        result = data.get(payload) or {}
        if result.get("errors") and not {error["code"] for error in result["errors"]} <= allowed:
            raise Failed(f"{payload}: {json.dumps(result['errors'])}")
        return result


def _json_or(raw: bytes, fallback: str) -> dict:
    try:
        return json.loads(raw)
    except ValueError:
        return {"errors": [{"message": f"{fallback}: {raw[:200]!r}"}]}


def run(url: str, scenario: str, coupon: str = DEFAULT_COUPON) -> str:
    """One checkout; returns its summary line."""
    if scenario == "b2b-approval":
        return run_approval(url)
    client = Client(url, CHANNELS[scenario])
    if scenario in USERS:
        email, password = USERS[scenario]
        client.token = client.call(Q_LOGIN, {"email": email, "password": password}, "login")["tokens"]["accessToken"]
    products = client.call(Q_PRODUCTS, {"search": SEARCH[scenario]})["products"]["nodes"]
    product = next((p for p in products if p["variants"]), None)
    if product is None:
        raise Failed(f"products: no product with variants found for search {SEARCH[scenario]!r}")
    variant = product["variants"][0]
    cart_input: dict = {"lines": [{"variantId": variant["id"], "quantity": 2 if scenario == "b2b" else 1}]}
    address: dict
    payment: dict
    if scenario == "guest":
        cart_input["email"] = "guest@demo.test"
        address, payment = {"address": GUEST_ADDRESS}, {"token": TEST_CARD}
    elif scenario == "b2c":
        saved = client.call(Q_VIEWER)["viewer"]["customer"]["addresses"]
        address, payment = {"addressId": saved[0]["id"]}, {"token": TEST_CARD}
    else:
        location = client.call(Q_VIEWER)["viewer"]["employee"]["location"]
        cards = client.call(Q_SAVED_CARDS, {"locationId": location["id"]})["savedPaymentMethods"]
        if not cards:
            raise Failed(f"savedPaymentMethods: location {location['id']} has no saved card")
        cart_input["locationId"] = location["id"]
        address, payment = {"addressId": location["addresses"][0]["id"]}, {"savedPaymentMethodId": cards[0]["id"]}
    cart = client.call(M_CREATE_CART, {"input": cart_input}, "createCart")["cart"]
    cart_id = cart["id"]
    client.call(M_SHIPPING, {"cartId": cart_id, "input": address}, "setCartShippingAddress")
    cart = client.call(M_BILLING, {"cartId": cart_id, "input": address}, "setCartBillingAddress")["cart"]
    if not cart["availableShippingMethods"]:
        raise Failed(f"setCartShippingMethod: cart {cart_id} has no available shipping method")
    client.call(M_METHOD, {"cartId": cart_id, "code": cart["availableShippingMethods"][0]["code"]}, "setCartShippingMethod")
    client.call(M_PAYMENT, {"cartId": cart_id, "input": payment}, "setCartPayment")
    coupon_note = ""
    if scenario == COUPON_SCENARIO and coupon:
        applied = client.call(M_COUPON, {"cartId": cart_id, "code": coupon}, "applyCartCoupon", COUPON_ALREADY_USED)
        coupon_note = f" ({coupon.upper()})" if not applied["errors"] else f" ({coupon.upper()} already used: not applied)"
    order = client.call(M_PLACE, {"cartId": cart_id, "key": f"client-{scenario}-{uuid.uuid4()}"}, "placeOrder")["order"]
    if scenario != "guest":
        order = client.call(Q_ORDER, {"id": order["id"]})["order"]
        if order is None:
            raise Failed("order: the placed order cannot be read back by its buyer")
    total, discount = order["total"], order["discountTotal"]
    lines = ", ".join(f"{line['productName']} x{line['quantity']}" for line in order["lines"])
    discounted = f"  discount {discount['amount']}{coupon_note}" if discount["amount"] != "0.00" or coupon_note else ""
    return (f"{scenario:<6} order {order['number']}  {order['state']}  {order['paymentStatus']}  "
            f"{total['amount']} {total['currency']}  ({lines}){discounted}  id={order['id']}")


Q_CART_LINES = "query CartLines($id: ID!) { cart(id: $id) { lines { id unitPrice { amount } } } }"
M_UPDATE_LINE = mutation("updateCartLine", "cartId: $cartId, lineId: $lineId, quantity: $quantity",
                         "$cartId: ID!, $lineId: ID!, $quantity: Int!", f"cart {{ {CART} }}")
M_SUBMIT = mutation("submitCartForApproval", "cartId: $cartId, note: $note", "$cartId: ID!, $note: String",
                    "cart { id state }")
M_APPROVE = mutation("approveCart", "cartId: $cartId, note: $note", "$cartId: ID!, $note: String", "cart { id state }")
MANAGER = ("manager@acme.demo.test", "demo-approver-password")
#: The demo route's threshold (examples/demo/definitions/approvals/manager_over_1000.yaml).
APPROVAL_THRESHOLD = 1000


def run_approval(url: str) -> str:
    """The B2B checkout of a cart over the threshold, through the manager's approval."""
    buyer = Client(url, CHANNELS["b2b"])
    email, password = USERS["b2b"]
    buyer.token = buyer.call(Q_LOGIN, {"email": email, "password": password}, "login")["tokens"]["accessToken"]
    products = buyer.call(Q_PRODUCTS, {"search": SEARCH["b2b"]})["products"]["nodes"]
    variant = next(p for p in products if p["variants"])["variants"][0]
    location = buyer.call(Q_VIEWER)["viewer"]["employee"]["location"]
    cards = buyer.call(Q_SAVED_CARDS, {"locationId": location["id"]})["savedPaymentMethods"]
    cart = buyer.call(M_CREATE_CART, {"input": {"lines": [{"variantId": variant["id"], "quantity": 1}],
                                                "locationId": location["id"]}}, "createCart")["cart"]
    cart_id = cart["id"]
    line = buyer.call(Q_CART_LINES, {"id": cart_id})["cart"]["lines"][0]
    quantity = int(APPROVAL_THRESHOLD / float(line["unitPrice"]["amount"])) + 1
    for _ in range(5):  # volume prices and promotions lower the total as the quantity grows
        updated = buyer.call(M_UPDATE_LINE, {"cartId": cart_id, "lineId": line["id"], "quantity": quantity},
                             "updateCartLine")["cart"]
        total = float(updated["total"]["amount"])
        if total > APPROVAL_THRESHOLD:
            break
        quantity = int(quantity * APPROVAL_THRESHOLD * 1.1 / max(total, 0.01)) + 1
    address = {"addressId": location["addresses"][0]["id"]}
    buyer.call(M_SHIPPING, {"cartId": cart_id, "input": address}, "setCartShippingAddress")
    cart = buyer.call(M_BILLING, {"cartId": cart_id, "input": address}, "setCartBillingAddress")["cart"]
    buyer.call(M_METHOD, {"cartId": cart_id, "code": cart["availableShippingMethods"][0]["code"]}, "setCartShippingMethod")
    buyer.call(M_PAYMENT, {"cartId": cart_id, "input": {"savedPaymentMethodId": cards[0]["id"]}}, "setCartPayment")
    key = f"client-b2b-approval-{uuid.uuid4()}"
    refused = buyer.call(M_PLACE, {"cartId": cart_id, "key": key}, "placeOrder", {"APPROVAL_REQUIRED"})
    if not refused["errors"]:
        raise Failed(f"placeOrder: the cart ({quantity} units) was placed without approval")
    buyer.call(M_SUBMIT, {"cartId": cart_id, "note": "client script"}, "submitCartForApproval")
    manager = Client(url, CHANNELS["b2b"])
    manager.token = manager.call(Q_LOGIN, {"email": MANAGER[0], "password": MANAGER[1]}, "login")["tokens"]["accessToken"]
    state = manager.call(M_APPROVE, {"cartId": cart_id, "note": "ok"}, "approveCart")["cart"]["state"]
    if state != "approved":
        raise Failed(f"approveCart: the cart is {state} (another route needs more approvers)")
    order = buyer.call(M_PLACE, {"cartId": cart_id, "key": f"{key}-approved"}, "placeOrder")["order"]
    order = buyer.call(Q_ORDER, {"id": order["id"]})["order"]
    total = order["total"]
    return (f"b2b-approval order {order['number']}  {order['state']}  {order['paymentStatus']}  {total['amount']} "
            f"{total['currency']}  ({variant['sku']} x{quantity})  approved by {MANAGER[0]}  id={order['id']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--scenario", choices=["guest", "b2c", "b2b", "b2b-approval", "all"], default="all")
    parser.add_argument("--coupon", default=DEFAULT_COUPON, help=f"the code the {COUPON_SCENARIO} scenario applies "
                                                                 "('' for none)")
    args = parser.parse_args(argv)
    for scenario in ["guest", "b2c", "b2b"] if args.scenario == "all" else [args.scenario]:
        try:
            print(run(args.url, scenario, args.coupon), flush=True)
        except Failed as exc:
            print(f"{scenario}: failed: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
