"""The refund approvals inbox (/admin/refund-approvals): requests with amount, order, requester,
age, reason and the per-tender plan; approve with a note, reject with one; the requester gets no
decide buttons and a forged POST is refused by the service with nothing changed; a late decision
names who decided; per-leg progress with the gateway reference and the error; retry of a failed
request; filters by state and age, paging; hostile input answered with a message, never a 500."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from markupsafe import escape

from admin_ui import refund_approvals
from runtime.approvals.models import ApprovalDecision
from runtime.channels.models import ChannelProvider
from runtime.events.models import OutboxEvent
from runtime.orders.models import Order
from runtime.refunds.models import RefundLeg, RefundRequest
from tests.admin_ui.helpers import PASSWORD, publish, sign_in, token_of
from tests.runtime.helpers import login, recorded_statements
from tests.runtime.refund_helpers import drain, staff, three_leg_order
from tests.runtime.test_carts_api import rows
from tests.runtime.test_refunds import _first_line, _set_active, _submit
from tests.runtime.test_tenders_checkout import calls  # noqa: F401

INBOX = "/admin/refund-approvals"
ROOT = Path(__file__).resolve().parents[2]


def admin(app, email: str):
    """A test client signed into the admin as ``email`` (an existing user); and its CSRF token."""
    browser = app.test_client()
    token = token_of(browser.get("/admin/login").get_data(as_text=True))
    response = browser.post("/admin/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser, token_of(browser.get(INBOX).get_data(as_text=True))


def shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="refund-\d+" data-refund="(\d+)"', page)]


def legs(page: str, request_id) -> list[tuple[str, str]]:
    row = page.split(f'data-refund="{request_id}"', 1)[1].split('<tr id="refund-', 1)[0]
    return re.findall(r'data-leg="([a-z_]+)" data-leg-state="([a-z]+)"', row)


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash[^"]*" role="status">(.*?)</p>', page, re.S)


def snapshot(app):
    return ([(r.id, r.state, r.approvals, r.decided_by) for r in rows(app, RefundRequest)],
            [(leg.id, leg.state) for leg in rows(app, RefundLeg)], len(rows(app, ApprovalDecision)),
            len(rows(app, OutboxEvent)))


def act(browser, token, request_id, action, **form):
    response = browser.post(f"{INBOX}/{request_id}/{action}", data={"csrf_token": token, **form})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return browser.get(response.headers["Location"]).get_data(as_text=True)


def test_an_approver_sees_the_request_and_its_plan_approves_it_and_the_legs_are_done(app, client, frozen_clock, calls):
    order_id, _ = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    staff(app, client, "bob@example.test")
    request = _submit(client, order_id, alice, wholeOrder=True, note="box crushed")["refundRequest"]
    bob, token = admin(app, "bob@example.test")
    frozen_clock.advance(hours=5)

    page = bob.get(INBOX).get_data(as_text=True)
    assert shown(page) == [int(request["id"])]
    number = rows(app, Order)[0].number
    assert "22.90 EUR" in page and number in page and "alice@example.test" in page
    assert "damaged" in page and "box crushed" in page and '<td class="age">5 h</td>' in page
    assert '<small class="scope">whole order</small>' in page
    assert legs(page, request["id"]) == [("card", "pending"), ("store_credit", "pending"), ("gift_card", "pending")]
    assert "12.40 EUR" in page and "6.00 EUR" in page and "4.50 EUR" in page
    assert f'action="{INBOX}/{request["id"]}/approve"' in page and "approvals 0 of 1" in page

    done = act(bob, token, request["id"], "approve", note="photos checked")
    drain(app)

    assert flashes(done) == [f"Refund request {request['id']} approved by bob@example.test; its execution is queued."]
    assert shown(done) == [] and "No refund requests match." in done  # nothing pending any more
    executed = bob.get(f"{INBOX}?state=executed").get_data(as_text=True)
    assert shown(executed) == [int(request["id"])]
    assert legs(executed, request["id"]) == [("card", "done"), ("store_credit", "done"), ("gift_card", "done")]
    references = [leg.gateway_reference for leg in rows(app, RefundLeg)]
    assert all(references) and all(f"<code>{ref}</code>" in executed for ref in references)
    assert "Approved by bob@example.test at 2026-01-15 17:00 UTC: <q>photos checked</q>" in executed
    assert "approvals 1 of 1: bob@example.test" in executed and "refunded so far 22.90 EUR" in executed
    assert f'{INBOX}/{request["id"]}/approve' not in executed
    assert sorted(calls.refunds.values()) == [1]

    # someone else deciding late is told who decided, and nothing changes
    staff(app, client, "carol@example.test")
    carol, carol_token = admin(app, "carol@example.test")
    before = snapshot(app)
    late = act(carol, carol_token, request["id"], "approve", note="me too")
    assert len(flashes(late)) == 1 and flashes(late)[0].startswith(
        "refundRequestId: the refund request is executed: bob@example.test decided it at 2026-01-15 17:00 UTC")
    assert snapshot(app) == before


def test_the_requester_has_no_decide_buttons_and_a_forged_post_is_refused(app, client):
    order_id, _ = three_leg_order(app, client)
    alice_token = staff(app, client, "alice@example.test")
    request = _submit(client, order_id, alice_token, amount="5.00")["refundRequest"]
    alice, token = admin(app, "alice@example.test")  # alice holds refunds.approve too

    page = alice.get(INBOX).get_data(as_text=True)
    assert shown(page) == [int(request["id"])]
    assert "You requested this refund; another approver decides it." in page
    assert f'{INBOX}/{request["id"]}/approve' not in page and f'{INBOX}/{request["id"]}/reject' not in page

    before = snapshot(app)
    for action, note in (("approve", "fine by me"), ("reject", "changed my mind")):
        refused = act(alice, token, request["id"], action, note=note)
        assert flashes(refused) == ["refundRequestId: you requested this refund; someone else must decide it"]
    assert snapshot(app) == before
    assert [(r.state, r.approvals) for r in rows(app, RefundRequest)] == [("requested", 0)]


def test_a_rejection_needs_a_note_and_shows_who_rejected(app, client):
    order_id, _ = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    staff(app, client, "bob@example.test")
    request = _submit(client, order_id, alice, amount="5.00")["refundRequest"]
    bob, token = admin(app, "bob@example.test")

    before = snapshot(app)
    refused = act(bob, token, request["id"], "reject", note="   ")
    assert flashes(refused) == ["notes: say why (a reason is required)"]
    assert snapshot(app) == before

    done = act(bob, token, request["id"], "reject", note="not our fault")
    assert flashes(done) == [f"Refund request {request['id']} rejected by bob@example.test."]
    rejected = bob.get(f"{INBOX}?state=rejected").get_data(as_text=True)
    assert shown(rejected) == [int(request["id"])]
    assert re.search(r"Rejected by bob@example.test at [\d-]+ [\d:]+ UTC: <q>not our fault</q>", rejected)
    assert [(r.state, r.decided_by, r.decision_note) for r in rows(app, RefundRequest)] == [
        ("rejected", "bob@example.test", "not our fault")]


def test_a_failed_request_shows_the_failed_leg_and_a_retry_resumes_it(app, client, calls):
    order_id, _ = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    staff(app, client, "bob@example.test")
    failing = _submit(client, order_id, alice, amount="15.00")["refundRequest"]
    pending = _submit(client, order_id, alice, amount="1.00")["refundRequest"]
    bob, token = admin(app, "bob@example.test")
    provider = rows(app, ChannelProvider)[0]
    _set_active(app, provider.id, False)  # the card's gateway is gone: its leg fails

    act(bob, token, failing["id"], "approve")
    drain(app)

    page = bob.get(f"{INBOX}?state=failed").get_data(as_text=True)
    assert shown(page) == [int(failing["id"])]
    assert legs(page, failing["id"]) == [("card", "failed"), ("store_credit", "done")]
    leg = next(leg for leg in rows(app, RefundLeg) if leg.type == "card" and leg.request_id == int(failing["id"]))
    assert f"<strong>{leg.error_code}</strong>: {escape(leg.error_message)}" in page and leg.error_code == "NO_GATEWAY"
    assert f'action="{INBOX}/{failing["id"]}/retry"' in page and "executions started: 1" in page

    # a retry of a request that is not failed is refused by the service
    before = snapshot(app)
    refused = act(bob, token, pending["id"], "retry")
    assert flashes(refused) == ["refundRequestId: only a failed refund request can be retried; this one is requested"]
    assert snapshot(app) == before

    _set_active(app, provider.id, True)
    resumed = act(bob, token, failing["id"], "retry", state="failed")
    drain(app)
    assert flashes(resumed) == [f"Refund request {failing['id']}: execution resumed by bob@example.test (attempt 2)."]
    executed = bob.get(f"{INBOX}?state=executed").get_data(as_text=True)
    assert legs(executed, failing["id"]) == [("card", "done"), ("store_credit", "done")]
    assert sorted(calls.refunds.values()) == [1]


def test_filters_by_state_and_age_and_pages(app, client, frozen_clock, monkeypatch):
    monkeypatch.setattr(refund_approvals, "PAGE", 2)
    order_id, _ = three_leg_order(app, client)
    staff(app, client, "bob@example.test")
    alice = staff(app, client, "alice@example.test")
    first = int(_submit(client, order_id, alice, amount="1.00")["refundRequest"]["id"])
    frozen_clock.advance(hours=30)
    alice = login(client, "alice@example.test")  # a fresh token: the last one expired meanwhile
    second = int(_submit(client, order_id, alice, lines=[{"lineId": str(_first_line(app, order_id)), "quantity": 1}],
                         shipping=True)["refundRequest"]["id"])
    frozen_clock.advance(hours=20)
    alice = login(client, "alice@example.test")
    third = int(_submit(client, order_id, alice, amount="3.00")["refundRequest"]["id"])
    bob, _ = admin(app, "bob@example.test")

    page = bob.get(INBOX).get_data(as_text=True)
    assert shown(page) == [third, second]
    assert "2 d 2 h" not in page and '<td class="age">20 h</td>' in page
    assert '<small class="scope">1 line + shipping</small>' in page and '<small class="scope">an amount</small>' in page
    older = re.search(r'<a rel="next" href="([^"]+)">', page).group(1).replace("&amp;", "&")
    assert older == f"{INBOX}?after={second}"
    rest = bob.get(older).get_data(as_text=True)
    assert shown(rest) == [first] and '<td class="age">2 d 2 h</td>' in rest
    assert 'rel="next"' not in rest and ">Newest</a>" in rest

    assert shown(bob.get(f"{INBOX}?min_age_hours=10").get_data(as_text=True)) == [second, first]
    assert shown(bob.get(f"{INBOX}?max_age_hours=10").get_data(as_text=True)) == [third]
    assert shown(bob.get(f"{INBOX}?state=approved").get_data(as_text=True)) == []
    paged = bob.get(f"{INBOX}?state=all&min_age_hours=1").get_data(as_text=True)
    assert shown(paged) == [second, first] and 'rel="next"' not in paged
    options = re.findall(r'<option value="([a-z]+)"', page)
    assert options == ["requested", "approved", "rejected", "executing", "executed", "failed", "cancelled",
                       "expired", "all"]


@pytest.mark.parametrize("query, message", [
    ("state=bogus", "state: expected one of requested, approved, rejected, executing, executed, failed, cancelled, "
                    "expired or all, got &#39;bogus&#39;"),
    ("min_age_hours=x", "min_age_hours: expected a whole number of hours (0 to 878400), got &#39;x&#39;"),
    ("min_age_hours=-1", "min_age_hours: expected a whole number of hours (0 to 878400), got &#39;-1&#39;"),
    ("max_age_hours=" + "9" * 40, "max_age_hours: expected a whole number of hours (0 to 878400), got &#39;9999"),
    ("max_age_hours=%D9%A1%D9%A2", "max_age_hours: expected a whole number of hours"),
    ("after=abc", "after: not a page this inbox links to, got &#39;abc&#39;"),
    ("after=" + "1" * 30, "after: not a page this inbox links to"),
    ("state=" + "x" * 100_000, "state: expected one of requested"),
])
def test_bad_filters_are_named_on_the_page(app, client, query, message):
    three_leg_order(app, client)
    staff(app, client, "bob@example.test")
    bob, _ = admin(app, "bob@example.test")
    response = bob.get(f"{INBOX}?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<p class="refused" id="inbox-error">{message}' in page
    assert len(page) < 20_000  # a huge value is not echoed whole


def test_hostile_posts_are_refused_with_a_message_and_change_nothing(app, client):
    order_id, _ = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    staff(app, client, "bob@example.test")
    request = _submit(client, order_id, alice, amount="5.00")["refundRequest"]
    bob, token = admin(app, "bob@example.test")
    before = snapshot(app)
    cases = [
        ("999999", "approve", {"note": "x"}, "refundRequestId: no refund request &#39;999999&#39;"),
        ("abc", "approve", {}, "refundRequestId: no refund request &#39;abc&#39;"),
        ("9" * 40, "reject", {"note": "why"}, f"refundRequestId: no refund request &#39;{'9' * 40}&#39;"),
        ("x" * 5000, "retry", {}, "refundRequestId: no refund request &#39;xxxx"),
        (request["id"], "approve", {"note": "n" * 100_000}, "notes: at most 2000 characters, got 100000"),
        (request["id"], "reject", {}, "notes: say why (a reason is required)"),
        (request["id"], "explode", {}, "action: expected approve, reject, retry, got &#39;explode&#39;"),
        (request["id"], "approve", {"note": "ok", "state": "\x00" + "s" * 50_000},
         None),  # a hostile carried filter: the approval is done, the next page names the filter
    ]
    for request_id, action, form, message in cases[:-1]:
        page = act(bob, token, request_id, action, **form)
        assert len(flashes(page)) == 1 and flashes(page)[0].startswith(message), (request_id[:20], action, flashes(page))
        assert snapshot(app) == before
    response = bob.post(f"{INBOX}/{request['id']}/approve", data={"note": "ok"})  # no CSRF token
    assert response.status_code == 400 and "CSRF token" in response.get_data(as_text=True)
    assert snapshot(app) == before

    request_id, action, form, _ = cases[-1]
    page = act(bob, token, request_id, action, **form)
    assert flashes(page) == [f"Refund request {request['id']} approved by bob@example.test; its execution is queued."]
    assert "state: expected one of requested" in page


def test_only_refund_approvers_see_the_page_and_its_link(app, client):
    three_leg_order(app, client)
    staff(app, client, "bob@example.test")
    viewer = app.test_client()
    token = sign_in(app, viewer, "viewer")
    refused = viewer.get(INBOX)
    assert refused.status_code == 403 and "permission &#39;refunds.approve&#39; is required" in refused.get_data(
        as_text=True)
    assert viewer.post(f"{INBOX}/1/approve", data={"csrf_token": token, "note": "x"}).status_code == 403
    assert "Refund approvals</a>" not in viewer.get("/admin/definitions").get_data(as_text=True)

    anonymous = app.test_client()
    assert anonymous.get(INBOX).headers["Location"].startswith("/admin/login?next=")
    bob, _ = admin(app, "bob@example.test")
    assert f'<a href="{INBOX}">Refund approvals</a>' in bob.get(INBOX).get_data(as_text=True)


def test_a_refund_the_policy_gives_two_approvers_waits_for_the_second(app, client, calls):
    order_id, _ = three_leg_order(app, client)
    source = (ROOT / "definitions/state_machine/refund_request.yaml").read_text()
    # the policy as data: above 10 (instead of 1000) a refund needs two approvers
    publish(app, source.replace("amount: {lte: 1000}", "amount: {lte: 10}").replace("amount: 25", "amount: 5"))
    alice = staff(app, client, "alice@example.test")
    staff(app, client, "bob@example.test")
    staff(app, client, "carol@example.test")
    request = _submit(client, order_id, alice, amount="15.00")["refundRequest"]
    assert request["approvalsNeeded"] == 2
    bob, token = admin(app, "bob@example.test")

    first = act(bob, token, request["id"], "approve", note="looks right")
    assert flashes(first) == [f"Refund request {request['id']}: approval by bob@example.test recorded (1 of 2); it "
                              "waits for another approver."]
    assert shown(first) == [int(request["id"])] and "approvals 1 of 2: bob@example.test" in first
    assert "You approved; it waits for another approver." in first and f'{request["id"]}/approve"' not in first
    before = snapshot(app)
    again = act(bob, token, request["id"], "approve")
    assert len(flashes(again)) == 1 and flashes(again)[0].startswith(
        "refundRequestId: you already decided phase &#39;refund&#39; at ")
    assert snapshot(app) == before

    carol, carol_token = admin(app, "carol@example.test")
    assert f'{request["id"]}/approve"' in carol.get(INBOX).get_data(as_text=True)
    second = act(carol, carol_token, request["id"], "approve")
    drain(app)
    assert flashes(second) == [f"Refund request {request['id']} approved by carol@example.test; its execution is queued."]
    executed = carol.get(f"{INBOX}?state=executed").get_data(as_text=True)
    assert "approvals 2 of 2: bob@example.test, carol@example.test" in executed
    assert legs(executed, request["id"]) == [("card", "done"), ("store_credit", "done")]


def test_the_page_s_statements_do_not_grow_with_its_rows(app, client):
    order_id, _ = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    staff(app, client, "bob@example.test")
    _submit(client, order_id, alice, amount="1.00")
    bob, _ = admin(app, "bob@example.test")
    database = app.extensions["vectis.db"]
    with recorded_statements(database) as one:
        assert len(shown(bob.get(INBOX).get_data(as_text=True))) == 1
    _submit(client, order_id, alice, amount="2.00")
    _submit(client, order_id, alice, amount="3.00")
    with recorded_statements(database) as three:
        assert len(shown(bob.get(INBOX).get_data(as_text=True))) == 3
    # the signed-in user, then the requests, their legs, their orders, their approvals
    assert len(three) == len(one) == 5, one
