"""Price resolution through the service API on both backends: the five levels, tiers, schedules,
channel restriction, currency conversion, ties, and a statement budget that does not grow."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from sqlalchemy import event

from runtime.accounts.models import Account, CustomerGroup, Location
from runtime.auth.permissions import Actor
from runtime.catalog.models import Product, ProductVariant
from runtime.channels import rates
from runtime.channels.service import create_channel
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.money import Money
from runtime.pricing import service
from runtime.pricing.models import PriceLevel
from runtime.pricing.types import PriceContext


@dataclass
class World:
    web: int
    b2b: int
    group: int
    account: int
    location: int
    variants: list[ProductVariant]

    @property
    def buyer(self) -> Actor:
        return Actor(user_id=1, customer_group_id=self.group, account_id=self.account, location_id=self.location,
                     employee_id=1)


def make_variants(session, count: int, *, prefix: str = "BOLT", base: str = "10.00") -> list[ProductVariant]:
    product = Product(slug=f"{prefix.lower()}-product", name=f"{prefix} product")
    session.add(product)
    session.flush()
    variants = [ProductVariant(product_id=product.id, sku=f"{prefix}-{i}", name=f"{prefix} {i}",
                               base_price=Decimal(base), base_currency="EUR") for i in range(count)]
    session.add_all(variants)
    session.flush()
    return variants


def build_world(database, variant_count: int = 1) -> World:
    def work(session):
        web = create_channel(session, slug="web", name="Web", commerce_mode="B2C", default_currency="EUR",
                             currencies=["EUR", "USD", "JPY"])
        b2b = create_channel(session, slug="b2b", name="B2B", commerce_mode="B2B", default_currency="EUR")
        group = CustomerGroup(slug="wholesale", name="Wholesale")
        session.add(group)
        session.flush()
        account = Account(slug="acme", name="ACME", customer_group_id=group.id)
        session.add(account)
        session.flush()
        location = Location(account_id=account.id, code="VIE", name="Vienna")
        session.add(location)
        session.flush()
        variants = make_variants(session, variant_count)
        return World(web.id, b2b.id, group.id, account.id, location.id, variants)

    return database.run(work)


SCOPE = {
    "CHANNEL": lambda w: {"channel_slug": "web"},
    "CUSTOMER_GROUP": lambda w: {"customer_group_slug": "wholesale"},
    "ACCOUNT": lambda w: {"account_id": w.account},
    "LOCATION": lambda w: {"location_id": w.location},
}


def add_list(database, world: World, level: str, slug: str, entries: list[tuple[str, int, str]], *,
             currency: str = "EUR", **fields) -> int:
    """A price list of ``level`` scoped to the world's buyer, with ``(sku, min_quantity, price)`` entries."""
    def work(session):
        scope = {**SCOPE[level](world), **fields}
        price_list = service.create_price_list(session, slug=slug, name=slug.title(), level=level, currency=currency,
                                               **scope)
        service.set_price_list_entries(session, price_list.id,
                                       [{"sku": s, "min_quantity": q, "price": p} for s, q, p in entries])
        return price_list.id

    return database.run(work)


def context(world: World, actor: Actor | None = None, *, channel: str = "web", currency: str = "EUR", at=None) -> PriceContext:
    return PriceContext(currency=currency, at=at or utcnow(), channel_id=world.web if channel == "web" else world.b2b,
                        customer_group_id=(actor or world.buyer).customer_group_id,
                        account_id=(actor or world.buyer).account_id, location_id=(actor or world.buyer).location_id)


def price_of(database, ctx: PriceContext, variant: ProductVariant, quantity: int = 1):
    with database.session() as session:
        return service.resolve_prices(session, ctx, [(variant, quantity)]).get(variant.id)


def summary(price) -> tuple:
    return (str(price.unit_price), price.level.value, price.price_list_slug, price.min_quantity)


# --- the five levels ----------------------------------------------------------------------------

LEVEL_PRICES = [("CHANNEL", "9.00"), ("CUSTOMER_GROUP", "8.00"), ("ACCOUNT", "7.00"), ("LOCATION", "6.00")]


def test_without_lists_the_base_price_applies(database):
    world = build_world(database)
    price = price_of(database, context(world), world.variants[0], 3)
    assert summary(price) == ("10.00 EUR", "BASE", None, 1)
    assert (price.price_list_id, str(price.base_price), str(price.line_total)) == (None, "10.00 EUR", "30.00 EUR")
    assert [(q, str(m)) for q, m in price.tiers] == [(1, "10.00 EUR")]


@pytest.mark.parametrize("winner", [level for level, _ in LEVEL_PRICES])
def test_each_level_wins_over_every_less_specific_level(database, winner):
    # given lists on the winning level and on every less specific level
    world = build_world(database)
    sku = world.variants[0].sku
    expected = None
    for level, amount in LEVEL_PRICES:
        add_list(database, world, level, f"{level.lower().replace('_', '-')}-list", [(sku, 1, amount)])
        expected = amount
        if level == winner:
            break
    # when the buyer asks
    price = price_of(database, context(world), world.variants[0])
    # then the most specific level's price wins
    assert summary(price) == (f"{expected} EUR", winner, f"{winner.lower().replace('_', '-')}-list", 1)
    assert price.price_list_name == f"{winner.lower().replace('_', '-')}-list".title()


def test_a_buyer_without_the_scope_gets_the_next_level(database):
    world = build_world(database)
    sku = world.variants[0].sku
    for level, amount in LEVEL_PRICES:
        add_list(database, world, level, level.lower().replace("_", "-"), [(sku, 1, amount)])
    b2c = Actor(user_id=2, customer_id=1, customer_group_id=world.group)
    assert summary(price_of(database, context(world, b2c), world.variants[0])) == (
        "8.00 EUR", "CUSTOMER_GROUP", "customer-group", 1)
    guest = Actor()
    assert summary(price_of(database, context(world, guest), world.variants[0])) == ("9.00 EUR", "CHANNEL", "channel", 1)


def test_a_list_without_an_entry_for_the_variant_falls_through(database):
    world = build_world(database, 2)
    first, second = world.variants
    add_list(database, world, "CHANNEL", "web-prices", [(first.sku, 1, "9.00"), (second.sku, 1, "19.00")])
    add_list(database, world, "LOCATION", "contract", [(first.sku, 1, "6.00")])
    with database.session() as session:
        prices = service.resolve_prices(session, context(world), [(first, 1), (second, 1)])
    assert summary(prices[first.id]) == ("6.00 EUR", "LOCATION", "contract", 1)
    assert summary(prices[second.id]) == ("19.00 EUR", "CHANNEL", "web-prices", 1)


# --- volume tiers -------------------------------------------------------------------------------

def test_volume_tiers_pick_the_largest_minimum_quantity_reached(database):
    world = build_world(database)
    variant = world.variants[0]
    add_list(database, world, "ACCOUNT", "acme-tiers",
             [(variant.sku, 1, "9.00"), (variant.sku, 10, "8.50"), (variant.sku, 50, "8.00")])
    ctx = context(world)
    assert summary(price_of(database, ctx, variant, 1)) == ("9.00 EUR", "ACCOUNT", "acme-tiers", 1)
    assert summary(price_of(database, ctx, variant, 10)) == ("8.50 EUR", "ACCOUNT", "acme-tiers", 10)
    assert summary(price_of(database, ctx, variant, 49)) == ("8.50 EUR", "ACCOUNT", "acme-tiers", 10)
    fifty = price_of(database, ctx, variant, 50)
    assert summary(fifty) == ("8.00 EUR", "ACCOUNT", "acme-tiers", 50)
    assert str(fifty.line_total) == "400.00 EUR"
    assert [(q, str(m)) for q, m in fifty.tiers] == [(1, "9.00 EUR"), (10, "8.50 EUR"), (50, "8.00 EUR")]


def test_a_list_whose_first_tier_is_not_reached_falls_through(database):
    world = build_world(database)
    variant = world.variants[0]
    add_list(database, world, "CHANNEL", "web-prices", [(variant.sku, 1, "9.00")])
    add_list(database, world, "LOCATION", "bulk-contract", [(variant.sku, 100, "5.00")])
    assert summary(price_of(database, context(world), variant, 99)) == ("9.00 EUR", "CHANNEL", "web-prices", 1)
    assert summary(price_of(database, context(world), variant, 100)) == ("5.00 EUR", "LOCATION", "bulk-contract", 100)


def test_a_quantity_below_one_is_refused(database):
    world = build_world(database)
    with pytest.raises(BusinessError) as exc:
        price_of(database, context(world), world.variants[0], 0)
    assert (exc.value.code, exc.value.field, exc.value.message) == (
        "INVALID_QUANTITY", "quantity", "quantity: expected 1 or more, got 0")


# --- schedules ----------------------------------------------------------------------------------

def test_a_list_valid_from_tomorrow_applies_only_from_tomorrow(database, frozen_clock):
    world = build_world(database)
    variant = world.variants[0]
    tomorrow = utcnow() + timedelta(days=1)
    add_list(database, world, "CUSTOMER_GROUP", "spring-sale", [(variant.sku, 1, "7.50")], valid_from=tomorrow)
    assert summary(price_of(database, context(world), variant)) == ("10.00 EUR", "BASE", None, 1)
    frozen_clock.advance(days=1)
    assert summary(price_of(database, context(world), variant)) == ("7.50 EUR", "CUSTOMER_GROUP", "spring-sale", 1)


def test_valid_until_is_exclusive(database, frozen_clock):
    world = build_world(database)
    variant = world.variants[0]
    end = utcnow() + timedelta(hours=2)
    add_list(database, world, "CHANNEL", "flash", [(variant.sku, 1, "5.00")], valid_from=utcnow(), valid_until=end)
    assert summary(price_of(database, context(world), variant)) == ("5.00 EUR", "CHANNEL", "flash", 1)
    frozen_clock.advance(hours=2, seconds=-1)
    assert summary(price_of(database, context(world), variant)) == ("5.00 EUR", "CHANNEL", "flash", 1)
    frozen_clock.advance(seconds=1)
    assert summary(price_of(database, context(world), variant)) == ("10.00 EUR", "BASE", None, 1)


def test_an_inactive_list_does_not_apply(database):
    world = build_world(database)
    variant = world.variants[0]
    list_id = add_list(database, world, "ACCOUNT", "acme", [(variant.sku, 1, "7.00")])
    database.run(lambda s: service.update_price_list(s, list_id, is_active=False))
    assert summary(price_of(database, context(world), variant)) == ("10.00 EUR", "BASE", None, 1)


# --- channel restriction and currencies -----------------------------------------------------------

def test_a_list_restricted_to_a_channel_applies_only_there(database):
    world = build_world(database)
    variant = world.variants[0]
    add_list(database, world, "CUSTOMER_GROUP", "wholesale-b2b", [(variant.sku, 1, "8.00")], channel_slug="b2b")
    assert summary(price_of(database, context(world, channel="web"), variant)) == ("10.00 EUR", "BASE", None, 1)
    assert summary(price_of(database, context(world, channel="b2b"), variant)) == (
        "8.00 EUR", "CUSTOMER_GROUP", "wholesale-b2b", 1)


def test_a_channel_list_applies_only_in_its_channel(database):
    world = build_world(database)
    variant = world.variants[0]
    add_list(database, world, "CHANNEL", "web-prices", [(variant.sku, 1, "9.00")])
    assert summary(price_of(database, context(world, channel="b2b"), variant)) == ("10.00 EUR", "BASE", None, 1)


def test_the_base_price_is_converted_at_the_rate_of_the_time(database, frozen_clock):
    # given a EUR base price and a list in EUR only
    world = build_world(database)
    variant = world.variants[0]
    add_list(database, world, "CHANNEL", "web-prices", [(variant.sku, 1, "9.00")])
    database.run(lambda s: rates.set_rate(s, "EUR", "USD", "1.0834", utcnow() - timedelta(days=1)))
    database.run(lambda s: rates.set_rate(s, "EUR", "USD", "1.2000", utcnow() + timedelta(days=1)))
    # when a USD price is asked, then the EUR list does not apply and the base is converted (10.834 → 10.83)
    price = price_of(database, context(world, currency="USD"), variant, 2)
    assert summary(price) == ("10.83 USD", "BASE", None, 1)
    assert (str(price.base_price), str(price.line_total)) == ("10.00 EUR", "21.66 USD")
    frozen_clock.advance(days=2)
    assert summary(price_of(database, context(world, currency="USD"), variant)) == ("12.00 USD", "BASE", None, 1)


def test_a_list_in_the_asked_currency_beats_the_converted_base(database):
    world = build_world(database)
    variant = world.variants[0]
    add_list(database, world, "CHANNEL", "web-usd", [(variant.sku, 1, "11.50")], currency="USD")
    assert summary(price_of(database, context(world, currency="USD"), variant)) == ("11.50 USD", "CHANNEL", "web-usd", 1)


def test_without_an_exchange_rate_there_is_no_price(database):
    world = build_world(database)
    assert price_of(database, context(world, currency="JPY"), world.variants[0]) is None


# --- ties within a level --------------------------------------------------------------------------

def test_within_a_level_priority_then_lower_price_then_lower_id_wins(database):
    world = build_world(database)
    sku = world.variants[0].sku
    add_list(database, world, "CUSTOMER_GROUP", "cheap", [(sku, 1, "7.00")])
    add_list(database, world, "CUSTOMER_GROUP", "preferred", [(sku, 1, "8.00")], priority=5)
    assert summary(price_of(database, context(world), world.variants[0])) == (
        "8.00 EUR", "CUSTOMER_GROUP", "preferred", 1)
    add_list(database, world, "CUSTOMER_GROUP", "cheaper-preferred", [(sku, 1, "7.90")], priority=5)
    assert summary(price_of(database, context(world), world.variants[0])) == (
        "7.90 EUR", "CUSTOMER_GROUP", "cheaper-preferred", 1)
    add_list(database, world, "CUSTOMER_GROUP", "a-same-price", [(sku, 1, "7.90")], priority=5)
    assert summary(price_of(database, context(world), world.variants[0])) == (
        "7.90 EUR", "CUSTOMER_GROUP", "cheaper-preferred", 1)


# --- statement budget -----------------------------------------------------------------------------

def count_statements(database, work) -> int:
    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", listener)
    try:
        work()
    finally:
        event.remove(database.engine, "before_cursor_execute", listener)
    return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])


def test_pricing_5_or_50_variants_costs_the_same_two_statements(database):
    world = build_world(database, 50)
    add_list(database, world, "CHANNEL", "web-prices", [(v.sku, 1, "9.00") for v in world.variants[::2]])
    add_list(database, world, "LOCATION", "contract", [(v.sku, 5, "6.00") for v in world.variants[::3]])
    database.run(lambda s: rates.set_rate(s, "EUR", "USD", "1.1", utcnow() - timedelta(days=1)))
    counts = {}
    for n in (5, 50):
        def work(n=n):
            with database.session() as session:
                prices = service.resolve_prices(session, context(world, currency="USD"),
                                                [(v, 5) for v in world.variants[:n]])
            assert len(prices) == n
        counts[n] = count_statements(database, work)
    assert counts == {5: 2, 50: 2}


# --- price_context ----------------------------------------------------------------------------------

def test_price_context_takes_the_channel_default_currency_and_the_buyer_ids(database, frozen_clock):
    world = build_world(database)
    with database.session() as session:
        from runtime.channels.models import Channel

        web = session.get(Channel, world.web)
    ctx = service.price_context(world.buyer, web, base_currency="EUR")
    assert ctx == PriceContext(currency="EUR", at=utcnow(), channel_id=world.web, customer_group_id=world.group,
                               account_id=world.account, location_id=world.location)
    assert service.price_context(Actor(), None, base_currency="EUR", currency="EUR").channel_id is None
    with pytest.raises(BusinessError) as exc:
        service.price_context(Actor(), web, base_currency="EUR", currency="GBP")
    assert (exc.value.code, exc.value.field, exc.value.message) == (
        "UNSUPPORTED_CURRENCY", "currency", "currency: channel 'web' does not sell in GBP (supported: EUR, USD, JPY)")
    with pytest.raises(BusinessError) as exc:
        service.price_context(Actor(), None, base_currency="EUR", currency="USD")
    assert exc.value.message == "currency: the store (no channel) does not sell in USD (supported: EUR)"


# --- property: the most specific level with an applicable entry wins --------------------------------

LEVEL_ORDER = ["CHANNEL", "CUSTOMER_GROUP", "ACCOUNT", "LOCATION"]


def test_the_winning_level_is_the_most_specific_one_with_an_applicable_entry(database):
    # given 16 variants: variant i has entries on the levels of the bits of i (tiers from 1 and 5)
    world = build_world(database, 16)
    for bit, level in enumerate(LEVEL_ORDER):
        entries = [(v.sku, q, f"{9 - bit}.{q:02d}") for i, v in enumerate(world.variants) if i >> bit & 1 for q in (1, 5)]
        add_list(database, world, level, f"list-{bit}", entries)

    @hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scopes=st.lists(st.booleans(), min_size=4, max_size=4), quantity=st.integers(1, 8))
    def check(scopes, quantity):
        ctx = PriceContext(currency="EUR", at=utcnow(),
                           channel_id=world.web if scopes[0] else None,
                           customer_group_id=world.group if scopes[1] else None,
                           account_id=world.account if scopes[2] else None,
                           location_id=world.location if scopes[3] else None)
        with database.session() as session:
            prices = service.resolve_prices(session, ctx, [(v, quantity) for v in world.variants])
        for i, variant in enumerate(world.variants):
            applicable = [bit for bit in range(4) if i >> bit & 1 and scopes[bit]]
            tier = 5 if quantity >= 5 else 1
            if applicable:
                bit = max(applicable)
                expected = (f"{9 - bit}.{tier:02d} EUR", LEVEL_ORDER[bit], f"list-{bit}", tier)
            else:
                expected = ("10.00 EUR", "BASE", None, 1)
            assert summary(prices[variant.id]) == expected

    check()


def test_money_of_a_price_is_exact(database):
    world = build_world(database)
    variant = world.variants[0]
    add_list(database, world, "CHANNEL", "web-prices", [(variant.sku, 1, "0.10")])
    price = price_of(database, context(world), variant, 3)
    assert price.unit_price == Money("0.10", "EUR") and price.line_total == Money("0.30", "EUR")
    assert price.level is PriceLevel.CHANNEL
