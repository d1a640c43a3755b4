"""Exactly once under crashes: 100 approved refunds of 3 legs each (card, store credit, gift card)
over 10 orders. With real RQ workers on Redis, workers are SIGKILLed about 30 times at random while
they run; in-process, the job dies at random at each crash point (before the gateway, after it
answered but before the commit, between legs). Either way the reconciliation resumes what is stuck
and, in the end, every leg was refunded exactly once at the mock gateway (whose record lives in a
SQLite file, not in a worker's memory) and on the ledgers, and the sums match."""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from runtime.auth.models import User
from runtime.auth.service import actor_for
from runtime.channels.models import Channel
from runtime.channels.providers import set_provider
from runtime.clock import clock
from runtime.jobs import get_dispatcher
from runtime.payments.models import PaymentTransaction
from runtime.refunds import execution, service
from runtime.refunds.models import RefundLeg, RefundRequest
from runtime.tenders.models import PaymentTender, StoredValueEntry
from tests.runtime.helpers import make_user, signed_in
from tests.runtime.refund_helpers import drain
from tests.runtime.test_carts_api import GATEWAY, post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_tenders_checkout import CASCADE, CREDIT, GIFT, _customer, _customer_id, publish, tenders

ROOT = Path(__file__).resolve().parents[2]
ORDERS, PER_ORDER = 10, 10
#: SIGKILLs in the RQ test: every fifth the whole worker, the others the work-horse running a job.
KILLS = int(os.environ.get("REFUND_DEBUG_KILLS", 30))
#: Each request's plan: the card, the store credit and the gift card give back this much each.
LEG = {"card": Decimal("0.50"), "store_credit": Decimal("0.30"), "gift_card": Decimal("0.20")}


class Crash(Exception):
    """The process dies here (in-process stand-in for SIGKILL: nothing after it runs)."""


def _paid_orders(app, client, state_file: Path) -> list[int]:
    """ORDERS orders of 22.90 EUR, each paid by a gift card 4.50, store credit 6.00 and a card 12.40,
    captured; the mock gateway keeps its record in ``state_file``."""
    ids = store(app, capture_mode="AUTHORIZE_AND_CAPTURE")

    def configure(session):
        set_provider(session, session.get(Channel, ids["channel"]), "payment_gateway", GATEWAY,
                     {"merchant_id": "test", "state_file": str(state_file)})

    with app.app_context():
        app.extensions["vectis.db"].run(configure)
    admin = signed_in(app, client, "admin")
    buyer = _customer(app, client)
    codes = [card["code"] for card in post(client, GIFT, {"input": {"count": ORDERS, "amount": "4.50", "currency": "EUR"}},
                                           admin)["data"]["generateGiftCards"]["giftCards"]]
    publish(app, CASCADE)
    orders = []
    for index, code in enumerate(codes):
        post(client, CREDIT, {"input": {"customerId": str(_customer_id(app)), "amount": "6.00", "currency": "EUR",
                                        "idempotencyKey": f"crash-{index}"}}, admin)  # the cascade takes it all
        cart = ready_cart(client, buyer)
        assert tenders(client, cart, [{"type": "gift_card", "code": code}], buyer)["errors"] == []
        placed = post(client, PLACE, {"id": cart, "key": f"crash-{index}"}, buyer)["data"]["placeOrder"]
        assert placed["errors"] == [], placed
        orders.append(int(placed["order"]["id"]))
    return orders


def _approved_requests(app, orders: list[int], monkeypatch, *, queue: bool) -> list[int]:
    """PER_ORDER requests per order, each with a 3-leg plan, submitted by one user and approved by
    another. ``queue``: the approvals queue their jobs (on Redis, for workers started later);
    otherwise nothing runs until the test runs it."""
    make_user(app, "req@example.test", ["refund_approver"])
    make_user(app, "ok@example.test", ["refund_approver"])
    database = app.extensions["vectis.db"]
    def actor(session, email):
        return actor_for(session, session.exec(select(User).where(User.email == email)).one().id)

    made = []
    with app.test_request_context():
        for order_id in orders:
            with database.session() as session:
                by_type = {t.type: t.id for t in session.exec(select(PaymentTender).where(PaymentTender.order_id == order_id))}
            plan = [{"tender_id": str(by_type[kind]), "amount": str(amount)} for kind, amount in LEG.items()]
            for _ in range(PER_ORDER):
                request = database.run(lambda s: service.submit(s, actor(s, "req@example.test"), order_id, {
                    "reason": "damaged", "amount": str(sum(LEG.values())), "plan": plan}))
                made.append(request.id)
        with monkeypatch.context() as patch:
            if not queue:
                patch.setattr(service, "enqueue_execution", lambda session, request_id: None)
            for request_id in made:
                database.run(lambda s: service.decide(s, actor(s, "ok@example.test"), request_id, True, None))
    return made


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _assert_exactly_once(app, state_file: Path, requests: list[int]) -> None:
    states = Counter(r.state for r in rows(app, RefundRequest))
    assert states == {"executed": len(requests)}, states
    legs = rows(app, RefundLeg)
    assert len(legs) == 3 * len(requests) and {leg.state for leg in legs} == {"done"}
    # the gateway refunded each card leg's key once, and exactly what the legs say
    record = json.loads(sqlite3.connect(state_file).execute("SELECT body FROM record").fetchone()[0])
    refund_keys = [key for _, key, _, result in record["keys"] if key.startswith("refund:")]
    card_keys = sorted(leg.idempotency_key for leg in legs if leg.type == "card")
    assert sorted(refund_keys) == card_keys
    refunded_at_gateway = sum(Decimal(a["refunded"]["amount"]) for a in record["authorizations"].values())
    assert refunded_at_gateway == LEG["card"] * len(requests)
    # each ledger credited each of its legs once
    credits = Counter(e.idempotency_key for e in rows(app, StoredValueEntry) if e.idempotency_key.startswith("refund:"))
    assert set(credits.values()) == {1} and len(credits) == 2 * len(requests)
    # the payment rows add up: one refund child per leg, the refunded amounts the sums of the legs
    children = [p for p in rows(app, PaymentTransaction) if p.type == "refund"]
    assert len(children) == 3 * len(requests)
    parents = [p for p in rows(app, PaymentTransaction) if p.parent_id is None]
    assert sum((p.refunded_amount for p in parents), Decimal(0)) == sum(LEG.values()) * len(requests)


def test_in_process_jobs_dying_at_every_crash_point_still_refund_each_leg_exactly_once(app, client, tmp_path,
                                                                                        monkeypatch):
    state_file = tmp_path / "gateway.sqlite"
    requests = _approved_requests(app, _paid_orders(app, client, state_file), monkeypatch, queue=False)
    rng = random.Random(16)
    gateway = app.extensions["vectis.registry"].get(GATEWAY).value
    refund, start_leg, run_leg = gateway.refund, execution._start_leg, execution._run_leg
    crashes = Counter()

    def maybe(point):
        if rng.random() < 0.15:
            crashes[point] += 1
            raise Crash(point)

    def crashing_refund(*args, **kwargs):
        result = refund(*args, **kwargs)
        maybe("after the gateway answered")  # the answer is lost with the transaction
        return result

    def crashing_start(session, leg_id, **kwargs):
        maybe("before the leg started")
        return start_leg(session, leg_id, **kwargs)

    def crashing_run(app_, leg_id):
        run_leg(app_, leg_id)
        maybe("between legs")

    monkeypatch.setattr(gateway, "refund", crashing_refund)
    monkeypatch.setattr(execution, "_start_leg", crashing_start)
    monkeypatch.setattr(execution, "_run_leg", crashing_run)
    clock.freeze(clock.now())
    try:
        with app.app_context():
            for request_id in requests:
                try:
                    execution.execute_refund(request_id)
                except Crash:
                    pass
            for _ in range(60):
                clock.advance(seconds=execution.LEASE_SECONDS + 1)
                if not execution.reconcile_refunds(app):
                    break
                drain(app)
    finally:
        clock.unfreeze()
    assert sum(crashes.values()) >= 30 and len(crashes) == 3, crashes
    _assert_exactly_once(app, state_file, requests)


@pytest.mark.skipif(not os.environ.get("VECTIS_TEST_REDIS_URL"), reason="needs Redis (VECTIS_TEST_REDIS_URL)")
def test_rq_workers_sigkilled_about_30_times_refund_each_leg_exactly_once(app, client, settings, tmp_path,
                                                                           monkeypatch):
    if get_dispatcher(app).in_process:
        pytest.skip("jobs run in-process on this backend (SQLite): the in-process test covers it")
    state_file = tmp_path / "gateway.sqlite"
    requests = _approved_requests(app, _paid_orders(app, client, state_file), monkeypatch, queue=True)
    # a job killed before its claim leaves the request approved: queued again after 10 s, not 60
    app.config["VECTIS_REFUND_APPROVED_GRACE_SECONDS"] = 10
    env = {**os.environ, "VECTIS_DATABASE_URL": settings.database_url, "VECTIS_REDIS_URL": settings.redis_url,
           "VECTIS_VAR_DIR": str(settings.var_dir), "VECTIS_SECRET_KEY": settings.secret_key,
           "VECTIS_REFUND_LEASE_SECONDS": "2", "VECTIS_LOG_LEVEL": os.environ.get("REFUND_DEBUG_LOG", "WARNING")}

    def start():
        # its own session, so a SIGKILL of the group takes the work-horse with the worker
        return subprocess.Popen([sys.executable, "-c", "from runtime.cli import main; main()", "worker",
                                 "--queue", "refunds"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=log, start_new_session=True)

    log = (tmp_path / "workers.log").open("a")
    rng = random.Random(16)
    workers = [start() for _ in range(3)]
    # The deadline only bounds a hang: the loop ends once every request is executed.
    kills, deadline, next_reconcile = Counter(), time.monotonic() + 240, 0.0
    try:
        with app.app_context():
            while time.monotonic() < deadline:
                time.sleep(rng.uniform(0.1, 0.4))
                busy = [(index, horse) for index, worker in enumerate(workers) for horse in _children(worker.pid)]
                if sum(kills.values()) < KILLS and busy:
                    index, horse = rng.choice(busy)
                    if sum(kills.values()) % 5 == 4:  # the whole worker, with the job it runs
                        os.killpg(workers[index].pid, signal.SIGKILL)
                        workers[index].wait()
                        workers[index] = start()
                        kills["worker"] += 1
                    else:  # the work-horse running a refund job, at whatever point it reached
                        os.kill(horse, signal.SIGKILL)
                        kills["job"] += 1
                if time.monotonic() >= next_reconcile:  # as the periodic job does (every minute in production)
                    execution.reconcile_refunds(app)
                    next_reconcile = time.monotonic() + 2
                states = Counter(r.state for r in rows(app, RefundRequest))
                if sum(kills.values()) >= KILLS and states == {"executed": len(requests)}:
                    break
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
    log.close()
    assert sum(kills.values()) == KILLS and kills["worker"] == KILLS // 5, kills
    _assert_exactly_once(app, state_file, requests)
    assert sum(r.attempts for r in rows(app, RefundRequest)) >= len(requests)
