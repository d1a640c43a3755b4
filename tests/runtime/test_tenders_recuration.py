"""recurateCascade: an approver replaces the faulted tenders of an order; every re-curation is kept
with who, why, before and after; a refusal changes nothing (a card authorised before it is voided once)."""
from __future__ import annotations

from decimal import Decimal

from runtime.orders.models import Order
from runtime.payments.models import PaymentTransaction
from runtime.tenders.models import PaymentTender, StoredValueEntry, TenderRecuration
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import post, rows, store
from tests.runtime.test_tenders_checkout import APPROVE, DECLINE, GIFT, calls, mock  # noqa: F401
from tests.runtime.test_tenders_lifecycle import three_card_order

BALANCE = "query($code: String!) { giftCardBalance(code: $code) { balance { amount } } }"
VOID = "mutation($id: ID!) { voidPayment(paymentId: $id) { payment { state } errors { code field message } } }"
RECURATE = ("mutation($id: ID!, $tenders: [CartTenderInput!]!, $reason: String!) { recurateCascade(orderId: $id, "
            "newCascade: $tenders, reason: $reason) { order { state paymentStatus total { amount } "
            "tenders { position type amount { amount } source state } "
            "tenderRecurations { sequence actor reason before after } } "
            "recuration { sequence actor reason } errors { code field message } } }")


def faulted_order(app, client):
    """A paid three-card order (5.00 + 7.00 + 10.90) whose 7.00 card staff voided."""
    store(app, capture_mode="AUTHORIZE")
    order_id = three_card_order(app, client)
    admin = signed_in(app, client, "admin")
    leg = sorted((t.position, t.payment_transaction_id) for t in rows(app, PaymentTender))[1][1]
    assert post(client, VOID, {"id": str(leg)}, admin)["data"]["voidPayment"]["errors"] == []
    return order_id, admin


def state(app):
    """Everything a refused re-curation must leave as it was."""
    return ([(t.position, t.type, t.amount, t.source, t.payment_transaction_id) for t in rows(app, PaymentTender)],
            [(p.id, p.state) for p in rows(app, PaymentTransaction) if p.order_id is not None],
            [(o.state, o.payment_status) for o in rows(app, Order)], rows(app, TenderRecuration))


def recurate(client, token, order_id, tenders, reason="card expired, buyer gave two others"):
    return post(client, RECURATE, {"id": order_id, "tenders": tenders, "reason": reason}, token)["data"][
        "recurateCascade"]


def test_an_approver_replaces_the_voided_leg_and_the_recuration_is_recorded(app, client):
    order_id, admin = faulted_order(app, client)

    done = recurate(client, admin, order_id, [{"type": "card", "token": APPROVE[0], "amount": "3.00"},
                                              {"type": "card", "token": APPROVE[2], "amount": "4.00"}])

    assert done["errors"] == []
    order = done["order"]
    assert (order["state"], order["paymentStatus"]) == ("paid", "authorized")
    assert [(t["position"], t["amount"]["amount"], t["source"], t["state"]) for t in order["tenders"]] == [
        (0, "5.00", "buyer_prepended", "authorized"), (2, "10.90", "buyer_prepended", "authorized"),
        (3, "3.00", "recurated", "authorized"), (4, "4.00", "recurated", "authorized")]
    assert sum(Decimal(t["amount"]["amount"]) for t in order["tenders"]) == Decimal(order["total"]["amount"])
    assert done["recuration"] == {"sequence": 1, "actor": "admin@example.test",
                                  "reason": "card expired, buyer gave two others"}
    [record] = order["tenderRecurations"]
    assert [(leg["position"], leg["amount"], leg["state"]) for leg in record["before"]] == [
        (0, "5.00", "authorized"), (1, "7.00", "voided"), (2, "10.90", "authorized")]
    assert [(leg["position"], leg["amount"], leg["source"]) for leg in record["after"]] == [
        (0, "5.00", "buyer_prepended"), (2, "10.90", "buyer_prepended"), (3, "3.00", "recurated"),
        (4, "4.00", "recurated")]
    # the voided authorisation is still the record of the money; the gateway holds four authorisations
    assert sorted(p.state for p in rows(app, PaymentTransaction) if p.type == "authorization") == [
        "authorized"] * 4 + ["voided"]
    assert sorted(a.status for a in mock(app)._authorizations.values()) == ["authorized"] * 4 + ["voided"]

    # every leg holds its money again: nothing left to re-curate
    assert recurate(client, admin, order_id, [{"type": "card", "token": APPROVE[1], "amount": "7.00"}])["errors"][0][
        "code"] == "NOT_FAULTED"


def test_a_decline_refuses_the_recuration_changes_nothing_and_voids_the_card_it_authorised(app, client, calls):
    order_id, admin = faulted_order(app, client)
    before = state(app)
    authorizations = set(mock(app)._authorizations)

    refused = recurate(client, admin, order_id, [{"type": "card", "token": APPROVE[2], "amount": "3.00"},
                                                 {"type": "card", "token": DECLINE, "amount": "4.00"}])

    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("PAYMENT_DECLINED", "newCascade[1]")]
    assert refused["errors"][0]["message"].startswith("newCascade[1]: the card was declined")
    assert state(app) == before
    new = {key: a.status for key, a in mock(app)._authorizations.items() if key not in authorizations}
    [voided] = [key for key, status in new.items() if status == "voided"]
    assert sorted(new.values()) == ["failed", "voided"] and calls.voids[voided] == 1


def test_bad_input_is_refused_as_data_and_changes_nothing(app, client):
    order_id, admin = faulted_order(app, client)
    before = state(app)

    short = recurate(client, admin, order_id, [{"type": "card", "token": APPROVE[0], "amount": "6.99"}])
    assert short["errors"] == [{"code": "TENDERS_NOT_COVERED", "field": "newCascade", "message":
                                "newCascade: the tenders add up to 6.99 EUR but the faulted tenders covered 7.00 EUR"}]
    many = recurate(client, admin, order_id, [{"type": "bitcoin", "amount": "7.00"}, {"type": "card", "amount": "-1"},
                                              {"type": "card", "token": APPROVE[0]}])
    assert [(e["code"], e["field"]) for e in many["errors"]] == [
        ("UNKNOWN_TENDER_TYPE", "newCascade[0].type"), ("INVALID_AMOUNT", "newCascade[1].amount"),
        ("INVALID_AMOUNT", "newCascade[2].amount")]
    blank = recurate(client, admin, order_id, [{"type": "card", "token": APPROVE[0], "amount": "7.00"}], reason=" ")
    assert (blank["errors"][0]["code"], blank["errors"][0]["field"]) == ("INVALID_TENDER", "reason")
    assert state(app) == before


def test_an_order_whose_tenders_all_hold_their_money_is_not_recurated_and_staff_need_the_permission(app, client):
    store(app, capture_mode="AUTHORIZE")
    order_id = three_card_order(app, client)
    admin, sales = signed_in(app, client, "admin"), signed_in(app, client, "sales")
    before = state(app)

    refused = recurate(client, admin, order_id, [{"type": "card", "token": APPROVE[0], "amount": "7.00"}])
    assert refused["errors"][0]["code"] == "NOT_FAULTED"
    assert "has no faulted tender" in refused["errors"][0]["message"]
    forbidden = post(client, RECURATE, {"id": order_id, "tenders": [], "reason": "x"}, sales)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert state(app) == before


def test_a_gift_card_replaces_the_voided_card_on_its_ledger(app, client):
    order_id, admin = faulted_order(app, client)
    gift = post(client, GIFT, {"input": {"count": 1, "amount": "9.00", "currency": "EUR"}}, admin)["data"]
    code = gift["generateGiftCards"]["giftCards"][0]["code"]

    done = recurate(client, admin, order_id, [{"type": "gift_card", "code": code, "amount": "7.00"}])

    assert done["errors"] == []
    assert [(t["position"], t["type"], t["amount"]["amount"], t["state"]) for t in done["order"]["tenders"]][-1] == (
        3, "gift_card", "7.00", "authorized")
    holds = [(e.kind, e.amount, e.order_id) for e in rows(app, StoredValueEntry) if e.kind == "hold"]
    assert holds == [("hold", Decimal("7.00"), int(order_id))]
    balance = post(client, BALANCE, {"code": code})["data"]["giftCardBalance"]["balance"]
    assert balance == {"amount": "2.00"}
