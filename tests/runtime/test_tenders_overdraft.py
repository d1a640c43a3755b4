"""Store-credit overdraft by policy: a spend below zero opens a draft to settle; credits redeem it;
GcExpiredOverdraftDrafts reaps the drafts nobody redeemed in time (once) and withdraws the overdraft."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from runtime.tenders import ledger
from runtime.tenders.models import OverdraftDraft, StoredValueAccount
from runtime.tenders.overdraft import gc_expired_overdraft_drafts
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_tenders_checkout import CREDIT, _customer, _customer_id, tenders

POLICY = ("mutation($input: SetStoreCreditOverdraftInput!) { setStoreCreditOverdraft(input: $input) { "
          "overdraftLimit { amount } settleDays balance { amount } openDrafts { amount { amount } state expiresAt } "
          "errors { code field message } } }")


def overdrawn(app, client, frozen_clock, *, limit="10.00", spend="10.00", days=7):
    """A customer with 3.00 of store credit and an overdraft of ``limit`` places an order spending ``spend`` of it."""
    store(app)
    admin, buyer = signed_in(app, client, "admin"), _customer(app, client)
    customer = str(_customer_id(app))
    policy = post(client, POLICY, {"input": {"customerId": customer, "currency": "EUR", "overdraftLimit": limit,
                                             "settleDays": days}}, admin)["data"]["setStoreCreditOverdraft"]
    assert policy["errors"] == []
    post(client, CREDIT, {"input": {"customerId": customer, "amount": "3.00", "currency": "EUR",
                                    "idempotencyKey": "welcome"}}, admin)
    cart = ready_cart(client, buyer)
    assert tenders(client, cart, [{"type": "store_credit", "amount": spend}], buyer)["errors"] == []
    placed = post(client, PLACE, {"id": cart, "key": "k"}, buyer)["data"]["placeOrder"]
    return admin, buyer, customer, placed


def test_a_spend_below_zero_opens_a_draft_and_credits_redeem_it(app, client, frozen_clock):
    admin, _buyer, customer, placed = overdrawn(app, client, frozen_clock)

    assert placed["errors"] == []
    [draft] = rows(app, OverdraftDraft)
    assert (draft.amount, draft.state, draft.expires_at) == (Decimal("7.00"), "open", frozen_clock.now() + timedelta(days=7))
    seen = post(client, POLICY, {"input": {"customerId": customer, "currency": "EUR", "overdraftLimit": "10.00",
                                           "settleDays": 7}}, admin)["data"]["setStoreCreditOverdraft"]
    assert seen["balance"] == {"amount": "-7.00"}
    assert [(d["amount"]["amount"], d["state"]) for d in seen["openDrafts"]] == [("7.00", "open")]

    credit = {"customerId": customer, "amount": "5.00", "currency": "EUR", "idempotencyKey": "repay-1"}
    post(client, CREDIT, {"input": credit}, admin)
    assert [d.state for d in rows(app, OverdraftDraft)] == ["open"]  # -2.00: still owed
    post(client, CREDIT, {"input": {**credit, "amount": "2.00", "idempotencyKey": "repay-2"}}, admin)
    assert [(d.state, d.resolved_at) for d in rows(app, OverdraftDraft)] == [("redeemed", frozen_clock.now())]
    # nothing left for the reaper, however late it runs
    frozen_clock.advance(days=30)
    with app.app_context():
        assert gc_expired_overdraft_drafts(app) == 0
    assert [d.state for d in rows(app, OverdraftDraft)] == ["redeemed"]


def test_the_gc_reaps_an_unredeemed_draft_once_and_withdraws_the_overdraft(app, client, frozen_clock):
    _admin, _buyer, _customer_key, placed = overdrawn(app, client, frozen_clock)
    assert placed["errors"] == []

    frozen_clock.advance(days=6, hours=23)
    with app.app_context():
        assert gc_expired_overdraft_drafts(app) == 0
    assert [d.state for d in rows(app, OverdraftDraft)] == ["open"]
    frozen_clock.advance(hours=1)
    with app.app_context():
        assert gc_expired_overdraft_drafts(app) == 1
        assert gc_expired_overdraft_drafts(app) == 0  # a second run reaps nothing twice

    [draft] = rows(app, OverdraftDraft)
    assert (draft.state, draft.resolved_at) == ("expired", frozen_clock.now())
    [account] = rows(app, StoredValueAccount)
    assert account.overdraft_limit == Decimal(0)
    assert account.attributes["overdraft_withdrawn"] == {"limit": "10.0000", "at": frozen_clock.now().isoformat(),
                                                         "draft_id": draft.id}
    # the owner cannot overdraw again (the buyer's sign-in expired during the week: asked at the ledger)
    with pytest.raises(ledger.InsufficientBalance) as refused:
        app.extensions["vectis.db"].run(lambda session: ledger.hold(session, account, Decimal("0.01"), "again"))
    assert refused.value.available == Decimal(0)
    assert len(rows(app, OverdraftDraft)) == 1


def test_a_spend_beyond_the_overdraft_is_refused_and_opens_no_draft(app, client, frozen_clock):
    _admin, _buyer, _customer_key, placed = overdrawn(app, client, frozen_clock, limit="5.00")

    assert placed["errors"] == [{"code": "INSUFFICIENT_STORE_CREDIT", "field": "tenders[0].amount",
                                 "message": "tenders[0].amount: store credit of 8.00 EUR cannot cover 10.00"}]
    assert rows(app, OverdraftDraft) == []


def test_a_bad_overdraft_policy_is_refused_as_data_and_changes_nothing(app, client):
    store(app)
    admin = signed_in(app, client, "admin")
    _customer(app, client)
    customer = str(_customer_id(app))

    cases = [({"overdraftLimit": "-1"}, "INVALID_AMOUNT", "input.overdraftLimit"),
             ({"settleDays": 0}, "INVALID_TENDER", "input.settleDays"),
             ({"currency": "EURO"}, "INVALID_AMOUNT", "input.currency"),
             ({"accountId": "1"}, "NO_OWNER", "input")]
    for change, code, field in cases:
        values = {"customerId": customer, "currency": "EUR", "overdraftLimit": "10.00", **change}
        answer = post(client, POLICY, {"input": values}, admin)["data"]["setStoreCreditOverdraft"]
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [(code, field)], change
    assert rows(app, StoredValueAccount) == []
