"""Tier timeouts: a tier nobody decided within its timeout hands over to the next tier of its
sequence (escalate) or expires the request with the cart (expire), through the periodic job."""
from __future__ import annotations

from runtime.approvals.timeouts import run_timeouts
from runtime.events.models import OutboxEvent
from tests.runtime.helpers import login
from tests.runtime.test_approvals_api import APPROVE, EMPLOYEES, INBOX, SUBMIT, approval, call  # noqa: F401
from tests.runtime.test_approvals_security import acme  # noqa: F401
from tests.runtime.test_carts_api import rows
from tests.runtime.test_checkout_api import ready_cart
from tests.runtime.test_tenders_checkout import publish

ESCALATING = """kind: approval_route
name: escalating
when: {total: {gt: 20}}
phases:
  cart:
    mode: sequence
    tiers:
      - {name: managers, roles: [b2b_manager], quorum: 1, timeout: {after: 2h, then: escalate}}
      - {name: finance, users: [fin1@acme.test], quorum: 1, timeout: {after: 1h, then: expire}}
"""


def steps(app):
    return [e.payload["step"] for e in rows(app, OutboxEvent, OutboxEvent.type == "approval.step")]


def test_an_undecided_tier_escalates_then_the_next_one_expires_the_request(app, client, acme, frozen_clock):
    publish(app, ESCALATING)
    cart = ready_cart(client, acme["tokens"]["buyer@acme.test"])
    call(client, SUBMIT, {"id": cart}, acme["tokens"]["buyer@acme.test"])
    frozen_clock.advance(hours=1, minutes=59)
    with app.app_context():
        assert run_timeouts() == {}
    frozen_clock.advance(minutes=1)
    with app.app_context():
        assert run_timeouts() == {"escalate": 1}
        assert run_timeouts() == {}
    fin1, boss = login(client, "fin1@acme.test"), login(client, "boss@acme.test")
    assert [n["id"] for n in call(client, INBOX, {}, fin1)["nodes"]] == [cart]
    assert call(client, INBOX, {}, boss)["nodes"] == []
    assert steps(app) == ["submitted", "escalated"]

    frozen_clock.advance(minutes=59)
    with app.app_context():
        assert run_timeouts() == {}
        frozen_clock.advance(minutes=1)
        assert run_timeouts() == {"expire": 1}
    seen = approval(client, cart, login(client, "buyer@acme.test"))
    assert (seen["state"], seen["approval"]["status"]) == ("active", "expired")
    assert steps(app) == ["submitted", "escalated", "expired"]


def test_a_decision_in_time_stops_the_clock_of_its_tier(app, client, acme, frozen_clock):
    publish(app, ESCALATING)
    cart = ready_cart(client, acme["tokens"]["buyer@acme.test"])
    call(client, SUBMIT, {"id": cart}, acme["tokens"]["buyer@acme.test"])
    frozen_clock.advance(hours=1)
    assert call(client, APPROVE, {"id": cart}, login(client, "boss@acme.test"))["errors"] == []
    frozen_clock.advance(minutes=59)
    with app.app_context():
        assert run_timeouts() == {}  # finance's hour started with the manager's decision
    assert call(client, APPROVE, {"id": cart}, login(client, "fin1@acme.test"))["cart"]["state"] == "approved"
