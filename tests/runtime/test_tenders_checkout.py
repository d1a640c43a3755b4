"""Split tender at placeOrder: the decline card on each position of a 3-tender split, store credit
+ gift card + card, and bad tenders refused as data with nothing changed."""
from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from runtime.carts.models import Cart
from runtime.definitions import store as definitions
from runtime.definitions.environment import build_environment
from runtime.definitions.live import live_definitions
from runtime.orders.models import Order
from runtime.payments.models import PaymentTransaction
from runtime.tenders.models import CartTender, NetTermsReservation, PaymentTender, StoredValueEntry
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import ERRORS, GATEWAY, post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart

DECLINE = "4000000000000002"
APPROVE = ("4242424242424242", "5555555555554444", "4000056655665556")
TENDERS = ("mutation($id: ID!, $tenders: [CartTenderInput!]!) { setCartTenders(cartId: $id, tenders: $tenders) {"
           " cart { id tenders { position type amount { amount } } } " + ERRORS + " } }")
ORDER_TENDERS = ("query($id: ID!) { order(id: $id) { total { amount } paymentStatus state tenderCascade { name revision }"
                 " tenders { position type amount { amount } source state gateway dueAt } } }")
CREDIT = ("mutation($input: IssueStoreCreditInput!) { issueStoreCredit(input: $input) { balance { amount currency } "
          + ERRORS + " } }")
TERMS = ("mutation($input: SetNetTermsInput!) { setNetTerms(input: $input) { netTerms { creditLimit { amount }"
         " openCredit { amount } termsDays } " + ERRORS + " } }")
GIFT = ("mutation($input: GenerateGiftCardsInput!) { generateGiftCards(input: $input) { giftCards { code hint"
        " balance { amount } } " + ERRORS + " } }")
CASCADE = """kind: tender_cascade
name: credit_then_card
priority: 5
steps:
  - tender: store_credit
  - tender: net_terms
  - tender: card
"""


class GatewayCalls:
    """Counts void and refund calls per authorization at the mock gateway (a real call each)."""

    def __init__(self, gateway):
        self.voids, self.refunds = Counter(), Counter()
        void, refund = gateway.void, gateway.refund

        def counted_void(transaction_id, key, config):
            self.voids[transaction_id] += 1
            return void(transaction_id, key, config)

        def counted_refund(transaction_id, amount, key, config):
            self.refunds[transaction_id] += 1
            return refund(transaction_id, amount, key, config)

        gateway.void, gateway.refund = counted_void, counted_refund


@pytest.fixture
def calls(app):
    return GatewayCalls(app.extensions["vectis.registry"].get(GATEWAY).value)


def mock(app):
    return app.extensions["vectis.registry"].get(GATEWAY).value


def tenders(client, cart, values, token=None):
    return post(client, TENDERS, {"id": cart, "tenders": values}, token)["data"]["setCartTenders"]


def publish(app, source):
    env = build_environment(app.extensions["vectis.registry"])
    app.extensions["vectis.db"].run(lambda s: definitions.publish(s, source, env, author="m@example.test"))
    live_definitions(app).refresh(force=True)


@pytest.mark.parametrize("mode, undo", [("AUTHORIZE", "voided"), ("AUTHORIZE_AND_CAPTURE", "refunded")])
@pytest.mark.parametrize("declined", [0, 1, 2])
def test_a_decline_on_any_position_of_a_three_card_split_undoes_every_earlier_leg_once(app, client, calls, declined,
                                                                                        mode, undo):
    # given a 22.90 cart split over three cards, the decline card on position `declined`
    store(app, capture_mode=mode)
    cart = ready_cart(client)
    cards = [DECLINE if i == declined else APPROVE[i] for i in range(3)]
    answer = tenders(client, cart, [{"type": "card", "token": cards[0], "amount": "5.00"},
                                    {"type": "card", "token": cards[1], "amount": "7.00"},
                                    {"type": "card", "token": cards[2]}])
    assert answer["errors"] == []
    assert answer["cart"]["tenders"] == [{"position": 0, "type": "card", "amount": {"amount": "5.00"}},
                                         {"position": 1, "type": "card", "amount": {"amount": "7.00"}},
                                         {"position": 2, "type": "card", "amount": None}]

    # when the order is placed
    placed = post(client, PLACE, {"id": cart, "key": "k-split"})["data"]["placeOrder"]

    # then the refusal names the declined tender
    assert placed == {"order": None, "errors": [{
        "code": "PAYMENT_DECLINED", "field": f"tenders[{declined}]",
        "message": f"tenders[{declined}]: the card was declined: The issuer declined the card (do not honor)."}]}
    # and no order, no tender, the cart still active
    assert rows(app, Order) == [] and rows(app, PaymentTender) == []
    assert rows(app, Cart)[0].state == "active"
    # and every leg authorised before the decline was undone at the gateway exactly once
    authorizations = mock(app)._authorizations
    statuses = sorted(auth.status for auth in authorizations.values())
    assert statuses == sorted([undo] * declined + ["failed"])
    undone = calls.voids if undo == "voided" else calls.refunds
    assert sorted(undone.values()) == [1] * declined
    assert set(undone) == {a.id for a in authorizations.values() if a.status == undo}
    kept = [(p.type, p.order_id) for p in rows(app, PaymentTransaction)]
    assert kept == [("void" if undo == "voided" else "refund", None)] * declined


def test_store_credit_gift_card_and_card_pay_one_order_and_add_up(app, client):
    store(app, capture_mode="AUTHORIZE")
    admin = signed_in(app, client, "admin")
    buyer = _customer(app, client)
    customer_id = _customer_id(app)
    credit = post(client, CREDIT, {"input": {"customerId": str(customer_id), "amount": "6.00", "currency": "EUR",
                                             "idempotencyKey": "welcome"}}, admin)["data"]["issueStoreCredit"]
    assert credit == {"balance": {"amount": "6.00", "currency": "EUR"}, "errors": []}
    gift = post(client, GIFT, {"input": {"count": 1, "amount": "4.50", "currency": "EUR"}}, admin)["data"]
    code = gift["generateGiftCards"]["giftCards"][0]["code"]
    publish(app, CASCADE)
    cart = ready_cart(client, buyer)
    assert tenders(client, cart, [{"type": "gift_card", "code": code}], buyer)["errors"] == []

    placed = post(client, PLACE, {"id": cart, "key": "k-3"}, buyer)["data"]["placeOrder"]

    assert placed["errors"] == []
    order = post(client, ORDER_TENDERS, {"id": placed["order"]["id"]}, buyer)["data"]["order"]
    assert order == {"total": {"amount": "22.90"}, "paymentStatus": "authorized", "state": "paid",
                     "tenderCascade": {"name": "credit_then_card", "revision": 1}, "tenders": [
        {"position": 0, "type": "gift_card", "amount": {"amount": "4.50"}, "source": "buyer_prepended",
         "state": "authorized", "gateway": "gift_cards.tender_type.gift_card", "dueAt": None},
        {"position": 1, "type": "store_credit", "amount": {"amount": "6.00"}, "source": "cascade",
         "state": "authorized", "gateway": "core.tender_type.store_credit", "dueAt": None},
        {"position": 2, "type": "card", "amount": {"amount": "12.40"}, "source": "cascade",
         "state": "authorized", "gateway": GATEWAY, "dueAt": None}]}
    # the ledger holds the two internal legs against the order; the card holds the rest
    holds = [(e.kind, e.amount, e.order_id) for e in rows(app, StoredValueEntry) if e.kind == "hold"]
    assert holds == [("hold", Decimal("4.50"), int(placed["order"]["id"])), ("hold", Decimal("6.00"), int(placed["order"]["id"]))]
    assert [(p.type, p.state, p.amount) for p in rows(app, PaymentTransaction)] == [
        ("authorization", "authorized", Decimal("4.50")), ("authorization", "authorized", Decimal("6.00")),
        ("authorization", "authorized", Decimal("12.40"))]


def test_a_declined_card_after_store_credit_and_gift_card_releases_their_holds(app, client, calls):
    store(app, capture_mode="AUTHORIZE")
    admin = signed_in(app, client, "admin")
    buyer = _customer(app, client)
    post(client, CREDIT, {"input": {"customerId": str(_customer_id(app)), "amount": "6.00", "currency": "EUR",
                                    "idempotencyKey": "k"}}, admin)
    code = post(client, GIFT, {"input": {"count": 1, "amount": "4.50", "currency": "EUR"}}, admin)[
        "data"]["generateGiftCards"]["giftCards"][0]["code"]
    publish(app, CASCADE)
    cart = ready_cart(client, buyer, card=DECLINE)
    tenders(client, cart, [{"type": "gift_card", "code": code}], buyer)
    entries = [(e.kind, e.amount) for e in rows(app, StoredValueEntry)]

    placed = post(client, PLACE, {"id": cart, "key": "k"}, buyer)["data"]["placeOrder"]

    assert placed["errors"] == [{"code": "PAYMENT_DECLINED", "field": "tenders[2]",
                                 "message": "tenders[2]: the card was declined: The issuer declined the card (do not honor)."}]
    assert [(e.kind, e.amount) for e in rows(app, StoredValueEntry)] == entries  # no hold left behind
    assert rows(app, Order) == [] and rows(app, PaymentTransaction) == [] and calls.voids == Counter()


def test_net_terms_reserve_open_credit_and_the_order_records_the_due_date(app, client):
    store(app, capture_mode="AUTHORIZE")
    admin = signed_in(app, client, "admin")
    from tests.runtime.test_carts_api import b2b

    acme = b2b(app, client)
    buyer = acme["tokens"]["buyer@acme.test"]
    terms = post(client, TERMS, {"input": {"accountId": str(acme["account"]), "creditLimit": "30.00", "currency": "EUR",
                                           "termsDays": 30}}, admin)["data"]["setNetTerms"]
    assert terms == {"netTerms": {"creditLimit": {"amount": "30.00"}, "openCredit": {"amount": "30.00"}, "termsDays": 30},
                     "errors": []}
    publish(app, CASCADE)
    first = ready_cart(client, buyer)
    placed = post(client, PLACE, {"id": first, "key": "k1"}, buyer)["data"]["placeOrder"]
    assert placed["errors"] == []
    order = post(client, ORDER_TENDERS, {"id": placed["order"]["id"]}, buyer)["data"]["order"]
    assert [(t["type"], t["amount"]["amount"], t["gateway"]) for t in order["tenders"]] == [
        ("net_terms", "22.90", "core.tender_type.net_terms")]
    assert order["tenders"][0]["dueAt"] is not None
    # a second order finds 7.10 of open credit left: terms take it, the card the rest
    second = ready_cart(client, buyer)
    placed = post(client, PLACE, {"id": second, "key": "k2"}, buyer)["data"]["placeOrder"]
    order = post(client, ORDER_TENDERS, {"id": placed["order"]["id"]}, buyer)["data"]["order"]
    assert [(t["type"], t["amount"]["amount"]) for t in order["tenders"]] == [("net_terms", "7.10"), ("card", "15.80")]
    assert sorted(r.amount for r in rows(app, NetTermsReservation)) == [Decimal("7.10"), Decimal("22.90")]


@pytest.mark.parametrize("values, code, field, message", [
    ([{"type": "cheque"}], "UNKNOWN_TENDER_TYPE", "tenders[0].type",
     "tenders[0].type: unknown tender type 'cheque' (known: ach, card, gift_card, net_terms, store_credit)"),
    ([{"type": "card", "token": "4242424242424242", "amount": "-1"}], "INVALID_AMOUNT", "tenders[0].amount",
     "tenders[0].amount: expected a positive decimal like \"10.00\", got '-1'"),
    ([{"type": "card", "token": "4242424242424242", "amount": "1.001"}], "INVALID_AMOUNT", "tenders[0].amount",
     "tenders[0].amount: EUR amounts have at most 2 decimal places and 13 digits, got '1.001'"),
    ([{"type": "gift_card", "code": "NOPE-NOPE-NOPE-NOPE"}], "UNKNOWN_GIFT_CARD", "tenders[0].code",
     "tenders[0].code: no gift card with this code"),
    ([{"type": "gift_card"}], "INVALID_TENDER", "tenders[0].code",
     "tenders[0].code: a gift card tender needs the card's code"),
    ([{"type": "net_terms"}], "NO_NET_TERMS", "tenders[0].type",
     "tenders[0].type: the cart's account has no net terms in EUR"),
])
def test_bad_tenders_are_refused_as_data_and_change_nothing(app, client, values, code, field, message):
    store(app)
    cart = ready_cart(client)
    tenders(client, cart, [{"type": "card", "token": "4242424242424242", "amount": "1.00"}])
    before = [(t.position, t.type, t.amount) for t in rows(app, CartTender)]

    answer = tenders(client, cart, values)

    assert answer == {"cart": None, "errors": [{"code": code, "field": field, "message": message}]}
    assert [(t.position, t.type, t.amount) for t in rows(app, CartTender)] == before


def test_tenders_above_the_total_or_not_covering_it_are_refused_at_place_order(app, client):
    store(app)
    cart = ready_cart(client)
    tenders(client, cart, [{"type": "card", "token": "4242424242424242", "amount": "20.00"},
                           {"type": "card", "token": "5555555555554444", "amount": "5.00"}])
    placed = post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]
    assert placed == {"order": None, "errors": [{"code": "TENDERS_EXCEED_TOTAL", "field": "tenders[1].amount",
                                                 "message": "tenders[1].amount: 5.00 is more than the 2.90 left of the total 22.90"}]}
    assert rows(app, Order) == [] and mock(app)._authorizations == {}


def test_store_credit_above_the_balance_is_refused_and_changes_nothing(app, client):
    store(app)
    admin = signed_in(app, client, "admin")
    buyer = _customer(app, client)
    post(client, CREDIT, {"input": {"customerId": str(_customer_id(app)), "amount": "3.00", "currency": "EUR",
                                    "idempotencyKey": "k"}}, admin)
    cart = ready_cart(client, buyer)
    tenders(client, cart, [{"type": "store_credit", "amount": "10.00"}], buyer)
    entries = [(e.kind, e.amount) for e in rows(app, StoredValueEntry)]
    placed = post(client, PLACE, {"id": cart, "key": "k"}, buyer)["data"]["placeOrder"]
    assert placed == {"order": None, "errors": [{
        "code": "INSUFFICIENT_STORE_CREDIT", "field": "tenders[0].amount",
        "message": "tenders[0].amount: store credit of 3.00 EUR cannot cover 10.00"}]}
    assert [(e.kind, e.amount) for e in rows(app, StoredValueEntry)] == entries
    assert rows(app, Order) == [] and mock(app)._authorizations == {}


def _customer(app, client):
    from tests.runtime.test_carts_api import customer

    return customer(app, client)


def _customer_id(app):
    from runtime.accounts.models import Customer

    return rows(app, Customer)[0].id
