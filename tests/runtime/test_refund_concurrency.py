"""The refund cap under concurrent decisions: two approvers approving two requests of one order at
the same moment, which together would refund more than was captured. The order's row lock
serialises the two final approvals: one is approved, the other refused as data, and what approved
requests reserve never exceeds what each tender captured (run on PostgreSQL with row locks, and
on SQLite, whose writes are serialised by the file lock)."""
from __future__ import annotations

import threading
from decimal import Decimal

from sqlmodel import select

from runtime.auth.models import User
from runtime.auth.service import actor_for
from runtime.errors import BusinessError
from runtime.refunds import plan, service
from runtime.refunds.models import RefundRequest
from tests.runtime.helpers import make_user
from tests.runtime.refund_helpers import three_leg_order


def _actor(session, email):
    return actor_for(session, session.exec(select(User).where(User.email == email)).one().id)


def test_two_approvals_at_once_never_refund_more_than_was_captured(app, client, monkeypatch):
    order_id, _ = three_leg_order(app, client)
    for email in ("req@example.test", "bob@example.test", "carol@example.test"):
        make_user(app, email, ["refund_approver"])
    database = app.extensions["vectis.db"]
    monkeypatch.setattr(service, "enqueue_execution", lambda session, request_id: None)  # nothing executes
    with app.app_context():
        first, second = (database.run(lambda s: service.submit(s, _actor(s, "req@example.test"), order_id, {
            "reason": "damaged", "amount": "15.00"})).id for _ in range(2))
    barrier, outcomes = threading.Barrier(2), {}

    def approve(email, request_id):
        with app.app_context():
            def work(session):
                actor = _actor(session, email)
                barrier.wait(timeout=30)  # both transactions are open before either locks
                return service.decide(session, actor, request_id, True, None)
            try:
                outcomes[request_id] = database.run(work).state
            except BusinessError as exc:
                outcomes[request_id] = exc.code

    threads = [threading.Thread(target=approve, args=("bob@example.test", first)),
               threading.Thread(target=approve, args=("carol@example.test", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(str(getattr(v, "value", v)) for v in outcomes.values()) == ["REFUND_EXCEEDS_REFUNDABLE", "approved"]
    with database.session() as session:
        states = sorted(r.state for r in session.exec(select(RefundRequest)))
        rooms = plan.refundable(session, int(order_id))
    assert states == ["approved", "requested"]  # the refused approval changed nothing
    assert all(room.reserved <= room.captured - room.refunded for room in rooms)
    assert sum((room.reserved for room in rooms), Decimal(0)) == Decimal("15.00")
