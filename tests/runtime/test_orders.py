"""Orders: create_order from a draft, transitions on the live order machine, ownership."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from runtime.errors import BusinessError, BusinessErrors
from runtime.orders import service
from runtime.orders.models import Order, OrderLine
from runtime.state_machines.models import StateTransition
from tests.runtime.test_orders_data import (STAFF, StatementCounter, customer, draft, employee, events, live,  # noqa: F401
                                            shop)


def _orders(database):
    with database.session() as session:
        return session.exec(select(Order).order_by(Order.id)).all()


def test_create_order_writes_the_order_lines_history_and_events(shop, database, frozen_clock):
    # given a draft of two lines in USD at 0.9 EUR per USD
    actor = customer(shop)

    # when it is created
    order = database.run(lambda s: service.create_order(s, draft(shop, currency="USD", rate="0.9", user="carla",
                                                                key="k1"), actor))

    # then the order is placed, numbered from its id, with snapshots, totals and base totals
    assert order.number == f"V-{order.id:06d}"
    assert (order.state, order.payment_status, order.item_count) == ("placed", "none", 3)
    assert (order.subtotal, order.shipping_total, order.total) == (Decimal("45.48"), Decimal("4.90"), Decimal("50.38"))
    assert (order.base_currency, order.exchange_rate, order.base_total) == ("EUR", Decimal("0.9"), Decimal("45.34"))
    with database.session() as session:
        lines = session.exec(select(OrderLine).order_by(OrderLine.id)).all()
        history = session.exec(select(StateTransition)).all()
    assert [(l.sku, l.quantity, l.unit_price, l.line_total, l.base_unit_price, l.price_level, l.price_list_slug)
            for l in lines] == [("SKU-1", 2, Decimal("19.99"), Decimal("39.98"), Decimal("17.99"), "CHANNEL", "web-eur"),
                                ("SKU-2", 1, Decimal("5.50"), Decimal("5.50"), Decimal("4.95"), "CHANNEL", "web-eur")]
    # and the history has the place transition with the actor and the live revision
    assert [(h.machine, h.entity_type, h.entity_id, h.transition, h.from_state, h.to_state, h.actor, h.revision)
            for h in history] == [("order", "order", str(order.id), "place", "draft", "placed", "carla@example.test", 1)]
    # and the outbox has order.created and order.status_changed
    assert events(database, "order.") == [
        ("order.created", {"order_id": str(order.id), "channel_id": str(shop["web"]), "status": "placed",
                           "total": "50.38", "currency": "USD", "lines": 2}),
        ("order.status_changed", {"order_id": str(order.id), "channel_id": str(shop["web"]), "from_status": "draft",
                                  "to_status": "placed", "transition": "place", "actor": "carla@example.test"}),
    ]


def test_an_order_without_lines_is_refused_and_nothing_is_written(shop, database):
    empty = draft(shop, quantities=())

    with pytest.raises(BusinessError) as refused:
        database.run(lambda s: service.create_order(s, empty, customer(shop)))

    assert (refused.value.code, refused.value.field, refused.value.message) == (
        "ORDER_EMPTY", "lines", "lines: an order needs at least one line")
    assert _orders(database) == [] and events(database) == []


def test_create_order_statement_count(shop, database, backend):
    # given a three-line draft
    big = draft(shop, quantities=(1, 2, 3))

    # when it is created (counted up to the flush that writes everything, before the commit's jobs)
    def work(session):
        with StatementCounter(database.engine) as counter:
            service.create_order(session, big, customer(shop))
            session.flush()
        return counter

    counter = database.run(work)

    # then: the order, its outbox rows, its number, the lines (one batch), the history row
    print(f"create_order statements ({backend}):", counter.statements)
    assert counter.batched(backend) == ["INSERT INTO ORDERS", "INSERT INTO EVENT_OUTBOX", "UPDATE ORDERS SET",
                                        "INSERT INTO ORDER_LINE", "INSERT INTO STATE_TRANSITION"]


def test_transition_order_fires_the_machine_and_emits_status_changed(shop, database):
    order = database.run(lambda s: service.create_order(s, draft(shop), customer(shop)))

    def cancel(session):
        return service.transition_order(session, session.get(Order, order.id), "cancel", STAFF)

    cancelled = database.run(cancel)

    assert cancelled.state == "cancelled"
    assert events(database, "order.status_changed")[-1] == ("order.status_changed", {
        "order_id": str(order.id), "channel_id": str(shop["web"]), "from_status": "placed", "to_status": "cancelled",
        "transition": "cancel", "actor": "staff@example.test"})


def test_a_blocked_transition_answers_its_blockers_and_changes_nothing(shop, database):
    order = database.run(lambda s: service.create_order(s, draft(shop), customer(shop)))
    before = len(events(database))

    with pytest.raises(BusinessErrors) as blocked:
        database.run(lambda s: service.transition_order(s, s.get(Order, order.id), "cancel", customer(shop)))

    assert [(e.code, e.field) for e in blocked.value.errors] == [("PERMISSION_DENIED", "transition")]
    assert "orders.cancel" in blocked.value.errors[0].message
    with pytest.raises(BusinessErrors) as wrong_state:
        database.run(lambda s: service.transition_order(s, s.get(Order, order.id), "ship", STAFF))
    assert [e.code for e in wrong_state.value.errors] == ["NOT_FROM_STATE"]
    assert _orders(database)[0].state == "placed" and len(events(database)) == before


def test_get_order_answers_not_found_for_foreign_and_unknown_ids(shop, database):
    # given an order of an acme employee
    erik = employee(shop, "erik", "acme")
    order = database.run(lambda s: service.create_order(s, draft(shop, user="erik", account="acme"), erik))

    with database.session() as session:
        # then its owner, another employee of acme... (gina is globex's) and staff
        assert service.get_order(session, erik, order.id).id == order.id
        assert service.get_order(session, STAFF, str(order.id)).id == order.id
        for actor, order_id in ((employee(shop, "gina", "globex"), order.id), (customer(shop), order.id),
                                (erik, 999999), (erik, "x")):
            with pytest.raises(BusinessError) as refused:
                service.get_order(session, actor, order_id)
            assert (refused.value.code, refused.value.field, refused.value.message) == (
                "NOT_FOUND", "orderId", f"orderId: no order {order_id}")


def test_list_orders_filters_and_ownership(shop, database, frozen_clock):
    from datetime import timedelta

    erik, gina = employee(shop, "erik", "acme"), employee(shop, "gina", "globex")
    first = database.run(lambda s: service.create_order(s, draft(shop, user="erik", account="acme"), erik))
    frozen_clock.advance(timedelta(hours=1))
    second = database.run(lambda s: service.create_order(s, draft(shop, channel="trade", user="gina", account="globex"), gina))
    frozen_clock.advance(timedelta(hours=1))
    third = database.run(lambda s: service.create_order(s, draft(shop, user="carla"), customer(shop)))
    database.run(lambda s: service.transition_order(s, s.get(Order, third.id), "cancel", STAFF))

    def ids(actor, **filters):
        with database.session() as session:
            rows, total = service.list_orders(session, actor, service.OrderFilter(**filters), first=10)
        return [o.id for o in rows], total

    assert ids(STAFF) == ([third.id, second.id, first.id], 3)
    assert ids(STAFF, states=("cancelled",)) == ([third.id], 1)
    assert ids(STAFF, channel_id=shop["trade"]) == ([second.id], 1)
    assert ids(STAFF, account_id=shop["acme"]) == ([first.id], 1)
    assert ids(STAFF, created_from=first.created_at + timedelta(minutes=30),
               created_to=third.created_at) == ([second.id], 1)
    # buyers see their own only, filters apply within
    assert ids(erik) == ([first.id], 1)
    assert ids(gina) == ([second.id], 1)
    assert ids(customer(shop)) == ([third.id], 1)
    assert ids(erik, channel_id=shop["trade"]) == ([], 0)


def test_concurrent_orders_get_unique_numbers_from_their_ids(app, shop, database):
    from concurrent.futures import ThreadPoolExecutor

    def place(_):
        with app.app_context():
            return database.run(lambda s: service.create_order(s, draft(shop, user="carla"), customer(shop))).number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(place, range(16)))

    saved = _orders(database)
    assert sorted(numbers) == sorted(o.number for o in saved) and len(set(numbers)) == 16
    assert all(o.number == f"V-{o.id:06d}" for o in saved)
