"""State machine benchmark: firing transitions (guard + history row) and the timer sweep.

    .venv/bin/python -m tests.bench.bench_state_machine [--quick] [--postgres URL | --no-postgres]

Deterministic: fixed row counts, the frozen runtime clock. SQLite runs in a temporary file;
PostgreSQL in a scratch database created and dropped on the server given. Each fire is its own
transaction (as a request would be); the sweep moves every expired reservation in batches of
``SWEEP_BATCH_SIZE``. Numbers are in ``docs/state_machines.md``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Integer, MetaData, func, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.clock import clock
from runtime.db import UTCDateTime
from tests.bench import scratch

#: Options this benchmark takes; the runner (tests/bench/run.py) passes it only these.
OPTIONS = ("--quick", "--postgres", "--no-postgres")
START = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData()


class BenchCart(Base):
    __tablename__ = "bench_cart"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column()
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    item_count: Mapped[int] = mapped_column(Integer)


class BenchReservation(Base):
    __tablename__ = "bench_reservation"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(index=False)
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _index(table) -> None:
    from runtime.state_machines.models import state_index

    state_index(table.name)._set_parent(table)  # the sweep's composite index, as models declare it


for _table in Base.metadata.sorted_tables:
    _index(_table)


def _app(url: str, var_dir: Path):
    from runtime.app import create_app
    from runtime.config import load_settings, normalize_database_url
    from runtime.definitions import shipped
    from runtime.definitions.environment import build_environment
    from runtime.definitions.live import live_definitions
    from runtime.migrate import upgrade
    from runtime.state_machines import bind

    url = normalize_database_url(url)
    upgrade(url)
    settings = load_settings(environ={}, database_url=url, redis_url="", var_dir=var_dir,
                             secret_key="bench-secret-key-0123456789abcdef-0123456789",
                             run_sweeps_in_process=False)
    app = create_app(settings)
    database, registry = app.extensions["vectis.db"], app.extensions["vectis.registry"]
    Base.metadata.create_all(database.engine)
    database.run(lambda s: shipped.sync(s, registry, build_environment(registry)))
    live_definitions(app).refresh(force=True)
    bind(app, BenchCart, machine="cart")
    bind(app, BenchReservation, machine="reservation")
    return app


def bench_fire(app, count: int) -> float:
    """``count`` carts checked out (guard item_count > 0), one transaction each."""
    from runtime.state_machines import TIMER, fire

    database = app.extensions["vectis.db"]
    with database.transaction() as session:
        session.execute(insert(BenchCart.__table__), [
            {"state": "active", "state_entered_at": START, "item_count": 1 + i % 5}
            for i in range(count)])
    started = time.perf_counter()
    for cart_id in range(1, count + 1):
        database.run(lambda s: fire(s, s.get(BenchCart, cart_id), "check_out", TIMER))
    elapsed = time.perf_counter() - started
    with database.session() as session:
        moved = session.scalar(select(func.count()).where(BenchCart.state == "checking_out"))
    assert moved == count, f"expected {count} carts checking out, got {moved}"
    return elapsed


def bench_sweep(app, count: int) -> float:
    """``count`` held reservations, all past their 15 minutes, expired by one sweep."""
    from runtime.state_machines.sweep import sweep_timers

    database = app.extensions["vectis.db"]
    with database.transaction() as session:
        session.execute(insert(BenchReservation.__table__), [
            {"state": "held", "state_entered_at": START} for _ in range(count)])
    started = time.perf_counter()
    moved = sweep_timers(app, now=START + timedelta(minutes=16))
    elapsed = time.perf_counter() - started
    assert moved == {("reservation", "bench_reservation", "held"): count}, moved
    return elapsed


def run_backend(label: str, url: str, fires: int, reservations: int) -> list[tuple]:
    with tempfile.TemporaryDirectory() as var_dir:
        app = _app(url, Path(var_dir))
        try:
            with app.app_context():
                fire_s = bench_fire(app, fires)
                sweep_s = bench_sweep(app, reservations)
        finally:
            app.extensions["vectis.db"].dispose()
    return [(label, f"fire {fires:,} transitions (guard + history, 1 tx each)", fire_s, fires),
            (label, f"sweep {reservations:,} expired reservations", sweep_s, reservations)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 fires and 10,000 reservations")
    parser.add_argument("--postgres", help="server to create a scratch database on (default: VECTIS_BENCH_DATABASE_URL or 127.0.0.1)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    fires, reservations = (1_000, 10_000) if args.quick else (10_000, 100_000)
    clock.freeze(START)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            rows += run_backend("sqlite", f"sqlite:///{folder}/bench.db", fires, reservations)
        if not args.no_postgres:
            with scratch.scratch_postgres(scratch.postgres_server(args.postgres)) as url:
                rows += run_backend("postgresql", url, fires, reservations)
    finally:
        clock.unfreeze()
    print(f"{'backend':<11} {'what':<52} {'seconds':>8} {'per second':>12}")
    for backend, what, seconds, count in rows:
        print(f"{backend:<11} {what:<52} {seconds:>8.2f} {count / seconds:>12,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
