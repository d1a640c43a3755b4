"""Quorum preservation: a deactivated approver never disables a request in flight. Decisions cast
stay counted; a tier that can no longer reach its quorum is flagged (the request's fault, a
workflow.fault and an approval.step quorum_at_risk event), once, by the submission check or the
periodic job; the remaining approvers can still decide."""
from __future__ import annotations

from sqlmodel import select

from runtime.approvals.quorum import check_pending
from runtime.auth.models import User
from runtime.events.models import OutboxEvent
from tests.runtime.test_approvals_api import APPROVAL, APPROVE, EMPLOYEES, ROUTE, SUBMIT, approval, call  # noqa: F401
from tests.runtime.test_approvals_security import FINANCE_ONLY, acme  # noqa: F401
from tests.runtime.test_carts_api import rows
from tests.runtime.test_checkout_api import ready_cart
from tests.runtime.test_tenders_checkout import publish


def deactivate(app, email: str) -> None:
    def work(session):
        user = session.exec(select(User).where(User.email == email)).one()
        user.is_active = False
        session.add(user)

    app.extensions["vectis.db"].run(work)


def faults(app):
    return [(e.payload["code"], e.payload["phase"]) for e in rows(app, OutboxEvent, OutboxEvent.type == "workflow.fault")]


def test_a_tier_left_short_of_its_quorum_is_flagged_once_and_cast_decisions_stay(app, client, acme):
    publish(app, FINANCE_ONLY)
    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"])
    call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])
    assert call(client, APPROVE, {"id": cart}, t["fin1@acme.test"])["errors"] == []
    with app.app_context():
        assert check_pending() == 0  # fin2 and fin3 can still bring it to 2 of 3
    deactivate(app, "fin2@acme.test")
    with app.app_context():
        assert check_pending() == 0  # fin3 is enough
    deactivate(app, "fin3@acme.test")

    with app.app_context():
        assert check_pending() == 1
        assert check_pending() == 0  # flagged once per phase

    seen = approval(client, cart, t["buyer@acme.test"])["approval"]
    assert seen["status"] == "pending" and seen["fault"] == {"code": "QUORUM_UNREACHABLE", "phase": "payment"}
    assert [(a["approver"], a["tier"]) for a in seen["approvals"]] == [("fin1@acme.test", "finance")]
    assert faults(app) == [("QUORUM_UNREACHABLE", "payment")]
    steps = [e.payload["step"] for e in rows(app, OutboxEvent, OutboxEvent.type == "approval.step")]
    assert steps == ["submitted", "approved", "quorum_at_risk"]
    reason = rows(app, OutboxEvent, OutboxEvent.type == "workflow.fault")[0].payload["reason"]
    assert reason == ("tier 'finance' of phase 'payment' needs 2 approvals: 1 cast, 0 eligible approver(s) left "
                      "(an account admin must add approvers or change the route)")


def test_a_route_whose_pool_is_empty_is_flagged_at_submission(app, client, acme):
    publish(app, FINANCE_ONLY.replace("quorum: 2", "quorum: 3"))
    for email in ("fin1@acme.test",):
        deactivate(app, email)
    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"])
    assert call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])["errors"] == []
    assert faults(app) == [("QUORUM_UNREACHABLE", "payment")]
