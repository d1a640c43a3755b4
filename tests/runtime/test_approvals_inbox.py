"""The approver inbox: statements per page do not grow with the page size; filters by phase and
age; keyset pages cover every pending cart once; bad filters are refused as data."""
from __future__ import annotations

import secrets

from sqlmodel import select

from runtime.approvals.models import ApprovalRequest, ApprovalSlot
from runtime.carts.models import Cart
from tests.runtime.helpers import recorded_statements
from tests.runtime.test_approvals_api import INBOX, SUBMIT, acme, call  # noqa: F401
from tests.runtime.test_checkout_api import ready_cart
from tests.runtime.test_carts_api import post


def clone_pending(app, token: str, count: int) -> None:
    """``count`` more pending carts like ``token``'s, each with a copy of its request and slots."""
    def work(session):
        cart = session.exec(select(Cart).where(Cart.token == token)).one()
        request = session.exec(select(ApprovalRequest).where(ApprovalRequest.subject_id == cart.id)).one()
        slots = session.exec(select(ApprovalSlot).where(ApprovalSlot.request_id == request.id)).all()
        for _ in range(count):
            copy = Cart(**cart.model_dump(exclude={"id", "token"}), token=secrets.token_urlsafe(32))
            session.add(copy)
            session.flush()
            twin = ApprovalRequest(**request.model_dump(exclude={"id", "subject_id"}), subject_id=copy.id)
            session.add(twin)
            session.flush()
            session.add_all(ApprovalSlot(**s.model_dump(exclude={"id", "request_id"}), request_id=twin.id) for s in slots)

    app.extensions["vectis.db"].run(work)


def test_inbox_statements_do_not_grow_with_the_page_and_pages_cover_every_cart(app, client, acme, frozen_clock):
    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"])
    call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])
    clone_pending(app, cart, 24)
    boss = t["boss@acme.test"]
    database = app.extensions["vectis.db"]
    counts = {}
    for first in (2, 10, 25):
        call(client, INBOX, {"first": first}, boss)  # warm caches (schema, definitions)
        with recorded_statements(database) as statements:
            page = call(client, INBOX, {"first": first}, boss)
        assert len(page["nodes"]) == first
        counts[first] = len(statements)
    assert len(set(counts.values())) == 1, counts

    seen, after = [], None
    while True:
        page = call(client, INBOX, {"first": 7, "after": after}, boss)
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 25

    assert call(client, INBOX, {"filter": {"phase": "payment"}}, boss)["nodes"] == []
    assert len(call(client, INBOX, {"filter": {"minAgeHours": 0}, "first": 50}, boss)["nodes"]) == 25
    frozen_clock.advance(hours=3)
    assert call(client, INBOX, {"filter": {"minAgeHours": 4}}, boss)["nodes"] == []
    assert len(call(client, INBOX, {"filter": {"minAgeHours": 2}, "first": 50}, boss)["nodes"]) == 25


def test_a_bad_inbox_filter_is_a_clear_error(app, client, acme):
    answer = post(client, INBOX, {"filter": {"minAgeHours": -1}}, acme["tokens"]["boss@acme.test"])
    assert answer["errors"][0]["message"] == "filter.minAgeHours: expected 0 to 8784, got -1"
    assert answer["errors"][0]["extensions"]["code"] == "INVALID_FILTER"
