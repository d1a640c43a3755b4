"""Approvals under concurrency and across accounts.

* Three finance approvers of a 2-of-3 tier and a manager deciding at once, over and over: every
  decision is recorded once, the quorum counts each approver once, the request is approved exactly
  when two finance approvals exist, a third is refused (its tier is full) and nothing is lost
  (PostgreSQL row locks; SQLite's single writer serialises them).
* The ownership matrix: an approver of account B never sees or decides carts of account A, on
  every operation (the inbox, Cart.approval, approveCart, rejectCart, withdrawCartApproval).
"""
from __future__ import annotations

import threading

import pytest

from runtime.approvals.models import ApprovalDecision, ApprovalRequest
from runtime.auth.models import User
from runtime.accounts.models import Employee, Location
from runtime.carts.models import Cart
from tests.runtime.helpers import login, make_user
from tests.runtime.test_approvals_api import (
    APPROVAL, APPROVE, EMPLOYEES, INBOX, REJECT, ROUTE, SUBMIT, WITHDRAW, call, saved,
)
from tests.runtime.test_carts_api import b2b, post, rows, store
from tests.runtime.test_checkout_api import ready_cart
from tests.runtime.test_tenders_checkout import publish
from sqlmodel import select

#: Finance approvers only: the payment phase is the first and the only one.
FINANCE_ONLY = ROUTE.replace("""  cart:
    tiers: [{name: managers, roles: [b2b_manager], quorum: 1}]
""", "").replace("name: b2b_over_20", "name: finance_only")


@pytest.fixture
def acme(app, client):
    ids = store(app)
    return {**b2b(app, client, employees=EMPLOYEES), **ids}


def test_concurrent_approvers_never_double_count_or_lose_a_decision(app, client, acme):
    publish(app, FINANCE_ONLY)
    t = acme["tokens"]
    approvers = ["fin1@acme.test", "fin2@acme.test", "fin3@acme.test"]
    rounds = 4
    carts = []
    for _ in range(rounds):
        cart = ready_cart(client, t["buyer@acme.test"])
        assert call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])["cart"]["state"] == "pending_payment_approval"
        carts.append(cart)

    answers: dict[tuple[str, str], dict] = {}

    def decide(cart: str, email: str, barrier: threading.Barrier) -> None:
        own = app.test_client()
        barrier.wait()
        response = own.post("/graphql", json={"query": APPROVE, "variables": {"id": cart}},
                            headers={"X-Channel-Slug": "web", "Authorization": f"Bearer {t[email]}"})
        answers[(cart, email)] = response.get_json()

    for cart in carts:
        barrier = threading.Barrier(len(approvers))
        threads = [threading.Thread(target=decide, args=(cart, email, barrier)) for email in approvers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    for cart in carts:
        results = [answers[(cart, email)] for email in approvers]
        assert all("errors" not in r for r in results), results
        payloads = [r["data"]["approveCart"] for r in results]
        accepted = [p for p in payloads if not p["errors"]]
        refused = [p["errors"][0]["code"] for p in payloads if p["errors"]]
        # exactly two count (the quorum), the third finds the tier full or the request decided
        assert len(accepted) == 2 and len(refused) == 1, payloads
        assert refused[0] in ("NOT_AN_APPROVER", "REQUEST_NOT_PENDING")
    with app.extensions["vectis.db"].session() as session:
        requests = session.exec(select(ApprovalRequest)).all()
        decisions = session.exec(select(ApprovalDecision)).all()
        states = sorted(c.state for c in session.exec(select(Cart)).all())
    assert sorted(r.status for r in requests) == ["approved"] * rounds
    by_request = {}
    for d in decisions:
        by_request.setdefault(d.request_id, []).append(d.approver_email)
    assert sorted(len(set(v)) for v in by_request.values()) == [2] * rounds
    assert sorted(len(v) for v in by_request.values()) == [2] * rounds
    assert states == ["approved"] * rounds


def other_account(app, client):
    """Account 'globex' with its own manager and finance approver (same roles as acme's)."""
    return b2b(app, client, "globex", employees=(("boss@globex.test", "b2b_manager"),
                                                   ("fin@globex.test", "b2b_finance")))


def test_an_approver_of_another_account_never_sees_or_decides_its_carts(app, client, acme):
    publish(app, ROUTE)
    globex = other_account(app, client)
    t = acme["tokens"]
    buyer = t["buyer@acme.test"]
    cart = ready_cart(client, buyer)
    call(client, SUBMIT, {"id": cart}, buyer)
    foreign = [globex["tokens"]["boss@globex.test"], globex["tokens"]["fin@globex.test"]]
    before = saved(app)
    not_found = {"code": "NOT_FOUND", "field": "cartId"}
    for token in foreign:
        assert call(client, INBOX, {}, token)["nodes"] == []
        assert call(client, APPROVAL, {"id": cart}, token) is None
        for query, variables in ((APPROVE, {"id": cart}), (REJECT, {"id": cart, "reason": "no"}),
                                 (WITHDRAW, {"id": cart})):
            answer = call(client, query, variables, token)
            assert answer["cart"] is None
            assert [{k: e[k] for k in ("code", "field")} for e in answer["errors"]] == [not_found]
    assert saved(app) == before
    # while acme's own manager sees it and may decide it
    assert [n["id"] for n in call(client, INBOX, {}, t["boss@acme.test"])["nodes"]] == [cart]
