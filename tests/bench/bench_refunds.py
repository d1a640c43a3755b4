"""Refund execution throughput with 2 RQ workers on PostgreSQL + Redis (3 legs each: card, store
credit, gift card), and the reconciliation over 10,000 requests with nothing stuck.

    .venv/bin/python -m tests.bench.bench_refunds [--quick] [--postgres URL] [--redis URL]

Orders are placed over HTTP (test client) on a scratch database; each order gets 10 refund
requests of 1.00 (card 0.50, store credit 0.30, gift card 0.20), submitted and approved through
the service, which queues ``execute_refund`` on the ``refunds`` queue. Then two ``vectis worker
--queue refunds --burst`` processes run them: refunds/s is requests over the workers' wall time.
The mock gateway keeps its record in a SQLite file (``state_file``) the workers share. The
reconciliation adds 10,000 executed requests and times ``reconcile_refunds`` (statements counted).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, insert

from tests.bench import scratch

OPTIONS = ("--quick", "--postgres", "--redis")
ROOT = Path(__file__).resolve().parents[2]
RECONCILED = 10_000


def _workers(settings, count: int) -> float:
    env = {**os.environ, "VECTIS_DATABASE_URL": settings.database_url, "VECTIS_REDIS_URL": settings.redis_url,
           "VECTIS_VAR_DIR": str(settings.var_dir), "VECTIS_SECRET_KEY": settings.secret_key,
           "VECTIS_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    processes = [subprocess.Popen([sys.executable, "-c", "from runtime.cli import main; main()", "worker", "--queue",
                                   "refunds", "--burst"], env=env, cwd=ROOT) for _ in range(count)]
    for process in processes:
        process.wait()
    return time.perf_counter() - started


def _executed_requests(app, order_id: int, count: int) -> None:
    from runtime.clock import utcnow
    from runtime.refunds.models import RefundRequest

    now = utcnow()
    rows = [{"order_id": order_id, "state": "executed", "state_entered_at": now, "created_at": now, "updated_at": now,
             "executed_at": now, "currency": "EUR", "amount": Decimal("1.00"), "tax_amount": Decimal(0),
             "shipping_amount": Decimal(0), "scope": {"kind": "amount"}, "reason": "other", "note": "",
             "requester_email": "bench@example.test", "buyer": "", "approvals_needed": 1, "approvals": 1,
             "decided_by": "bench", "decision_note": "", "attempts": 1} for _ in range(count)]
    with app.extensions["vectis.db"].transaction() as session:
        session.execute(insert(RefundRequest.__table__), rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.bench_refunds", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 refunds instead of 100")
    parser.add_argument("--postgres", metavar="URL", help="server for the scratch database (default: VECTIS_BENCH_DATABASE_URL or 127.0.0.1)")
    parser.add_argument("--redis", metavar="URL", help="Redis server (default: VECTIS_BENCH_REDIS_URL or 127.0.0.1)")
    args = parser.parse_args(argv)
    orders = 3 if args.quick else 10

    from runtime.app import create_app
    from runtime.migrate import upgrade
    from runtime.refunds.execution import reconcile_refunds
    from runtime.refunds.models import RefundRequest
    from tests.conftest import make_settings
    from tests.runtime import test_refund_crash as crash
    from tests.runtime.test_carts_api import rows

    with scratch.scratch_postgres(scratch.postgres_server(args.postgres)) as url, \
            scratch.scratch_redis(args.redis) as redis_url, tempfile.TemporaryDirectory() as var:
        if not redis_url:
            print("refund execution: skipped, no Redis to claim a database on")
            return 0
        upgrade(url)
        settings = make_settings(url, redis_url, Path(var))
        app = create_app(settings)
        client = app.test_client()
        crash.ORDERS = orders
        order_ids = crash._paid_orders(app, client, Path(var) / "gateway.sqlite")
        with pytest.MonkeyPatch.context() as patch:
            requests = crash._approved_requests(app, order_ids, patch, queue=True)
        seconds = _workers(settings, 2)
        states = sorted({r.state for r in rows(app, RefundRequest)})
        assert states == ["executed"], states
        print(f"refund execution, 2 RQ workers: {len(requests) / seconds:.2f} refunds/s ({len(requests)} refunds of 3 "
              f"legs in {seconds:.1f} s, PostgreSQL + Redis)", flush=True)

        _executed_requests(app, order_ids[0], RECONCILED)
        statements: list[str] = []
        listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
        engine = app.extensions["vectis.db"].engine
        event.listen(engine, "before_cursor_execute", listener)
        started = time.perf_counter()
        with app.app_context():
            queued = reconcile_refunds(app)
        elapsed = time.perf_counter() - started
        event.remove(engine, "before_cursor_execute", listener)
        assert queued == 0, queued
        total = len(rows(app, RefundRequest))
        print(f"ReconcileRefunds over {total:,} requests, none stuck: {elapsed * 1000:.1f} ms, {len(statements)} "
              f"statement(s)", flush=True)
        app.extensions["vectis.db"].dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
