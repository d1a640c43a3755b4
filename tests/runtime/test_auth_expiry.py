"""VoidExpiringCardAuths: card authorisations past their gateway's expiry window are voided at the
gateway once each, even when the sweep runs twice or is killed halfway."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from runtime.clock import utcnow
from runtime.payments.capabilities import capabilities_of
from runtime.payments.expiry import void_expiring_card_auths
from runtime.payments.models import PaymentTransaction
from tests.runtime.test_carts_api import post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_tenders_checkout import APPROVE, mock, tenders


@pytest.fixture
def three_auths(app, client):
    store(app, capture_mode="AUTHORIZE")
    cart = ready_cart(client)
    tenders(client, cart, [{"type": "card", "token": APPROVE[0], "amount": "5.00"},
                           {"type": "card", "token": APPROVE[1], "amount": "7.00"},
                           {"type": "card", "token": APPROVE[2]}])
    assert post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]["errors"] == []
    gateway = mock(app)
    voided = Counter()
    real = gateway._void

    def counted(merchant, transaction_id):
        voided[transaction_id] += 1  # the gateway's own void: a replayed key never reaches it
        return real(merchant, transaction_id)

    gateway._void = counted
    return voided


def test_the_mock_declares_a_seven_day_window(app):
    assert capabilities_of(mock(app)).expiry_window == timedelta(days=7)


def test_authorisations_inside_the_window_are_left_alone(app, three_auths):
    with app.app_context():
        assert void_expiring_card_auths(app, now=utcnow() + timedelta(days=6)) == Counter()
    assert [p.state for p in rows(app, PaymentTransaction)] == ["authorized"] * 3


def test_expired_authorisations_are_voided_once_even_when_the_sweep_runs_twice(app, three_auths):
    later = utcnow() + timedelta(days=7, seconds=1)
    with app.app_context():
        assert void_expiring_card_auths(app, now=later) == Counter({"voided": 3})
        assert void_expiring_card_auths(app, now=later) == Counter()

    assert sorted(three_auths.values()) == [1, 1, 1]
    assert {a.status for a in mock(app)._authorizations.values()} == {"voided"}
    payments = rows(app, PaymentTransaction)
    assert sorted((p.type, p.state, p.actor) for p in payments) == sorted(
        [("authorization", "authorization_expired", "anonymous")] * 3 + [("void", "succeeded", "system:auth-expiry")] * 3)


def test_a_sweep_killed_halfway_voids_each_once_when_run_again(app, three_auths):
    gateway = mock(app)
    void = gateway.void
    calls = {"n": 0}

    def dies_after_second(transaction_id, key, config):
        result = void(transaction_id, key, config)
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("killed after the gateway answered, before the commit")
        return result

    gateway.void = dies_after_second
    later = utcnow() + timedelta(days=8)
    with app.app_context():
        with pytest.raises(SystemExit):
            void_expiring_card_auths(app, now=later, batch=10)
    assert [p.state for p in rows(app, PaymentTransaction)] == ["authorized"] * 3  # the batch rolled back
    gateway.void = void

    with app.app_context():
        assert void_expiring_card_auths(app, now=later) == Counter({"voided": 3})
    assert sorted(three_auths.values()) == [1, 1, 1]
    assert [p.state for p in rows(app, PaymentTransaction) if p.type == "authorization"] == ["authorization_expired"] * 3
