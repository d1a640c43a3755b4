"""The payment approver sees the cart's tender split (composed by the live cascade, or as the cart's
tenders set it) and may re-curate it: amounts adding up to the approved total, each tender checked
by its type, balances and credit checked like at checkout (nothing held); the change is recorded
(who, why, before, after) and the order placed after approval pays with it. Refusals are data and
change nothing."""
from __future__ import annotations

import re

import pytest
from runtime.approvals.models import ApprovalDecision, ApprovalTenderCuration
from runtime.carts.models import Cart
from runtime.events.models import OutboxEvent
from runtime.orders.models import Order
from runtime.tenders.models import CartTender, StoredValueEntry
from tests.admin_ui.helpers import sign_in
from tests.runtime.helpers import recorded_statements, signed_in
from tests.runtime.test_approvals_api import APPROVAL, APPROVE, EMPLOYEES, ROUTE, SUBMIT, call
from tests.runtime.test_approvals_inbox import clone_pending
from tests.runtime.test_carts_api import ERRORS, b2b, post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_tenders_checkout import CREDIT, DECLINE, ORDER_TENDERS, publish
from tests.runtime.test_tenders_checkout import tenders as set_tenders

SPLIT = """query($id: ID!) { cart(id: $id) { state approval { currentPhase
  tenderSplit { total { amount currency } legs { position type amount { amount } source } cascade { name revision }
    problem { code field message } }
  tenderCurations { curatedBy reason phase before after } } } }"""
CURATE = ("mutation($id: ID!, $tenders: [CartTenderInput!]!, $reason: String!) { curateCartTenders(cartId: $id, "
          "tenders: $tenders, reason: $reason) { cart { id state } " + ERRORS + " } }")
APPROVE_WITH = ("mutation($id: ID!, $note: String, $tenders: [CartTenderInput!]) { approveCart(cartId: $id, note: $note, "
                "tenders: $tenders) { cart { id state } " + ERRORS + " } }")
INBOX_SPLIT = """query { cartApprovals(filter: {phase: "payment"}) { nodes { id approval { tenderSplit {
  legs { type amount { amount } } } } } } }"""
CURATED = [{"type": "store_credit", "amount": "5.00"}, {"type": "card", "amount": "17.90"}]


@pytest.fixture
def acme(app, client):
    ids = store(app)
    publish(app, ROUTE)
    found = {**b2b(app, client, employees=EMPLOYEES), **ids}
    admin = signed_in(app, client, "admin")
    credit = post(client, CREDIT, {"input": {"accountId": str(found["account"]), "amount": "10.00", "currency": "EUR",
                                             "idempotencyKey": "acme-1"}}, admin)["data"]["issueStoreCredit"]
    assert credit["errors"] == []
    return found


def in_payment_phase(client, acme) -> str:
    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"])
    assert call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])["errors"] == []
    assert call(client, APPROVE, {"id": cart}, t["boss@acme.test"])["cart"]["state"] == "pending_payment_approval"
    return cart


def faults(app):
    return [(e.payload["code"], e.payload["phase"], e.payload["reason"])
            for e in rows(app, OutboxEvent, OutboxEvent.type == "workflow.fault")]


def saved(app):
    """Everything a refused curation must leave as it was."""
    return ([(c.state, c.version) for c in rows(app, Cart)],
            [(t.position, t.type, t.amount) for t in rows(app, CartTender)], len(rows(app, ApprovalTenderCuration)),
            len(rows(app, ApprovalDecision)), len(rows(app, StoredValueEntry)), len(rows(app, OutboxEvent)))


def test_the_payment_approver_sees_recurates_and_the_order_pays_with_the_curated_split(app, client, acme):
    t = acme["tokens"]
    fin1, fin2 = t["fin1@acme.test"], t["fin2@acme.test"]
    cart = in_payment_phase(client, acme)

    # composed by the shipped B2B cascade: the account's 10.00 of store credit, the card the rest
    seen = call(client, SPLIT, {"id": cart}, fin1)["approval"]
    assert seen["tenderSplit"] == {
        "total": {"amount": "22.90", "currency": "EUR"}, "cascade": {"name": "b2b_store_credit_terms_card", "revision": 1},
        "problem": None, "legs": [{"position": 0, "type": "store_credit", "amount": {"amount": "10.00"}, "source": "cascade"},
                                  {"position": 1, "type": "card", "amount": {"amount": "12.90"}, "source": "cascade"}]}
    assert call(client, INBOX_SPLIT, {}, fin1)["nodes"] == [{"id": cart, "approval": {"tenderSplit": {"legs": [
        {"type": "store_credit", "amount": {"amount": "10.00"}}, {"type": "card", "amount": {"amount": "12.90"}}]}}}]
    entries = len(rows(app, StoredValueEntry))

    curated = call(client, CURATE, {"id": cart, "tenders": CURATED, "reason": "keep credit for the Q4 order"}, fin1)
    assert curated == {"cart": {"id": cart, "state": "pending_payment_approval"}, "errors": []}
    assert len(rows(app, StoredValueEntry)) == entries  # checked like at checkout, nothing held
    seen = call(client, SPLIT, {"id": cart}, t["buyer@acme.test"])["approval"]  # the buyer sees it too
    assert [(leg["type"], leg["amount"]["amount"], leg["source"]) for leg in seen["tenderSplit"]["legs"]] == [
        ("store_credit", "5.00", "buyer_prepended"), ("card", "17.90", "buyer_prepended")]
    assert seen["tenderCurations"] == [{
        "curatedBy": "fin1@acme.test", "reason": "keep credit for the Q4 order", "phase": "payment",
        "before": [{"position": 0, "type": "store_credit", "amount": "10.00", "currency": "EUR", "source": "cascade"},
                   {"position": 1, "type": "card", "amount": "12.90", "currency": "EUR", "source": "cascade"}],
        "after": [{"position": 0, "type": "store_credit", "amount": "5.00", "currency": "EUR", "source": "buyer_prepended"},
                  {"position": 1, "type": "card", "amount": "17.90", "currency": "EUR", "source": "buyer_prepended"}]}]
    steps = [e.payload["step"] for e in rows(app, OutboxEvent, OutboxEvent.type == "approval.step")]
    assert steps == ["submitted", "approved", "tenders_curated"]

    total = "query($id: ID!) { cart(id: $id) { approvedGrandTotal { amount currency } } }"
    assert call(client, APPROVE, {"id": cart}, fin1)["errors"] == []
    assert call(client, total, {"id": cart}, t["buyer@acme.test"]) == {"approvedGrandTotal": None}  # not yet approved
    assert call(client, APPROVE, {"id": cart}, fin2)["cart"]["state"] == "approved"
    assert call(client, total, {"id": cart}, t["buyer@acme.test"]) == {"approvedGrandTotal": {"amount": "22.90",
                                                                                              "currency": "EUR"}}
    placed = call(client, PLACE, {"id": cart, "key": "k1"}, t["buyer@acme.test"])
    assert placed["errors"] == []
    order = post(client, ORDER_TENDERS, {"id": placed["order"]["id"]}, t["buyer@acme.test"])["data"]["order"]
    assert [(leg["type"], leg["amount"]["amount"], leg["source"]) for leg in order["tenders"]] == [
        ("store_credit", "5.00", "buyer_prepended"), ("card", "17.90", "buyer_prepended")]
    assert order["total"] == {"amount": "22.90"}


def test_approve_with_tenders_curates_and_decides_in_one_transaction(app, client, acme):
    t = acme["tokens"]
    cart = in_payment_phase(client, acme)
    before = saved(app)
    no_reason = call(client, APPROVE_WITH, {"id": cart, "tenders": CURATED}, t["fin1@acme.test"])
    assert no_reason == {"cart": None, "errors": [{"code": "REASON_REQUIRED", "field": "note",
                                                   "message": "note: say why (a reason is required)"}]}
    assert saved(app) == before
    done = call(client, APPROVE_WITH, {"id": cart, "tenders": CURATED, "note": "credit kept"}, t["fin1@acme.test"])
    assert done["errors"] == []
    decisions = [(d.approver_email, d.phase, d.note) for d in rows(app, ApprovalDecision)]
    assert decisions == [("boss@acme.test", "cart", ""), ("fin1@acme.test", "payment", "credit kept")]
    assert [(c.email, c.reason) for c in rows(app, ApprovalTenderCuration)] == [("fin1@acme.test", "credit kept")]
    # a curation after one's own decision is refused: the decision is cast
    again = call(client, CURATE, {"id": cart, "tenders": CURATED, "reason": "x"}, t["fin1@acme.test"])
    assert [e["code"] for e in again["errors"]] == ["ALREADY_DECIDED"]


@pytest.mark.parametrize("tenders, errors", [
    ([{"type": "store_credit", "amount": "5.00"}],
     [("TENDERS_NOT_COVERED", "tenders", "tenders: the tenders add up to 5.00 EUR but the approved total is 22.90 EUR")]),
    ([{"type": "card", "amount": "30.00"}],
     [("TENDERS_EXCEED_TOTAL", "tenders", "tenders: the tenders add up to 30.00 EUR but the approved total is 22.90 EUR")]),
    ([{"type": "cheque", "amount": "1.00"}, {"type": "card", "amount": "1.001"}, {"type": "card"}],
     [("UNKNOWN_TENDER_TYPE", "tenders[0].type", "tenders[0].type: unknown tender type 'cheque' (known: "),
      ("INVALID_AMOUNT", "tenders[1].amount",
       "tenders[1].amount: EUR amounts have at most 2 decimal places and 13 digits, got '1.001'"),
      ("INVALID_AMOUNT", "tenders[2].amount", "tenders[2].amount: a curated tender names its amount")]),
    ([{"type": "store_credit", "amount": "20.00"}, {"type": "card", "amount": "2.90"}],
     [("INSUFFICIENT_STORE_CREDIT", "tenders[0].amount", "tenders[0].amount: store credit of 10.00 EUR cannot cover 20.00")]),
    ([{"type": "net_terms", "amount": "22.90"}],
     [("NO_NET_TERMS", "tenders[0].type", "tenders[0].type: the cart's account has no net terms in EUR")]),
    ([], [("INVALID_TENDER", "tenders", "tenders: 1 to 8 tenders, got 0")]),
])
def test_a_split_that_cannot_pay_the_approved_total_is_refused_and_changes_nothing(app, client, acme, tenders, errors):
    cart = in_payment_phase(client, acme)
    before = saved(app)
    answer = call(client, CURATE, {"id": cart, "tenders": tenders, "reason": "why not"}, acme["tokens"]["fin1@acme.test"])
    assert answer["cart"] is None
    assert len(answer["errors"]) == len(errors)
    for error, (code, field, message) in zip(answer["errors"], errors):
        assert (error["code"], error["field"]) == (code, field)
        # the known tender types depend on the packs loaded: the message is compared up to them
        assert error["message"] == message or message.endswith("(known: ") and error["message"].startswith(message)
    assert saved(app) == before


def test_who_may_curate_the_split(app, client, acme):
    t = acme["tokens"]
    other = b2b(app, client, "globex", employees=(("fin@globex.test", "b2b_finance"),))
    cart = ready_cart(client, t["buyer@acme.test"])
    call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])
    before = saved(app)

    def refused(token):
        answer = call(client, CURATE, {"id": cart, "tenders": CURATED, "reason": "because"}, token)
        assert answer["cart"] is None
        return [(e["code"], e["message"]) for e in answer["errors"]]

    # the cart phase: a manager decides it, but the split is the payment phase's
    assert refused(t["boss@acme.test"]) == [
        ("NOT_PAYMENT_PHASE", "cartId: the tender split is curated in the 'payment' phase; the request is in phase 'cart'")]
    call(client, APPROVE, {"id": cart}, t["boss@acme.test"])
    before = saved(app)
    assert refused(t["buyer@acme.test"]) == [("SELF_APPROVAL", "cartId: you requested this approval; someone else must "
                                                               "decide it")]
    assert refused(t["boss@acme.test"]) == [("NOT_AN_APPROVER", "cartId: you are not an approver of phase 'payment' now")]
    assert refused(other["tokens"]["fin@globex.test"]) == [("NOT_FOUND", f"cartId: no cart {cart!r} awaiting your approval")]
    empty = call(client, CURATE, {"id": cart, "tenders": CURATED, "reason": "  "}, t["fin1@acme.test"])
    assert [e["code"] for e in empty["errors"]] == ["REASON_REQUIRED"]
    assert saved(app) == before
    # another account's approver does not see the cart, let alone its split
    assert post(client, SPLIT, {"id": cart}, other["tokens"]["fin@globex.test"])["data"]["cart"] is None


def test_the_staff_inbox_shows_and_recurates_the_split(app, client):
    store(app)
    publish(app, ROUTE.replace("users: [fin1@acme.test, fin2@acme.test, fin3@acme.test], quorum: 2",
                               "users: [admin@example.test], quorum: 1"))
    acme = b2b(app, client, employees=EMPLOYEES)
    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"])
    call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])
    call(client, APPROVE, {"id": cart}, t["boss@acme.test"])
    staff = app.test_client()
    token = sign_in(app, staff, "admin")

    page = staff.get("/admin/approvals").get_data(as_text=True)
    # no store credit: the cascade's card pays all
    assert re.findall(r'<li data-leg="([^"]+)">([^<]+)<', page) == [("card", "card 22.90 EUR ")]
    refused = staff.post(f"/admin/approvals/{cart}/tenders", data={"csrf_token": token, "tenders": "card 20.00",
                                                                    "reason": "split"},
                         follow_redirects=True).get_data(as_text=True)
    assert "tenders: the tenders add up to 20.00 EUR but the approved total is 22.90 EUR" in refused
    bad = staff.post(f"/admin/approvals/{cart}/tenders", data={"csrf_token": token, "tenders": "card", "reason": "x"},
                     follow_redirects=True).get_data(as_text=True)
    assert "tenders: line 1: expected &#39;type amount&#39; like &#39;card 17.90&#39;, got &#39;card&#39;" in bad
    assert rows(app, ApprovalTenderCuration) == []
    done = staff.post(f"/admin/approvals/{cart}/tenders", data={"csrf_token": token, "tenders": "card 22.90\n",
                                                                 "reason": "one card"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Tender split re-curated by admin@example.test." in done
    assert re.findall(r'<li data-leg="([^"]+)">([^<]+)<', done) == [("card", "card 22.90 EUR ")]
    assert [(c.email, c.after) for c in rows(app, ApprovalTenderCuration)] == [("admin@example.test", [
        {"position": 0, "type": "card", "amount": "22.90", "currency": "EUR", "source": "buyer_prepended"}])]
    assert [(c.type, str(c.amount)) for c in rows(app, CartTender)] == [("card", "22.9000")]


def test_a_split_that_cannot_pay_is_a_fault_of_the_payment_phase_until_curated(app, client, acme):
    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"])
    assert set_tenders(client, cart, [{"type": "store_credit", "amount": "30.00"}], t["buyer@acme.test"])["errors"] == []
    call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])
    assert faults(app) == []  # the cart phase does not look at tenders
    call(client, APPROVE, {"id": cart}, t["boss@acme.test"])

    problem = {"code": "TENDERS_EXCEED_TOTAL", "field": "tenders[0].amount",
               "message": "tenders[0].amount: 30.00 is more than the 22.90 left of the total 22.90"}
    seen = call(client, SPLIT, {"id": cart}, t["fin1@acme.test"])["approval"]["tenderSplit"]
    assert seen["problem"] == problem and seen["legs"] == []
    assert call(client, APPROVAL, {"id": cart}, t["buyer@acme.test"])["approval"]["fault"] == {
        "code": "TENDERS_INVALID", "phase": "payment"}
    assert faults(app) == [("TENDERS_INVALID", "payment", problem["message"])]

    call(client, CURATE, {"id": cart, "tenders": CURATED, "reason": "credit covers 5.00 only"}, t["fin1@acme.test"])
    assert call(client, APPROVAL, {"id": cart}, t["buyer@acme.test"])["approval"]["fault"] is None
    before = call(client, SPLIT, {"id": cart}, t["fin1@acme.test"])["approval"]["tenderCurations"][0]["before"]
    assert before == [{"position": 0, "type": "store_credit", "amount": "30.00", "currency": "EUR",
                       "source": "buyer_prepended"}]  # what the buyer had set


def test_a_declined_card_at_placement_is_a_fault_of_the_approved_payment(app, client, acme):
    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"], card=DECLINE)
    call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])
    for approver in ("boss@acme.test", "fin1@acme.test", "fin2@acme.test"):
        assert call(client, APPROVE, {"id": cart}, t[approver])["errors"] == []
    placed = call(client, PLACE, {"id": cart, "key": "k1"}, t["buyer@acme.test"])
    assert placed["order"] is None and placed["errors"]
    seen = call(client, APPROVAL, {"id": cart}, t["buyer@acme.test"])
    assert seen["state"] == "approved" and seen["approval"]["status"] == "approved"
    assert seen["approval"]["fault"] == {"code": "PAYMENT_FAILED", "phase": "payment"}
    assert [(code, phase) for code, phase, _reason in faults(app)] == [("PAYMENT_FAILED", "payment")]
    assert faults(app)[0][2] == "placement refused the tenders: " + "; ".join(e["message"] for e in placed["errors"])
    assert rows(app, Order) == []


def test_the_inbox_split_costs_the_same_few_statements_per_cart(app, client, acme):
    """The split is composed per cart (balances are read under the ledger's locks, in a short
    transaction of its own): the cost grows by the same count per cart, and stays small."""
    t = acme["tokens"]
    clone_pending(app, in_payment_phase(client, acme), 9)
    database, fin1 = app.extensions["vectis.db"], t["fin1@acme.test"]
    query = """query($first: Int) { cartApprovals(first: $first, filter: {phase: "payment"}) { nodes { id approval {
      tenderSplit { legs { type amount { amount } } } } } } }"""
    counts = {}
    for first in (5, 10):
        call(client, query, {"first": first}, fin1)  # warm caches (schema, definitions)
        with recorded_statements(database) as statements:
            page = call(client, query, {"first": first}, fin1)
        assert [len(n["approval"]["tenderSplit"]["legs"]) for n in page["nodes"]] == [2] * first
        counts[first] = len(statements)
    per_cart = (counts[10] - counts[5]) // 5
    print(f"inbox with tenderSplit: {counts} statements; {per_cart} per cart")
    assert counts[10] - counts[5] == 5 * per_cart and per_cart <= 12, counts
