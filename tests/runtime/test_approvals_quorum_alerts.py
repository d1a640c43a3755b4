"""A tier that can no longer reach its quorum reaches an account admin: an approval alert opens with
the fault, visible over GraphQL to the account's admins (never another account's) and to staff, and
in the admin inbox; it is cleared when the tier can reach its quorum again or the phase ends."""
from __future__ import annotations

import pytest
from sqlmodel import select

from runtime.approvals.models import ApprovalAlert
from runtime.approvals.quorum import check_pending
from runtime.auth.models import User
from runtime.events.models import OutboxEvent
from tests.admin_ui.helpers import sign_in
from tests.runtime.helpers import signed_in
from tests.runtime.test_approvals_api import APPROVAL, APPROVE, EMPLOYEES, SUBMIT, WITHDRAW, call
from tests.runtime.test_approvals_security import FINANCE_ONLY
from tests.runtime.test_carts_api import b2b, post, rows, store
from tests.runtime.test_checkout_api import ready_cart
from tests.runtime.test_tenders_checkout import publish

ALERTS = """query($open: Boolean, $first: Int, $after: String) { approvalAlerts(open: $open, first: $first, after: $after) {
  nodes { code phase reason subjectType cartId accountId clearedAt clearedReason } pageInfo { hasNextPage endCursor } } }"""
REASON = ("tier 'finance' of phase 'payment' needs 2 approvals: 1 cast, 0 eligible approver(s) left "
          "(an account admin must add approvers or change the route)")


@pytest.fixture
def acme(app, client):
    store(app)
    publish(app, FINANCE_ONLY)
    found = b2b(app, client, employees=EMPLOYEES + (("admin@acme.test", "b2b_admin"),))
    found["globex"] = b2b(app, client, "globex", employees=(("admin@globex.test", "b2b_admin"),))
    return found


def set_active(app, email: str, active: bool) -> None:
    def work(session):
        user = session.exec(select(User).where(User.email == email)).one()
        user.is_active = active
        session.add(user)

    app.extensions["vectis.db"].run(work)


def alerts(client, token, **variables):
    return call(client, ALERTS, variables, token)["nodes"]


def at_risk(app, client, acme) -> str:
    """A cart whose finance tier (2 of 3) keeps one approval and loses both other approvers."""
    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"])
    call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])
    assert call(client, APPROVE, {"id": cart}, t["fin1@acme.test"])["errors"] == []
    set_active(app, "fin2@acme.test", False)
    set_active(app, "fin3@acme.test", False)
    with app.app_context():
        assert check_pending() == 1
    return cart


def test_an_unreachable_quorum_reaches_the_accounts_admin_and_clears_when_an_approver_returns(app, client, acme):
    t = acme["tokens"]
    admin = t["admin@acme.test"]
    assert alerts(client, admin) == []
    cart = at_risk(app, client, acme)

    expected = {"code": "QUORUM_UNREACHABLE", "phase": "payment", "reason": REASON, "subjectType": "cart", "cartId": cart,
                "accountId": str(acme["account"]), "clearedAt": None, "clearedReason": ""}
    assert alerts(client, admin) == [expected]
    with app.app_context():
        assert check_pending() == 0  # once per phase: no second alert
    assert len(rows(app, ApprovalAlert)) == 1
    # another account's admin sees nothing; staff see every account's
    assert alerts(client, acme["globex"]["tokens"]["admin@globex.test"]) == []
    assert alerts(client, signed_in(app, client, "admin")) == [expected]
    # an approver without approvals.alerts is refused at the top level
    refused = post(client, ALERTS, {}, t["fin1@acme.test"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN" and refused["data"] is None

    # the admin brings fin3 back: the tier can reach its quorum, the alert and the fault clear
    set_active(app, "fin3@acme.test", True)
    with app.app_context():
        assert check_pending() == 0
    assert alerts(client, admin) == []
    cleared = alerts(client, admin, open=False)
    assert [(a["code"], a["clearedReason"]) for a in cleared] == [("QUORUM_UNREACHABLE", "the tier can reach its quorum again")]
    assert cleared[0]["clearedAt"] is not None
    assert call(client, APPROVAL, {"id": cart}, t["buyer@acme.test"])["approval"]["fault"] is None
    steps = [e.payload["step"] for e in rows(app, OutboxEvent, OutboxEvent.type == "approval.step")]
    assert steps == ["submitted", "approved", "quorum_at_risk", "quorum_restored"]

    # lost again: flagged again; fin3's approval completes the phase and clears it
    set_active(app, "fin3@acme.test", False)
    with app.app_context():
        assert check_pending() == 1
    assert len(alerts(client, admin)) == 1
    set_active(app, "fin3@acme.test", True)
    assert call(client, APPROVE, {"id": cart}, t["fin3@acme.test"])["cart"]["state"] == "approved"
    assert alerts(client, admin) == []
    assert sorted(a["clearedReason"] for a in alerts(client, admin, open=False)) == [
        "the phase reached its quorum", "the tier can reach its quorum again"]


def test_a_withdrawn_request_clears_its_alert_and_the_list_pages(app, client, acme):
    t = acme["tokens"]
    admin = t["admin@acme.test"]
    first = at_risk(app, client, acme)
    second = ready_cart(client, t["buyer@acme.test"])
    call(client, SUBMIT, {"id": second}, t["buyer@acme.test"])  # flagged at submission: only fin1 is left
    page = call(client, ALERTS, {"first": 1}, admin)
    assert [a["cartId"] for a in page["nodes"]] == [first] and page["pageInfo"]["hasNextPage"] is True
    rest = call(client, ALERTS, {"first": 1, "after": page["pageInfo"]["endCursor"]}, admin)
    assert [a["cartId"] for a in rest["nodes"]] == [second] and rest["pageInfo"]["hasNextPage"] is False
    bad = post(client, ALERTS, {"after": "nonsense"}, admin)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_FILTER"

    assert call(client, WITHDRAW, {"id": first}, t["buyer@acme.test"])["errors"] == []
    assert [a["cartId"] for a in alerts(client, admin)] == [second]
    assert [(a["cartId"], a["clearedReason"]) for a in alerts(client, admin, open=False)] == [
        (first, "request withdrawn"), (second, "")]


def test_the_admin_inbox_lists_open_alerts_for_staff(app, client, acme):
    cart = at_risk(app, client, acme)
    staff = app.test_client()
    sign_in(app, staff, "admin")
    page = staff.get("/admin/approvals").get_data(as_text=True)
    assert "Alerts for account admins" in page and "QUORUM_UNREACHABLE" in page
    assert "tier &#39;finance&#39; of phase &#39;payment&#39; needs 2 approvals" in page
    assert call(client, WITHDRAW, {"id": cart}, acme["tokens"]["buyer@acme.test"])["errors"] == []
    assert "Alerts for account admins" not in staff.get("/admin/approvals").get_data(as_text=True)
