"""The staff approver's inbox page: the carts a route names the staff member for, filters by phase
and age, approve with a note, reject needs a reason (refused with the message, nothing changed)."""
from __future__ import annotations

import re

from runtime.approvals.models import ApprovalDecision
from tests.admin_ui.helpers import sign_in
from tests.runtime.helpers import login
from tests.runtime.test_approvals_api import EMPLOYEES, SUBMIT, approval, call
from tests.runtime.test_carts_api import b2b, rows, store
from tests.runtime.test_checkout_api import ready_cart
from tests.runtime.test_tenders_checkout import publish

STAFF_ROUTE = """kind: approval_route
name: staff_over_20
when: {total: {gt: 20}}
phases:
  payment:
    tiers: [{name: controllers, users: [admin@example.test], quorum: 1}]
"""


def test_a_staff_approver_sees_filters_and_decides_from_the_inbox_page(app, client, frozen_clock):
    store(app)
    publish(app, STAFF_ROUTE)
    acme = b2b(app, client, employees=EMPLOYEES)
    buyer = acme["tokens"]["buyer@acme.test"]
    cart = ready_cart(client, buyer)
    call(client, SUBMIT, {"id": cart, "note": "urgent"}, buyer)
    staff = app.test_client()
    token = sign_in(app, staff, "admin")
    frozen_clock.advance(hours=5)

    page = staff.get("/admin/approvals").get_data(as_text=True)
    assert re.findall(r'<tr data-cart="([^"]+)">', page) == [cart]
    assert "buyer@acme.test" in page and "urgent" in page and "22.9000 EUR" in page and "5 h" in page
    assert re.findall(r'<tr data-cart="([^"]+)">', staff.get("/admin/approvals?phase=cart").get_data(as_text=True)) == []
    assert re.findall(r'<tr data-cart="([^"]+)">',
                      staff.get("/admin/approvals?min_age_hours=6").get_data(as_text=True)) == []
    assert "expected a whole number of hours" in staff.get("/admin/approvals?min_age_hours=x").get_data(as_text=True)

    refused = staff.post(f"/admin/approvals/{cart}/reject", data={"csrf_token": token, "reason": " "},
                         follow_redirects=True).get_data(as_text=True)
    assert "reason: say why (a reason is required)" in refused
    assert rows(app, ApprovalDecision) == []

    done = staff.post(f"/admin/approvals/{cart}/approve", data={"csrf_token": token, "note": "checked"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Approved by admin@example.test." in done and "Nothing waits for your approval." in done
    seen = approval(client, cart, login(client, "buyer@acme.test"))  # the first token expired meanwhile
    assert seen["state"] == "approved"
    assert [(a["approver"], a["tier"], a["note"]) for a in seen["approval"]["approvals"]] == [
        ("admin@example.test", "controllers", "checked")]


def test_the_page_needs_the_decide_permission(app, client):
    store(app)
    staff = app.test_client()
    sign_in(app, staff, "viewer")
    assert staff.get("/admin/approvals").status_code == 403
