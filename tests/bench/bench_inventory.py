"""Inventory benchmark on PostgreSQL: concurrent placeOrder against scarce stock, and the
reservation sweep.

    .venv/bin/python -m tests.bench.bench_inventory [--quick] [--postgres URL]

1. 200 placeOrder calls (20 served at a time, as by a server's worker threads) against 50 units,
   repeated 20 times (``--quick``: 3): orders placed per second, and oversells (orders beyond the
   stock, or reserved above on hand) — must be 0.
2. The ``ExpireStaleReservations`` sweep over 100,000 held reservations (``--quick``: 10,000):
   seconds and SQL statements; every unit must be back in stock.

A scratch database is created, migrated and dropped on the server given. Numbers:
``docs/benchmarks.md``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, insert, text, update

from tests.bench import scratch

#: Options this benchmark takes; the runner (tests/bench/run.py) passes it only these.
OPTIONS = ("--quick", "--postgres")


def bench_orders(app, client, repetitions: int, callers: int = 200, on_hand: int = 50) -> tuple[float, int]:
    from sqlmodel import select

    from runtime.carts.models import Cart
    from runtime.inventory.models import StockLevel
    from runtime.orders.models import Order
    from tests.runtime.test_checkout_api import ready_cart
    from tests.runtime.test_inventory_concurrency import clone_carts, place_all

    database = app.extensions["vectis.db"]
    placed_total, seconds, oversells = 0, 0.0, 0
    for repetition in range(repetitions):
        database.run(lambda s: s.execute(update(StockLevel).values(on_hand=on_hand, reserved=0)))
        first = ready_cart(client, quantity=1)
        carts = [first, *clone_carts(app, first, callers - 1)]
        before = database.run(lambda s: len(s.exec(select(Order.id)).all()))
        started = time.perf_counter()
        answers = place_all(app, carts, key=f"r{repetition}")
        seconds += time.perf_counter() - started
        bodies = [body for _, body in answers]
        assert all(status == 200 and "errors" not in body for status, body in answers), "a call failed"
        placed = sum(1 for body in bodies if body["data"]["placeOrder"]["order"] is not None)
        refused = sum(1 for body in bodies if body["data"]["placeOrder"]["errors"][:1]
                      and body["data"]["placeOrder"]["errors"][0]["code"] == "OUT_OF_STOCK")
        level = database.run(lambda s: s.exec(select(StockLevel)).one())
        after = database.run(lambda s: len(s.exec(select(Order.id)).all()))
        oversells += max(placed - on_hand, 0) + max(level.reserved - level.on_hand, 0) + abs((after - before) - placed)
        assert placed + refused == callers, (placed, refused)
        placed_total += placed
        database.run(lambda s: s.execute(update(Cart).values(state="abandoned")))
    return placed_total / seconds, oversells


def bench_sweep(app, count: int) -> tuple[float, int]:
    from runtime.clock import clock, utcnow
    from runtime.inventory.models import Reservation, StockLevel
    from runtime.state_machines.sweep import sweep_timers

    database = app.extensions["vectis.db"]

    def given(session):
        level = session.execute(text("SELECT id, variant_id, warehouse_id FROM stock_level")).one()
        product_id = session.execute(text("SELECT product_id FROM product_variant WHERE id = :v"),
                                     {"v": level.variant_id}).scalar_one()
        now = utcnow()
        row = dict(variant_id=level.variant_id, product_id=product_id, warehouse_id=level.warehouse_id, quantity=1,
                   backordered=0, policy_version=1, state="held", state_entered_at=now, created_at=now)
        for start in range(0, count, 10_000):
            session.execute(insert(Reservation.__table__), [row] * min(10_000, count - start))
        session.execute(update(StockLevel).values(on_hand=count, reserved=count))

    database.run(given)
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(database.engine, "before_cursor_execute", listener)
    started = time.perf_counter()
    moved = sweep_timers(app, now=clock.now() + timedelta(minutes=16), machines=("reservation",))
    seconds = time.perf_counter() - started
    event.remove(database.engine, "before_cursor_execute", listener)
    assert moved == {("reservation", "reservation", "held"): count}, moved
    reserved = database.run(lambda s: s.execute(text("SELECT reserved FROM stock_level")).scalar_one())
    assert reserved == 0, reserved
    return seconds, len(statements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.bench_inventory", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions and 10,000 holds")
    parser.add_argument("--postgres", metavar="URL", help="server for the scratch database (default: VECTIS_BENCH_DATABASE_URL or 127.0.0.1)")
    args = parser.parse_args(argv)
    repetitions, holds = (3, 10_000) if args.quick else (20, 100_000)

    from runtime.app import create_app
    from runtime.migrate import upgrade
    from tests.conftest import make_settings
    from tests.runtime.test_inventory import tracked_store
    from tests.runtime.test_inventory_concurrency import wide_pool

    with scratch.scratch_postgres(scratch.postgres_server(args.postgres)) as url, tempfile.TemporaryDirectory() as var:
        upgrade(url)
        app = create_app(make_settings(url, "", Path(var)))
        wide_pool(app)
        client = app.test_client()
        with app.app_context():
            tracked_store(app, on_hand=50)
            rate, oversells = bench_orders(app, client, repetitions)
            print(f"placeOrder x200 vs 50 units, {repetitions} repetitions: {rate:.1f} orders placed/s, "
                  f"{oversells} oversells", flush=True)
            seconds, statements = bench_sweep(app, holds)
            print(f"sweep {holds:,} held reservations: {seconds:.2f} s ({holds / seconds:,.0f}/s), "
                  f"{statements} statements", flush=True)
        app.extensions["vectis.db"].dispose()
    return 1 if oversells else 0


if __name__ == "__main__":
    raise SystemExit(main())
