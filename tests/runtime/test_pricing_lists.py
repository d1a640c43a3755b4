"""Price list management through the service API: every problem at once, nothing written on refusal."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlmodel import select

from runtime.errors import BusinessError, BusinessErrors
from runtime.pricing import service
from runtime.pricing.models import PriceList, PriceListEntry
from tests.runtime.test_pricing import add_list, build_world, make_variants

JAN = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)


def problems(exc_info) -> list[tuple[str, str, str]]:
    errors = getattr(exc_info.value, "errors", [exc_info.value])
    return [(e.code, e.field, e.message) for e in errors]


def stored(database) -> tuple[list, list]:
    with database.session() as session:
        lists = [(p.slug, p.level, p.currency) for p in session.exec(select(PriceList).order_by(PriceList.id))]
        entries = [(e.price_list_id, e.variant_id, e.min_quantity, e.price)
                   for e in session.exec(select(PriceListEntry).order_by(PriceListEntry.id))]
    return lists, entries


def test_a_price_list_is_created_with_its_scope(database):
    world = build_world(database)
    created = database.run(lambda s: service.create_price_list(
        s, slug="acme-vienna", name="ACME Vienna contract", level="LOCATION", currency="EUR",
        location_id=str(world.location), channel_slug="web", valid_from=JAN, valid_until=JAN + timedelta(days=30),
        priority=3))
    assert (created.slug, created.level, created.location_id, created.channel_id, created.account_id,
            created.customer_group_id, created.priority, created.is_active) == (
        "acme-vienna", "LOCATION", world.location, world.web, None, None, 3, True)
    assert (created.valid_from, created.valid_until) == (JAN, JAN + timedelta(days=30))


def test_every_problem_of_a_new_list_is_reported_at_once_and_nothing_is_written(database):
    world = build_world(database)
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.create_price_list(
            s, slug="Bad Slug", name=" ", level="ACCOUNT", currency="usd", customer_group_slug="wholesale",
            channel_slug="nowhere", valid_from=JAN, valid_until=JAN))
    assert problems(exc) == [
        ("INVALID_SLUG", "slug", "slug: 'Bad Slug' is not a slug: use lower-case letters, digits and single hyphens, at most 64 characters"),
        ("INVALID_NAME", "name", "name: expected 1 to 200 characters"),
        ("INVALID_CURRENCY", "currency", "currency: expected a three-letter ISO 4217 code like 'EUR', got 'usd'"),
        ("INVALID_SCOPE", "accountId", "accountId: a price list of level ACCOUNT needs one"),
        ("INVALID_SCOPE", "customerGroupSlug", "customerGroupSlug: a price list of level ACCOUNT is scoped by accountId only"),
        ("NOT_FOUND", "channelSlug", "channelSlug: no channel 'nowhere'"),
        ("INVALID_WINDOW", "validUntil",
         "validUntil: 2026-01-15T12:00:00+00:00 must be after validFrom 2026-01-15T12:00:00+00:00 (validUntil is exclusive)"),
    ]
    assert stored(database) == ([], [])
    assert world.account


def test_unknown_scope_ids_and_an_unsupported_currency_are_refused(database):
    world = build_world(database)
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.create_price_list(s, slug="x", name="X", level="LOCATION", currency="GBP",
                                                         location_id="999", channel_slug="web"))
    assert problems(exc) == [
        ("NOT_FOUND", "locationId", "locationId: no location '999'"),
        ("UNSUPPORTED_CURRENCY", "currency", "currency: channel 'web' does not sell in GBP (supported: EUR, USD, JPY)"),
    ]
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.create_price_list(s, slug="x", name="X", level="BASE", currency="EUR"))
    assert problems(exc) == [
        ("INVALID_LEVEL", "level", "level: expected one of CHANNEL, CUSTOMER_GROUP, ACCOUNT, LOCATION, got 'BASE'")]
    assert stored(database) == ([], [])
    assert world.location


def test_a_duplicate_slug_is_refused(database):
    world = build_world(database)
    add_list(database, world, "CHANNEL", "web-prices", [])
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.create_price_list(s, slug="web-prices", name="Again", level="CHANNEL",
                                                         currency="EUR", channel_slug="web"))
    assert problems(exc) == [("DUPLICATE_SLUG", "slug", "slug: a price list 'web-prices' already exists")]
    assert stored(database) == ([("web-prices", "CHANNEL", "EUR")], [])


def test_entries_with_too_many_decimals_are_refused_for_eur_and_jpy(database):
    world = build_world(database)
    sku = world.variants[0].sku
    eur = add_list(database, world, "CHANNEL", "web-eur", [(sku, 1, "9.00")])
    jpy = add_list(database, world, "CHANNEL", "web-jpy", [], currency="JPY")
    before = stored(database)
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.set_price_list_entries(
            s, eur, [{"sku": sku, "min_quantity": 1, "price": "9.50"}, {"sku": sku, "min_quantity": 10, "price": "12.345"}]))
    assert problems(exc) == [
        ("TOO_MANY_DECIMALS", "entries.1.price", "entries.1.price: 12.345 has more decimals than EUR allows (2)")]
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.set_price_list_entries(s, jpy, [{"sku": sku, "min_quantity": 1, "price": "1.5"}]))
    assert problems(exc) == [
        ("TOO_MANY_DECIMALS", "entries.0.price", "entries.0.price: 1.5 has more decimals than JPY allows (0)")]
    assert stored(database) == before


def test_every_entry_problem_is_reported_at_once(database):
    world = build_world(database)
    sku = world.variants[0].sku
    list_id = add_list(database, world, "ACCOUNT", "acme", [(sku, 1, "7.00")])
    before = stored(database)
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.set_price_list_entries(s, list_id, [
            {"sku": "NOPE", "min_quantity": 1, "price": "1.00"},
            {"sku": sku, "min_quantity": 0, "price": "1.00"},
            {"sku": sku, "min_quantity": 5, "price": "-1.00"},
            {"sku": sku, "min_quantity": 5, "price": "abc"},
            {"sku": sku, "min_quantity": 7, "price": "2.00"},
            {"sku": sku, "min_quantity": 7, "price": "2.10"},
        ]))
    assert problems(exc) == [
        ("NOT_FOUND", "entries.0.sku", "entries.0.sku: no variant with SKU 'NOPE'"),
        ("INVALID_QUANTITY", "entries.1.minQuantity", "entries.1.minQuantity: expected 1 or more, got 0"),
        ("INVALID_AMOUNT", "entries.2.price", "entries.2.price: a price cannot be negative, got -1.00"),
        ("DUPLICATE_ENTRY", "entries.3.minQuantity", "entries.3.minQuantity: SKU 'BOLT-0' from 5 is given twice"),
        ("INVALID_AMOUNT", "entries.3.price", "entries.3.price: amount: 'abc' is not a decimal number"),
        ("DUPLICATE_ENTRY", "entries.5.minQuantity", "entries.5.minQuantity: SKU 'BOLT-0' from 7 is given twice"),
    ]
    assert stored(database) == before


def test_entries_replace_the_named_skus_tiers_only(database):
    world = build_world(database)
    extra = database.run(lambda s: make_variants(s, 1, prefix="NUT", base="1.00"))[0]
    bolt = world.variants[0]
    list_id = add_list(database, world, "ACCOUNT", "acme",
                       [(bolt.sku, 1, "7.00"), (bolt.sku, 10, "6.50"), (extra.sku, 1, "0.90")])
    written = database.run(lambda s: service.set_price_list_entries(
        s, list_id, [{"sku": bolt.sku, "min_quantity": 1, "price": "7.20"}, {"sku": bolt.sku, "min_quantity": 100, "price": "6"}]))
    assert [(e.variant_id, e.min_quantity, e.price) for e in written] == [
        (bolt.id, 1, Decimal("7.20")), (bolt.id, 100, Decimal("6.00"))]
    _, entries = stored(database)
    assert sorted((v, q, p) for _, v, q, p in entries) == [
        (bolt.id, 1, Decimal("7.20")), (bolt.id, 100, Decimal("6.00")), (extra.id, 1, Decimal("0.90"))]


def test_entries_of_an_unknown_list_are_refused(database):
    build_world(database)
    with pytest.raises(BusinessError) as exc:
        database.run(lambda s: service.set_price_list_entries(s, 404, []))
    assert problems(exc) == [("NOT_FOUND", "priceListId", "priceListId: no price list 404")]


def test_an_update_keeps_the_window_valid_and_changes_nothing_on_refusal(database):
    world = build_world(database)
    list_id = database.run(lambda s: service.create_price_list(
        s, slug="sale", name="Sale", level="CHANNEL", currency="EUR", channel_slug="web",
        valid_from=JAN, valid_until=JAN + timedelta(days=7))).id
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.update_price_list(s, list_id, name="", valid_until=JAN - timedelta(days=1)))
    assert problems(exc) == [
        ("INVALID_NAME", "name", "name: expected 1 to 200 characters"),
        ("INVALID_WINDOW", "validUntil",
         "validUntil: 2026-01-14T12:00:00+00:00 must be after validFrom 2026-01-15T12:00:00+00:00 (validUntil is exclusive)"),
    ]
    updated = database.run(lambda s: service.update_price_list(s, list_id, priority=9, name="Big sale"))
    assert (updated.name, updated.priority, updated.valid_until) == ("Big sale", 9, JAN + timedelta(days=7))
    assert world.web
