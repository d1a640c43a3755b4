"""Approvals at scale: route selection with 300 live routes, and the approver inbox with 10,000
pending carts across two accounts.

    .venv/bin/python -m tests.bench.bench_approvals [--pending N] [--routes R] [--runs K]

SQLite in a temporary folder, jobs in-process. Reported (fewest CPU milliseconds of the process
over K runs; the machine is shared, so wall time mostly measures the neighbours):

* route selection and combination for one cart against R routes (``rules.approval_route``;
  target <= 5 ms per cart);
* ``cartApprovals(first: P)`` over GraphQL for a manager whose account has N/2 of the N pending
  carts: ms per request and statements at P = 10, 50 and 100 (constant in page size).
"""
from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path

from rules.approval_route import combine, select as select_routes
from rules.environment import Environment
from rules.pipeline import check_source
from sqlalchemy import insert
from sqlmodel import select

ROUTE = """kind: approval_route
name: r{i}
when:
  $and:
    - total: {{gt: {low}}}
    - line_count: {{gte: {lines}}}
requesters: [b2b_buyer]
phases:
  cart:
    tiers: [{{name: t, roles: [b2b_manager], quorum: {quorum}}}]
"""


def best(function, runs: int) -> tuple[float, object]:
    fastest, result = float("inf"), None
    for _ in range(runs):
        start = time.process_time()
        result = function()
        fastest = min(fastest, time.process_time() - start)
    return fastest * 1000, result


def bench_selection(count: int, runs: int) -> None:
    env = Environment(roles={"b2b_buyer", "b2b_manager"})
    routes = [check_source(ROUTE.format(i=i, low=i * 100, lines=i % 7, quorum=1 + i % 3), f"r{i}.yaml", env)
              .definition.compiled for i in range(count)]
    cart = {"total": 15050.0, "line_count": 4, "currency": "EUR", "account": "acme"}
    ms, plan = best(lambda: combine(select_routes(routes, cart, ["b2b_buyer"])), runs)
    print(f"route selection: {count} routes, {len(plan.routes)} matching, {ms:.2f} ms CPU per cart "
          f"(best of {runs}; target <= 5 ms)", flush=True)


def clone_pending(app, token: str, count: int, account_ids: list[int]) -> None:
    from runtime.approvals.models import ApprovalRequest, ApprovalSlot
    from runtime.carts.models import Cart

    def work(session):
        cart = session.exec(select(Cart).where(Cart.token == token)).one()
        request = session.exec(select(ApprovalRequest).where(ApprovalRequest.subject_id == cart.id)).one()
        slots = session.exec(select(ApprovalSlot).where(ApprovalSlot.request_id == request.id)).all()
        values = cart.model_dump(exclude={"id", "token"})
        session.execute(insert(Cart), [{**values, "token": secrets.token_urlsafe(24)} for _ in range(count)])
        new_ids = session.exec(select(Cart.id).where(Cart.id != cart.id).order_by(Cart.id)).all()
        base = request.model_dump(exclude={"id", "subject_id", "account_id"})
        session.execute(insert(ApprovalRequest), [{**base, "subject_id": cid, "account_id": account_ids[i % 2]}
                                                  for i, cid in enumerate(new_ids)])
        requests = session.exec(select(ApprovalRequest.id).where(ApprovalRequest.id != request.id)).all()
        session.execute(insert(ApprovalSlot), [{"request_id": rid, "phase": s.phase, "tier": s.tier,
                                                "approver_key": s.approver_key} for rid in requests for s in slots])

    app.extensions["vectis.db"].run(work)


def bench_inbox(pending: int, runs: int) -> None:
    from runtime.app import create_app
    from runtime.migrate import upgrade
    from tests.conftest import make_settings
    from tests.runtime.helpers import recorded_statements
    from tests.runtime.test_approvals_api import EMPLOYEES, INBOX, ROUTE as HTTP_ROUTE, SUBMIT, call
    from tests.runtime.test_carts_api import b2b, post, store
    from tests.runtime.test_checkout_api import ready_cart
    from tests.runtime.test_tenders_checkout import publish

    with tempfile.TemporaryDirectory() as var:
        url = f"sqlite:///{var}/bench.db"
        upgrade(url)
        app = create_app(make_settings(url, "", Path(var)))
        client = app.test_client()
        with app.app_context():
            store(app)
            publish(app, HTTP_ROUTE)
            acme = b2b(app, client, employees=EMPLOYEES)
            other = b2b(app, client, "globex", employees=(("boss@globex.test", "b2b_manager"),))
            buyer, boss = acme["tokens"]["buyer@acme.test"], acme["tokens"]["boss@acme.test"]
            cart = ready_cart(client, buyer)
            call(client, SUBMIT, {"id": cart}, buyer)
            start = time.perf_counter()
            clone_pending(app, cart, pending - 1, [acme["account"], other["account"]])
            print(f"inbox: {pending:,} pending carts across 2 accounts written in {time.perf_counter() - start:.1f} s",
                  flush=True)
            database = app.extensions["vectis.db"]
            for first in (10, 50, 100):
                post(client, INBOX, {"first": first}, boss)
                ms, page = best(lambda: post(client, INBOX, {"first": first}, boss), runs)
                with recorded_statements(database) as statements:
                    post(client, INBOX, {"first": first}, boss)
                nodes = len(page["data"]["cartApprovals"]["nodes"])
                print(f"inbox: cartApprovals(first: {first}) for a manager with ~{pending // 2:,} pending: "
                      f"{ms:.1f} ms CPU (best of {runs}), {nodes} carts, {len(statements)} statements", flush=True)
        app.extensions["vectis.db"].dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.bench_approvals", description=__doc__.split("\n")[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--routes", type=int, default=300)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    bench_selection(args.routes, args.runs * 10)
    bench_inbox(args.pending, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
