"""Gateway calls and the checkout's transaction (PostgreSQL, where row locks and the intent journal
exist): a card is authorised before stock rows are locked, and an authorisation whose checkout
died before its commit is found from its journaled intent and voided exactly once."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from runtime.checkout import Stage, register_stage
from runtime.clock import utcnow
from runtime.orders.models import Order
from runtime.payments.models import PaymentTransaction
from runtime.tenders import intents
from runtime.tenders.intents import STALE_AFTER, reconcile
from runtime.tenders.models import PaymentIntent
from tests.runtime.test_carts_api import GATEWAY, post, rows
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_inventory import tracked_store


@pytest.fixture
def pg(app):
    if app.extensions["vectis.db"].dialect != "postgresql":
        pytest.skip("row locks and the intent journal are PostgreSQL's (SQLite has one writer)")
    return app


def mock(app):
    return app.extensions["vectis.registry"].get(GATEWAY).value


def locked(app, sql: str) -> bool:
    """Whether another connection finds the rows of ``sql`` locked (FOR UPDATE NOWAIT)."""
    with app.extensions["vectis.db"].engine.connect() as conn:
        try:
            conn.execute(text(sql + " FOR UPDATE NOWAIT")).all()
        except OperationalError:
            return True
        finally:
            conn.rollback()
    return False


def test_the_gateway_is_asked_while_the_cart_is_locked_but_no_stock_row_is(pg, client):
    app = pg
    tracked_store(app, on_hand=5)
    cart = ready_cart(client)
    seen = []
    gateway = mock(app)
    authorize = gateway.authorize

    def watching(request, config):
        seen.append((locked(app, "SELECT id FROM stock_level"), locked(app, "SELECT id FROM cart")))
        return authorize(request, config)

    gateway.authorize = watching
    placed = post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]

    assert placed["errors"] == []
    assert seen == [(False, True)]  # stock free while the gateway answers; the cart (the control) locked


def test_a_checkout_that_dies_after_the_gateway_answered_is_reconciled_once(pg, client):
    app = pg
    from tests.runtime.test_carts_api import store

    store(app, capture_mode="AUTHORIZE")

    def crash(checkout):
        checkout.session.info.pop("after_rollback", None)  # a dead process runs no rollback hook
        raise SystemExit("killed between the gateway's answer and the commit")

    register_stage(app, Stage("crash", 750, crash), pack="test")
    cart = ready_cart(client)
    with pytest.raises(SystemExit):
        post(client, PLACE, {"id": cart, "key": "k"})
    [auth] = mock(app)._authorizations.values()
    assert auth.status == "authorized" and rows(app, Order) == [] and rows(app, PaymentTransaction) == []
    [intent] = rows(app, PaymentIntent)
    assert (intent.state, intent.amount, intent.gateway) == ("started", auth.amount.amount, GATEWAY)

    voids = Counter()
    void = mock(app).void
    mock(app).void = lambda tid, key, config: voids.update([tid]) or void(tid, key, config)
    # a fresh intent is left alone: its checkout may still be running
    assert reconcile(app) == {"settled": 0, "voided": 0, "declined": 0}
    later = utcnow() + STALE_AFTER + timedelta(seconds=1)
    assert reconcile(app, now=later) == {"settled": 0, "voided": 1, "declined": 0}
    assert reconcile(app, now=later) == {"settled": 0, "voided": 0, "declined": 0}

    assert voids == Counter({auth.id: 1}) and auth.status == "voided"
    assert [(i.state, i.resolved_at is not None) for i in rows(app, PaymentIntent)] == [("voided", True)]
    assert [(p.type, p.order_id, p.idempotency_key) for p in rows(app, PaymentTransaction)] == [
        ("void", None, f"{intent.idempotency_key}:reconcile-void")]


def test_a_reconcile_killed_before_recording_its_outcome_voids_nothing_twice(pg, client, monkeypatch):
    app = pg
    from tests.runtime.test_carts_api import store

    store(app, capture_mode="AUTHORIZE")

    def crash(checkout):
        checkout.session.info.pop("after_rollback", None)
        raise SystemExit("killed")

    register_stage(app, Stage("crash", 750, crash), pack="test")
    cart = ready_cart(client)
    with pytest.raises(SystemExit):
        post(client, PLACE, {"id": cart, "key": "k"})
    later = utcnow() + STALE_AFTER + timedelta(seconds=1)
    voids = Counter()
    void = mock(app).void
    mock(app).void = lambda tid, key, config: voids.update([tid]) or void(tid, key, config)

    # the first run voids at the gateway and records the void row, then dies before marking the intent
    def killed(database, intent_id, state):
        raise SystemExit("reconcile killed")

    monkeypatch.setattr(intents, "_mark", killed)
    with pytest.raises(SystemExit):
        reconcile(app, now=later)
    monkeypatch.undo()
    assert [i.state for i in rows(app, PaymentIntent)] == ["started"] and sum(voids.values()) == 1

    # the second run finds the void row and records the outcome without calling the gateway again
    assert reconcile(app, now=later) == {"settled": 0, "voided": 1, "declined": 0}
    assert sum(voids.values()) == 1
    assert [i.state for i in rows(app, PaymentIntent)] == ["voided"]


def test_a_committed_checkout_settles_its_intent(pg, client):
    app = pg
    from tests.runtime.test_carts_api import store

    store(app)
    cart = ready_cart(client)
    assert post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]["errors"] == []
    later = utcnow() + STALE_AFTER + timedelta(seconds=1)
    assert reconcile(app, now=later) == {"settled": 1, "voided": 0, "declined": 0}
    assert [i.state for i in rows(app, PaymentIntent)] == ["settled"]
    assert [(p.type, p.state) for p in rows(app, PaymentTransaction)] == [("authorization", "captured"),
                                                                         ("capture", "succeeded")]
