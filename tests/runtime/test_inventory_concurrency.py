"""Inventory invariants under real concurrency (threads, one connection each):

* 200 placeOrder calls against a stock of 50: exactly 50 orders, 150 OUT_OF_STOCK, never a 500
  (PostgreSQL, 20 served at a time as by a server's worker threads; SQLite runs 20 against 5,
  its single writer serializing them);
* the sweep and placeOrder racing for the same holds: each hold ends EXPIRED or CONFIRMED, never
  both, and stock counts each once;
* a sweep killed halfway and run again: every hold expired exactly once, stock restored once.
"""
from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from runtime.carts.models import Cart, CartLine
from runtime.clock import clock
from runtime.inventory import stock as stock_module
from runtime.inventory.models import Reservation, StockLevel
from runtime.orders.models import Order
from runtime.state_machines.models import StateTransition
from runtime.state_machines.sweep import sweep_timers
from tests.runtime.test_carts_api import rows
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_inventory import tracked_store


def clone_carts(app, token: str, count: int) -> list[str]:
    """``count`` more carts like ``token``'s (lines, addresses, shipping, payment), new tokens."""
    def work(session):
        template = session.exec(select(Cart).where(Cart.token == token)).one()
        lines = session.exec(select(CartLine).where(CartLine.cart_id == template.id)).all()
        tokens = []
        for _ in range(count):
            values = template.model_dump(exclude={"id", "token"})
            cart = Cart(**values, token=secrets.token_urlsafe(32))
            session.add(cart)
            session.flush()
            session.add_all([CartLine(**line.model_dump(exclude={"id", "cart_id"}), cart_id=cart.id) for line in lines])
            tokens.append(cart.token)
        return tokens

    return app.extensions["vectis.db"].run(work)


def place_all(app, carts: list[str], key: str = "k") -> list[tuple[int, dict]]:
    """Every cart's placeOrder at once, one thread (and test client) each."""
    barrier = threading.Barrier(len(carts))
    workers = threading.BoundedSemaphore(WORKERS)
    answers: list[tuple[int, dict]] = [None] * len(carts)  # type: ignore[list-item]

    def run(index: int, cart: str) -> None:
        client = app.test_client()
        barrier.wait()
        with workers:
            response = client.post("/graphql", json={"query": PLACE, "variables": {"id": cart, "key": f"{key}-{index}"}},
                                   headers={"X-Channel-Slug": "web"})
        answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=run, args=(i, cart)) for i, cart in enumerate(carts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return answers


#: Requests served at once, as a server's worker threads would (each may need a second pooled
#: connection, for the definitions poll, while its transaction holds the first).
WORKERS = 20


def wide_pool(app, connections: int = WORKERS + 4) -> None:
    """A pool wider than :data:`WORKERS` with a patient time-out: 200 calls queue for the
    workers, not for connections, as they would on a server whose pool fits its threads."""
    from runtime.db import Database

    old = app.extensions["vectis.db"]
    if old.dialect == "postgresql":
        app.extensions["vectis.db"] = Database(old.url, pool_size=connections, max_overflow=0, pool_timeout=600)
        old.dispose()


def test_concurrent_place_orders_never_oversell(app, client, backend):
    callers, on_hand = (200, 50) if backend == "postgres" else (20, 5)
    wide_pool(app)
    tracked_store(app, on_hand=on_hand)
    first = ready_cart(client, quantity=1)
    carts = [first, *clone_carts(app, first, callers - 1)]

    answers = place_all(app, carts)

    assert [status for status, _ in answers] == [200] * callers
    assert all("errors" not in body for _, body in answers), [b["errors"] for _, b in answers if "errors" in b][:3]
    results = [body["data"]["placeOrder"] for _, body in answers]
    placed = [r for r in results if r["order"] is not None]
    refused = [r["errors"] for r in results if r["order"] is None]
    assert len(placed) == on_hand
    assert refused == [[{"code": "OUT_OF_STOCK", "field": "cartId",
                         "message": "cartId: 1 of 'MUG-1' requested, 0 available"}]] * (callers - on_hand)
    assert len(rows(app, Order)) == on_hand
    level = rows(app, StockLevel)[0]
    assert (level.on_hand, level.reserved) == (on_hand, on_hand)
    assert sorted(r.state for r in rows(app, Reservation)) == ["confirmed"] * on_hand


def test_the_sweep_and_place_order_never_both_end_a_hold(app, client, backend):
    carts_count = 40 if backend == "postgres" else 10
    wide_pool(app)
    tracked_store(app, on_hand=carts_count, mode="add_to_cart")
    first = ready_cart(client, quantity=1)
    database = app.extensions["vectis.db"]

    def hold_for_clones(session):  # each clone holds its own unit, as add-to-cart would have
        from runtime.inventory.holds import sync_cart

        for cart in session.exec(select(Cart).where(Cart.token != first)):
            sync_cart(session, cart.id, {rows(app, StockLevel)[0].variant_id: 1}, "test", field="lines")

    carts = [first, *clone_carts(app, first, carts_count - 1)]
    with app.app_context():
        database.run(hold_for_clones)
    held = {r.id for r in rows(app, Reservation)}
    assert len(held) == carts_count and rows(app, StockLevel)[0].reserved == carts_count
    clock.freeze(clock.now() + timedelta(minutes=16))  # every hold is past its timer
    try:
        swept: list = []
        sweeper = threading.Thread(target=lambda: swept.append(_sweep(app)))
        sweeper.start()
        answers = place_all(app, carts)
        sweeper.join(timeout=300)
    finally:
        clock.unfreeze()

    assert [status for status, _ in answers] == [200] * carts_count
    assert all(body["data"]["placeOrder"]["errors"] == [] for _, body in answers)
    endings = {}
    for row in rows(app, StateTransition):
        if row.entity_type == "reservation" and row.from_state == "held" and int(row.entity_id) in held:
            endings.setdefault(int(row.entity_id), []).append(row.to_state)
    assert sorted(endings) == sorted(held)
    assert all(len(ends) == 1 for ends in endings.values()), endings
    final = {r.id: r.state for r in rows(app, Reservation)}
    assert all(final[i] == endings[i][0] for i in held)
    # stock: exactly the confirmed units are reserved (each expired hold came back once)
    confirmed = sum(r.quantity for r in rows(app, Reservation) if r.state == "confirmed")
    assert confirmed == carts_count
    assert rows(app, StockLevel)[0].reserved == confirmed


def _sweep(app):
    with app.app_context():
        return sweep_timers(app, machines=("reservation",), batch_size=5)


def test_a_sweep_killed_halfway_and_run_again_expires_each_hold_once(app, client, monkeypatch):
    ids = tracked_store(app, on_hand=30, mode="add_to_cart")
    first = ready_cart(client, quantity=1)
    clone_carts(app, first, 29)
    database = app.extensions["vectis.db"]

    def hold_all(session):
        from runtime.inventory.holds import sync_cart

        for cart in session.exec(select(Cart).where(Cart.token != first)):
            sync_cart(session, cart.id, {ids["mug"]: 1}, "test", field="lines")

    with app.app_context():
        database.run(hold_all)
    assert rows(app, StockLevel)[0].reserved == 30
    real = stock_module.return_stock
    calls = []

    def dies_on_the_second_batch(session, ids_, *, shipped):
        calls.append(len(list(ids_)))
        if len(calls) == 2:
            raise SystemExit("worker killed")  # not an Exception: nothing may swallow it
        real(session, ids_, shipped=shipped)

    monkeypatch.setattr("runtime.inventory.holds.return_stock", dies_on_the_second_batch)
    later = clock.now() + timedelta(minutes=16)
    with pytest.raises(SystemExit):
        sweep_timers(app, now=later, machines=("reservation",), batch_size=10)
    # the first batch committed (10 expired, their units back); the second rolled back whole
    assert sorted(r.state for r in rows(app, Reservation)).count("expired") == 10
    assert rows(app, StockLevel)[0].reserved == 20
    monkeypatch.setattr("runtime.inventory.holds.return_stock", real)

    assert sweep_timers(app, now=later, machines=("reservation",), batch_size=10) == {
        ("reservation", "reservation", "held"): 20}
    assert sweep_timers(app, now=later, machines=("reservation",), batch_size=10) == {}
    assert [r.state for r in rows(app, Reservation)] == ["expired"] * 30
    assert rows(app, StockLevel)[0].reserved == 0
    with database.session() as session:
        per_hold = session.execute(select(StateTransition.entity_id, func.count())
                                   .where(StateTransition.entity_type == "reservation",
                                          StateTransition.to_state == "expired")
                                   .group_by(StateTransition.entity_id)).all()
    assert len(per_hold) == 30 and {count for _, count in per_hold} == {1}
