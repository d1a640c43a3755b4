"""The GraphQL examples of docs/approvals.md's sections on the operations, the payment approver's
tender split and alerts for account admins run against the demo store as written. The operations
run on a cart of Acme Tools' buyer in the order of the page, each as whom its comment names. For the
other two sections: Acme Tools' buyer submits a
cart of 1,100 boxes of screws (over the demo's 10,000 finance threshold), the manager approves the
cart phase, and the examples run in the order of the page, as ``fin1@acme.demo.test`` (the
payment approver) or, for ``setNetTerms`` and ``approvalAlerts``, as staff; ``$cartId`` is that
cart, ``$accountId`` Acme Tools."""
from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import select

from examples.client.checkout import (M_APPROVE, M_BILLING, M_CREATE_CART, M_METHOD, M_PAYMENT, M_SHIPPING, M_SUBMIT,
                                      MANAGER, Q_PRODUCTS, Q_SAVED_CARDS, Q_VIEWER)
from runtime.accounts.models import Account
from runtime.approvals.quorum import check_pending
from runtime.auth.models import User
from runtime.demo import load_demo
from runtime.setup import upgrade
from tests.runtime.helpers import login, signed_in
from tests.runtime.test_carts_api import post
from tests.runtime.test_promotions_docs import operations

DOC = Path(__file__).resolve().parents[2] / "docs" / "approvals.md"
SECTIONS = ("## The tender split in the payment phase", "## Alerts for account admins")
OPERATIONS = "## Operations (GraphQL)"
BUYER = ("buyer@acme.demo.test", "demo-buyer-password")
#: Boxes of screws in the cart: over 10,000 with the demo's prices.
QUANTITY = 1100


def section(markdown: str, heading: str) -> str:
    start = markdown.index(heading + "\n")
    end = markdown.find("\n## ", start + len(heading))
    return markdown[start:end if end != -1 else len(markdown)]


def b2b(client, query, variables, token):
    answer = post(client, query, variables, token, channel="b2b")
    assert not answer.get("errors"), answer
    payload = list(answer["data"].values())[0]
    assert not (isinstance(payload, dict) and payload.get("errors")), payload
    return payload


def demo_cart(client, buyer: str) -> str:
    """A cart of Acme Tools' buyer over the finance threshold, ready to submit."""
    variant = next(p for p in b2b(client, Q_PRODUCTS, {"search": "Screws"}, buyer)["nodes"] if p["variants"])["variants"][0]
    location = b2b(client, Q_VIEWER, {}, buyer)["employee"]["location"]
    card = b2b(client, Q_SAVED_CARDS, {"locationId": location["id"]}, buyer)[0]
    cart = b2b(client, M_CREATE_CART, {"input": {"lines": [{"variantId": variant["id"], "quantity": QUANTITY}],
                                                 "locationId": location["id"]}}, buyer)["cart"]
    address = {"addressId": location["addresses"][0]["id"]}
    b2b(client, M_SHIPPING, {"cartId": cart["id"], "input": address}, buyer)
    methods = b2b(client, M_BILLING, {"cartId": cart["id"], "input": address}, buyer)["cart"]["availableShippingMethods"]
    b2b(client, M_METHOD, {"cartId": cart["id"], "code": methods[0]["code"]}, buyer)
    b2b(client, M_PAYMENT, {"cartId": cart["id"], "input": {"savedPaymentMethodId": card["id"]}}, buyer)
    return cart["id"]


def cart_in_payment_phase(client) -> str:
    buyer = login(client, *BUYER)
    cart = demo_cart(client, buyer)
    b2b(client, M_SUBMIT, {"cartId": cart, "note": "docs"}, buyer)
    assert b2b(client, M_APPROVE, {"cartId": cart, "note": "ok"}, login(client, *MANAGER))["cart"]["state"] == \
        "pending_payment_approval"
    return cart


def test_the_operation_examples_run_against_the_demo(app, client):
    list(upgrade(app))
    list(load_demo(app))
    buyer = login(client, *BUYER)
    cart = demo_cart(client, buyer)
    finance = login(client, "fin1@acme.demo.test", "demo-approver-password")
    who = {"Approve": login(client, *MANAGER), "Reject": finance, "Inbox": finance}
    answers = {}
    found = operations(section(DOC.read_text(encoding="utf-8"), OPERATIONS))
    assert len(found) == 7
    for operation in found:
        name = re.search(r"\b(?:query|mutation) (\w+)", operation).group(1)
        if name == "Withdraw":  # rejected just before: the buyer submits again
            b2b(client, M_SUBMIT, {"cartId": cart, "note": "again"}, buyer)
        answers[name] = b2b(client, operation, {"cartId": cart} if "$cartId" in operation else {}, who.get(name, buyer))
    assert [answers[name]["cart"]["state"] for name in ("Submit", "Approve", "Reject", "Withdraw")] == [
        "pending_cart_approval", "pending_payment_approval", "active", "active"]
    approval = answers["Approval"]["approval"]
    assert approval["status"] == "withdrawn" and [r["reason"] for r in approval["rejections"]] == ["too many screws"]
    explained = answers["Explain"]["approvalExplain"]
    assert explained["required"] is True
    assert {r["route"] for r in explained["routes"] if r["matched"]} == {"finance_over_10000", "manager_over_1000"}
    assert answers["Inbox"]["nodes"] == []  # nothing waits for finance for 24 hours


def test_the_sections_have_their_examples():
    markdown = DOC.read_text(encoding="utf-8")
    found = [operations(section(markdown, heading)) for heading in SECTIONS]
    assert [len(ops) for ops in found] == [4, 1]
    assert "TOTAL_LESS_5000" not in markdown
    assert all(re.match(r"^(query|mutation)\b", op) for ops in found for op in ops)


def test_the_tender_split_and_alert_examples_run_against_the_demo(app, client):
    list(upgrade(app))
    list(load_demo(app))
    cart_id = cart_in_payment_phase(client)
    finance = login(client, "fin1@acme.demo.test", "demo-approver-password")
    staff = signed_in(app, client, "admin")
    markdown = DOC.read_text(encoding="utf-8")
    with app.extensions["vectis.db"].session() as session:
        account = session.exec(select(Account.id).where(Account.slug == "acme-tools")).one()
    variables = {"cartId": cart_id, "accountId": str(account)}
    answers = []
    for operation in operations(section(markdown, SECTIONS[0])):
        token = staff if "setNetTerms" in operation else finance
        answers.append(b2b(client, operation, {k: v for k, v in variables.items() if f"${k}" in operation}, token))

    split = answers[0]["approval"]
    assert split["currentPhase"] == "payment" and split["tenderCurations"] == []
    total = split["tenderSplit"]["total"]
    assert split["tenderSplit"]["problem"] is None
    assert [(leg["type"], leg["amount"]["amount"]) for leg in split["tenderSplit"]["legs"]] == [("card", total["amount"])]
    assert answers[1]["netTerms"] == {"openCredit": {"amount": "20000.00"}, "termsDays": 30}
    rest = format(float(total["amount"]) - 5000, ".2f")
    assert answers[2]["cart"]["approval"]["tenderSplit"]["legs"] == [
        {"type": "net_terms", "amount": {"amount": "5000.00"}, "source": "buyer_prepended"},
        {"type": "card", "amount": {"amount": rest}, "source": "buyer_prepended"}]
    approved = answers[3]["cart"]
    assert approved["state"] == "pending_payment_approval"  # one of the two finance approvals
    assert [c["reason"] for c in approved["approval"]["tenderCurations"]] == [
        "terms for the first 5,000 (the account's ERP budget line)", "split checked"]

    # fin2 and fin3 leave: the finance tier can no longer reach 2 of 3
    def deactivate(session):
        for user in session.exec(select(User).where(User.email.in_(["fin2@acme.demo.test", "fin3@acme.demo.test"]))):
            user.is_active = False
            session.add(user)

    app.extensions["vectis.db"].run(deactivate)
    with app.app_context():
        assert check_pending() == 1
    [alerts] = [b2b(client, op, {}, staff) for op in operations(section(markdown, SECTIONS[1]))]
    assert [(a["code"], a["phase"], a["cartId"]) for a in alerts["nodes"]] == [("QUORUM_UNREACHABLE", "payment", cart_id)]
