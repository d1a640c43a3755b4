"""The refund approvals inbox in headless chromium: staff A submits a refund over GraphQL, staff B
opens the inbox, sees the plan, approves with a note and watches the legs go to done; staff A sees
the request without an approve button."""
from __future__ import annotations

from tests.admin_ui.helpers import PASSWORD
from tests.runtime.refund_helpers import drain, staff, three_leg_order
from tests.runtime.test_refunds import _submit
from tests.runtime.test_tenders_checkout import calls  # noqa: F401

INBOX = "/admin/refund-approvals"


def sign_in(page, server, email):
    page.goto(f"{server}{INBOX}")  # the sign-in page, then back here
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("h1:has-text('Refund approvals')")


LEGS = "rows => rows.map(r => r.dataset.leg + ' ' + r.dataset.legState)"


def test_staff_b_approves_staff_a_s_refund_from_the_inbox(app, client, server, page, shots, calls):
    order_id, _ = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    staff(app, client, "bob@example.test")
    request = _submit(client, order_id, alice, amount="20.00", note="parcel lost")["refundRequest"]
    row = f"tr[data-refund='{request['id']}']"

    sign_in(page, server, "bob@example.test")
    assert page.locator("nav a:has-text('Refund approvals')").is_visible()
    assert page.locator(f"{row} .amount").inner_text().startswith("20.00 EUR")
    assert page.locator(f"{row} [data-leg]").evaluate_all(LEGS) == [
        "card pending", "store_credit pending", "gift_card pending"]
    shots(page, "refund-inbox")

    page.fill(f"{row} form[action$='/approve'] input[name=note]", "courier confirmed the loss")
    page.click(f"{row} button:has-text('Approve')")
    assert page.locator(".flash").inner_text() == (
        f"Refund request {request['id']} approved by bob@example.test; its execution is queued.")
    drain(app)  # in-process (SQLite) it ran at once; with Redis a worker runs it now

    page.goto(f"{server}{INBOX}?state=all")
    assert page.locator(f"{row} .state").inner_text() == "executed"
    assert page.locator(f"{row} [data-leg]").evaluate_all(LEGS) == ["card done", "store_credit done", "gift_card done"]
    assert page.locator(f"{row} [data-leg] code").count() == 3  # each leg's gateway reference
    assert page.locator(f"{row} .decided").inner_text().startswith("Approved by bob@example.test at ")
    assert sorted(calls.refunds.values()) == [1]
    shots(page, "refund-inbox-executed")

    # alice asks for the rest: bob could approve it, alice gets no button on her own request
    rest = _submit(client, order_id, alice, amount="2.90")["refundRequest"]
    page.goto(f"{server}{INBOX}")
    assert page.locator(f"tr[data-refund='{rest['id']}'] button:has-text('Approve')").count() == 1
    page.click("button:has-text('Sign out')")
    sign_in(page, server, "alice@example.test")
    own = page.locator(f"tr[data-refund='{rest['id']}']")
    assert own.locator("button").count() == 0
    assert own.locator(".own").inner_text() == "You requested this refund; another approver decides it."
    shots(page, "refund-inbox-own-request")
