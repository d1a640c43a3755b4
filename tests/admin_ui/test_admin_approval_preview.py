"""The approval_route preview in the admin editor: a sample cart and requester give the combined
plan under the live routes and with the draft, side by side; the simulation counts last month's
placed B2B orders per route, live and draft; a bad sample is named."""
from __future__ import annotations

import re

from tests.admin_ui.helpers import sign_in
from tests.runtime.test_approvals_api import EMPLOYEES, ROUTE
from tests.runtime.test_carts_api import b2b, post as gql, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_tenders_checkout import publish


def post(client, path, token, **form):
    return client.post(path, data={"csrf_token": token, **form})


SMALL = ROUTE.replace("b2b_over_20", "manager_over_10").replace("{total: {gt: 20}}", "{total: {gt: 10}}")


def test_the_preview_shows_live_and_draft_plans_and_simulates_last_months_orders(app, client):
    store(app)
    acme = b2b(app, client, employees=EMPLOYEES)
    buyer = acme["tokens"]["buyer@acme.test"]
    placed = gql(client, PLACE, {"id": ready_cart(client, buyer), "key": "p1"}, buyer)["data"]["placeOrder"]
    assert placed["errors"] == []  # 22.90, before any route is live
    publish(app, SMALL)
    token = sign_in(app, client, "merchandiser")
    draft = SMALL.replace("quorum: 2", "quorum: 3")

    page = post(client, "/admin/definitions/approval_route/manager_over_10", token, source=draft, action="preview",
                base_revision="1", approval_cart='{"total": 50, "account": "acme"}', approval_roles="b2b_buyer",
                approval_days="30").get_data(as_text=True)

    live, drafted = re.search(r'class="live">(.*?)</td><td class="draft">(.*?)</td>', page, re.S).groups()
    assert "finance 2 of fin1@acme.test, fin2@acme.test, fin3@acme.test" in live
    assert "finance 3 of fin1@acme.test, fin2@acme.test, fin3@acme.test" in drafted
    assert "This draft matches" in page
    assert "1 placed B2B orders" in page
    row = re.search(r'<tr data-route="manager_over_10"><td>manager_over_10</td><td>(\d+)</td><td>(\d+)</td>', page)
    assert row.groups() == ("1", "1")


def test_a_bad_sample_cart_is_named(app, client):
    store(app)
    publish(app, SMALL)
    token = sign_in(app, client, "merchandiser")
    page = post(client, "/admin/definitions/approval_route/manager_over_10", token, source=SMALL, action="preview",
                base_revision="1", approval_cart="{nope", approval_roles="b2b_buyer").get_data(as_text=True)
    assert "sample cart: not JSON (Expecting property name enclosed in double quotes at column 2)" in page
