"""Data the order and payment tests build directly with the models (no tests here)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlmodel import select

from runtime.accounts.models import Account, Location
from runtime.auth.permissions import Actor
from runtime.channels.models import Channel
from runtime.channels.providers import set_provider
from runtime.events.models import OutboxEvent
from runtime.money import Money
from runtime.orders.drafts import OrderDraft, OrderLineDraft
from runtime.pricing.models import PriceLevel
from runtime.pricing.types import Price

MOCK = "mock_gateway.payment_gateway.mock"
#: Test cards of extensions/mock_gateway/cards.py.
SUCCESS, DECLINE, FRAUD, TIMEOUT = "4242424242424242", "4000000000000002", "4000000000009235", "4000000000000119"

STAFF = Actor(user_id=None, email="staff@example.test", permissions=frozenset({"orders.read", "orders.ship", "orders.cancel",
                                                                                "payments.capture", "payments.void",
                                                                                "payments.refund", "accounts.manage"}))


@pytest.fixture
def live(app, database):
    """The shipped definitions published and live (the order and payment_transaction machines)."""
    from runtime.definitions import shipped
    from runtime.definitions.environment import build_environment
    from runtime.definitions.live import live_definitions

    registry = app.extensions["vectis.registry"]
    database.run(lambda s: shipped.sync(s, registry, build_environment(registry)))
    live_definitions(app).refresh(force=True)
    with app.app_context():
        yield app


@pytest.fixture
def shop(live, database):
    """Two channels with the mock gateway (web captures at checkout, trade only authorizes), two
    accounts with a location each, and users for a customer and two employees."""
    from runtime.auth.service import create_user, seed_roles

    def work(session):
        seed_roles(session)
        web = Channel(slug="web", name="Web", commerce_mode="B2C", default_currency="EUR", currencies=["EUR", "USD"],
                      capture_mode="AUTHORIZE_AND_CAPTURE", is_default=True)
        trade = Channel(slug="trade", name="Trade", commerce_mode="B2B", default_currency="EUR", currencies=["EUR"],
                        capture_mode="AUTHORIZE")
        acme, globex = Account(slug="acme", name="Acme"), Account(slug="globex", name="Globex")
        session.add_all([web, trade, acme, globex])
        session.flush()
        acme_hq, globex_hq = Location(account_id=acme.id, code="HQ", name="Acme HQ"), Location(account_id=globex.id, code="HQ", name="Globex HQ")
        session.add_all([acme_hq, globex_hq])
        session.flush()
        for channel in (web, trade):
            set_provider(session, channel, "payment_gateway", MOCK, {"merchant_id": f"m_{channel.slug}"})
        users = {name: create_user(session, f"{name}@example.test", "correct horse battery", [role]).id
                 for name, role in (("carla", "customer"), ("erik", "b2b_buyer"), ("gina", "b2b_buyer"))}
        return {"web": web.id, "trade": trade.id, "acme": acme.id, "globex": globex.id, "acme_hq": acme_hq.id,
                "globex_hq": globex_hq.id, **users}

    return database.run(work)


def customer(shop, customer_id=None) -> Actor:
    return Actor(user_id=shop["carla"], email="carla@example.test", permissions=frozenset({"orders.place"}),
                 customer_id=customer_id)


def employee(shop, name: str = "erik", account: str = "acme") -> Actor:
    return Actor(user_id=shop[name], email=f"{name}@example.test", permissions=frozenset({"orders.place"}),
                 employee_id=1, account_id=shop[account], location_id=shop[f"{account}_hq"])


def draft(shop, *, channel="web", quantities=(2, 1), currency="EUR", rate="1", user=None, account=None,
          key=None, shipping="4.90") -> OrderDraft:
    prices = [Decimal("19.99"), Decimal("5.50"), Decimal("7.25")]
    lines = []
    for index, quantity in enumerate(quantities):
        unit = Money(prices[index], currency)
        price = Price(variant_id=0, quantity=quantity, unit_price=unit, level=PriceLevel.CHANNEL, price_list_id=None,
                      price_list_slug="web-eur", min_quantity=1, base_price=unit)
        lines.append(OrderLineDraft(variant_id=None, sku=f"SKU-{index + 1}", product_name=f"Product {index + 1}",
                                    variant_name="Default", quantity=quantity, price=price))
    subtotal = sum((line.line_total for line in lines), Money.zero(currency))
    shipping_total = Money(shipping, currency)
    return OrderDraft(channel_id=shop[channel], currency=currency, base_currency="EUR", exchange_rate=Decimal(rate),
                      lines=lines, subtotal=subtotal, shipping_total=shipping_total, total=subtotal + shipping_total,
                      email="buyer@example.test", user_id=shop[user] if user else None,
                      account_id=shop[account] if account else None,
                      location_id=shop[f"{account}_hq"] if account else None, idempotency_key=key,
                      shipping_method={"provider": "flat_rate_shipping.shipping_rate_provider.flat_rate", "code": "standard",
                                       "name": "Standard", "amount": shipping})


def events(database, prefix: str = "") -> list[tuple[str, dict]]:
    with database.session() as session:
        rows = session.exec(select(OutboxEvent).order_by(OutboxEvent.occurred_at)).all()
    return [(row.type, row.payload) for row in rows if row.type.startswith(prefix)]


class StatementCounter:
    """Counts SQL statements the engine executes (an executemany counts once)."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        words = " ".join(statement.split()[:3]).upper()
        if "DEFINITION_REVISION" not in statement.upper():  # the live definitions' periodic freshness check
            self.statements.append(words)

    def batched(self, backend: str) -> list[str]:
        """The statements, with SQLite's row-at-a-time ORM inserts (no ordered RETURNING batches
        there) folded as PostgreSQL batches them."""
        if backend == "postgres":
            return list(self.statements)
        folded: list[str] = []
        for statement in self.statements:
            if not (folded and statement.startswith("INSERT") and folded[-1] == statement):
                folded.append(statement)
        return folded
