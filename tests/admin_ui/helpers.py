"""Shared by the admin UI tests: users, a small catalog, signing in, posting forms with the token."""
from __future__ import annotations

import re
from decimal import Decimal

from runtime.catalog import service
from runtime.channels.service import create_channel
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from tests.runtime.helpers import make_user

PASSWORD = "correct horse battery"

SALE = """kind: label
name: sale
description: Products below their compare-at price.
label: {text: Sale, style: sale, priority: 20}
when:
  status: active
  compare_at_price: {gt: {field: price}}
examples:
  - given: {status: active, price: 10, compare_at_price: 15}
    expect: true
"""
#: SALE with its threshold moved: every active product under 15 gets the label.
CHEAP = SALE.replace("  compare_at_price: {gt: {field: price}}", "  price: {lt: 15}").replace(
    "{status: active, price: 10, compare_at_price: 15}", "{status: active, price: 10}")
#: SALE with a misspelt field on line 7.
TYPO = SALE.replace("  compare_at_price: {gt", "  compare_at_prise: {gt")


def seed_catalog(database, count: int = 10) -> None:
    """p00…p09: p<i> costs 10 + i; even ones have a compare-at price 5 above (on sale)."""
    def work(session):
        create_channel(session, slug="web", name="Web", commerce_mode="B2C", default_currency="EUR", is_default=True)
        for i in range(count):
            price = Decimal(10 + i)
            service.create_product(
                session, base_currency="EUR", channels=["web"], slug=f"p{i:02d}", name=f"Product {i:02d}",
                variants=[{"sku": f"SKU-{i:02d}", "name": f"SKU-{i:02d}", "base_price": str(price),
                           "compare_at_price": str(price + 5) if i % 2 == 0 else None}])
    database.run(work)


def publish(app, source: str, author: str = "someone@example.test", note: str = "test"):
    env = build_environment(app.extensions["vectis.registry"])
    row, _ = app.extensions["vectis.db"].run(lambda s: store.publish(s, source, env, author=author, note=note))
    app.extensions["vectis.definitions"].refresh(force=True)
    return row


def revisions(app, kind: str, name: str) -> list[tuple[int, str, str, bool]]:
    with app.extensions["vectis.db"].session() as s:
        return [(r.revision, r.author, r.note, r.is_live) for r in store.history(s, kind, name)]


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(app, client, role: str) -> str:
    """Sign ``client`` in as a new user with ``role``; returns the session's CSRF token."""
    email = f"{role}@example.test"
    make_user(app, email, [role], PASSWORD)
    token = token_of(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return token_of(client.get("/admin/definitions").get_data(as_text=True))
