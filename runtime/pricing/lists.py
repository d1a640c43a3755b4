"""Create and change price lists and their entries (``pricing.manage``).

Validators collect every problem before answering, and nothing is written on a refusal.
A list has one level and exactly that level's scope: a channel (CHANNEL), a customer group
(CUSTOMER_GROUP), an account (ACCOUNT) or a location (LOCATION); any level may in addition be
restricted to one channel.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, delete, select

from runtime.accounts.models import Account, CustomerGroup, Location
from runtime.catalog.models import ProductVariant
from runtime.channels.models import Channel
from runtime.channels.precision import require_precision
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import Money
from runtime.pricing.errors import PricingErrorCode as Code
from runtime.pricing.models import PriceLevel, PriceList, PriceListEntry

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 64
NAME_MAX = 200

#: The input field that carries each list level's scope.
SCOPE_FIELDS = {
    PriceLevel.CHANNEL: "channelSlug",
    PriceLevel.CUSTOMER_GROUP: "customerGroupSlug",
    PriceLevel.ACCOUNT: "accountId",
    PriceLevel.LOCATION: "locationId",
}

#: Fields :func:`update_price_list` accepts; level, currency and scope never change (they decide
#: which buyers a list's entries reach, and in which currency the entries were checked).
UPDATABLE = ("name", "valid_from", "valid_until", "priority", "is_active")


def as_id(value: int | str | None) -> int | None:
    """A database id from an int or a decimal string; anything else matches no row (-1)."""
    if value is None or isinstance(value, int):
        return value
    return int(value) if str(value).isdecimal() else -1


def _window_problems(valid_from: datetime | None, valid_until: datetime | None) -> list[BusinessError]:
    problems = []
    for value, field in ((valid_from, "validFrom"), (valid_until, "validUntil")):
        if value is not None and value.tzinfo is None:
            problems.append(BusinessError(Code.INVALID_DATE, f"{field}: expected a time with a zone, like 2026-01-15T12:00:00Z",
                                          field=field))
    if not problems and valid_from is not None and valid_until is not None and valid_until <= valid_from:
        problems.append(BusinessError(
            Code.INVALID_WINDOW,
            f"validUntil: {valid_until.isoformat()} must be after validFrom {valid_from.isoformat()} (validUntil is exclusive)",
            field="validUntil"))
    return problems


def _name_problem(name: object) -> BusinessError | None:
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        return BusinessError(Code.INVALID_NAME, f"name: expected 1 to {NAME_MAX} characters", field="name")
    return None


def _scope(session: Session, level: PriceLevel | None, given: dict[str, Any],
           problems: list[BusinessError]) -> dict[str, Any]:
    """The list's scope columns from the given scope fields; problems are appended."""
    columns: dict[str, Any] = {"channel_id": None, "customer_group_id": None, "account_id": None, "location_id": None}
    own = SCOPE_FIELDS.get(level) if level is not None else None
    if own is not None and given[own] is None:
        problems.append(BusinessError(Code.INVALID_SCOPE, f"{own}: a price list of level {level.value} needs one", field=own))
    for field in ("customerGroupSlug", "accountId", "locationId"):
        if given[field] is not None and level is not None and field != own:
            problems.append(BusinessError(
                Code.INVALID_SCOPE, f"{field}: a price list of level {level.value} is scoped by {own} only", field=field))
    lookups = (
        ("channelSlug", "channel_id", "channel", lambda v: session.exec(select(Channel).where(Channel.slug == v)).first()),
        ("customerGroupSlug", "customer_group_id", "customer group",
         lambda v: session.exec(select(CustomerGroup).where(CustomerGroup.slug == v)).first()),
        ("accountId", "account_id", "account", lambda v: session.get(Account, as_id(v))),
        ("locationId", "location_id", "location", lambda v: session.get(Location, as_id(v))),
    )
    for field, column, noun, find in lookups:
        if given[field] is None:
            continue
        row = find(given[field])
        if row is None:
            problems.append(BusinessError(Code.NOT_FOUND, f"{field}: no {noun} {given[field]!r}",
                                          field=field))
        else:
            columns[column] = row.id
            if column == "channel_id":
                columns["channel"] = row
    return columns


def create_price_list(session: Session, *, slug: str, name: str, level: str | PriceLevel, currency: str,
                      channel_slug: str | None = None, customer_group_slug: str | None = None,
                      account_id: int | str | None = None, location_id: int | str | None = None,
                      valid_from: datetime | None = None, valid_until: datetime | None = None,
                      priority: int = 0, is_active: bool = True) -> PriceList:
    """A new price list (without entries: add them with :func:`set_price_list_entries`)."""
    problems: list[BusinessError] = []
    if not isinstance(slug, str) or len(slug) > SLUG_MAX or not SLUG.match(slug):
        problems.append(BusinessError(
            Code.INVALID_SLUG,
            f"slug: {slug!r} is not a slug: use lower-case letters, digits and single hyphens, at most {SLUG_MAX} characters",
            field="slug"))
    elif session.exec(select(PriceList.id).where(PriceList.slug == slug)).first() is not None:
        problems.append(BusinessError(Code.DUPLICATE_SLUG, f"slug: a price list {slug!r} already exists", field="slug"))
    problems.append(_name_problem(name))
    level_value = level.value if isinstance(level, PriceLevel) else level
    list_level = PriceLevel(level_value) if level_value in SCOPE_FIELDS else None
    if list_level is None:
        problems.append(BusinessError(
            Code.INVALID_LEVEL, f"level: expected one of {', '.join(l.value for l in SCOPE_FIELDS)}, got {level_value!r}",
            field="level"))
    currency_ok = isinstance(currency, str) and bool(re.fullmatch(r"[A-Z]{3}", currency))
    if not currency_ok:
        problems.append(BusinessError(Code.INVALID_CURRENCY,
                                      f"currency: expected a three-letter ISO 4217 code like 'EUR', got {currency!r}",
                                      field="currency"))
    given = {"channelSlug": channel_slug, "customerGroupSlug": customer_group_slug,
             "accountId": account_id, "locationId": location_id}
    columns = _scope(session, list_level, given, problems)
    channel = columns.pop("channel", None)
    if channel is not None and currency_ok and currency not in channel.currencies:
        problems.append(BusinessError(
            Code.UNSUPPORTED_CURRENCY,
            f"currency: channel {channel.slug!r} does not sell in {currency} (supported: {', '.join(channel.currencies)})",
            field="currency"))
    problems.extend(_window_problems(valid_from, valid_until))
    problems = [p for p in problems if p is not None]
    if problems:
        raise BusinessErrors(problems)
    price_list = PriceList(slug=slug, name=name, level=list_level.value, currency=currency, valid_from=valid_from,
                           valid_until=valid_until, priority=priority, is_active=is_active, **columns)
    session.add(price_list)
    session.flush()
    return price_list


def get_price_list(session: Session, price_list_id: int | str, field: str = "id") -> PriceList:
    price_list = session.get(PriceList, as_id(price_list_id))
    if price_list is None:
        raise BusinessError(Code.NOT_FOUND, f"{field}: no price list {price_list_id!r}", field=field)
    return price_list


def list_price_lists(session: Session, level: str | PriceLevel | None = None) -> list[PriceList]:
    statement = select(PriceList).order_by(PriceList.level, PriceList.slug)
    if level is not None:
        statement = statement.where(PriceList.level == (level.value if isinstance(level, PriceLevel) else level))
    return list(session.exec(statement))


def update_price_list(session: Session, price_list_id: int | str, **changes: Any) -> PriceList:
    """Change the given fields (``None`` leaves a field as it is) and validate the result whole."""
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise TypeError(f"update_price_list: unknown fields {unknown}")
    price_list = get_price_list(session, price_list_id)
    values = {key: getattr(price_list, key) for key in UPDATABLE}
    values.update({key: value for key, value in changes.items() if value is not None})
    problems = [p for p in [_name_problem(values["name"]), *_window_problems(values["valid_from"], values["valid_until"])] if p]
    if problems:
        raise BusinessErrors(problems)
    for key, value in values.items():
        setattr(price_list, key, value)
    session.add(price_list)
    session.flush()
    return price_list


def _entry_problems(entries: Sequence[dict[str, Any]], currency: str, variants: dict[str, int],
                    ) -> tuple[list[BusinessError], list[tuple[int, int, Money]]]:
    problems: list[BusinessError] = []
    rows: list[tuple[int, int, Money]] = []
    seen: set[tuple[str, int]] = set()
    for i, entry in enumerate(entries):
        sku, min_quantity = entry["sku"], entry.get("min_quantity", 1)
        ok = True
        if sku not in variants:
            problems.append(BusinessError(Code.NOT_FOUND, f"entries.{i}.sku: no variant with SKU {sku!r}",
                                          field=f"entries.{i}.sku"))
            ok = False
        if not isinstance(min_quantity, int) or min_quantity < 1:
            problems.append(BusinessError(Code.INVALID_QUANTITY, f"entries.{i}.minQuantity: expected 1 or more, got {min_quantity}",
                                          field=f"entries.{i}.minQuantity"))
            ok = False
        elif (sku, min_quantity) in seen:
            problems.append(BusinessError(Code.DUPLICATE_ENTRY,
                                          f"entries.{i}.minQuantity: SKU {sku!r} from {min_quantity} is given twice",
                                          field=f"entries.{i}.minQuantity"))
            ok = False
        seen.add((sku, min_quantity))
        field = f"entries.{i}.price"
        try:
            price = require_precision(entry["price"], currency, field)
        except BusinessError as exc:  # the channels helper's code, under this domain's enum of the same name
            problems.append(BusinessError(Code(exc.code), exc.message, field=field))
            continue
        if price.amount < 0:
            problems.append(BusinessError(Code.INVALID_AMOUNT, f"{field}: a price cannot be negative, got {entry['price']}",
                                          field=field))
        elif ok:
            rows.append((variants[sku], min_quantity, price))
    return problems, rows


def set_price_list_entries(session: Session, price_list_id: int | str,
                           entries: Sequence[dict[str, Any]]) -> list[PriceListEntry]:
    """Replace the list's entries (every tier) of the SKUs named in ``entries`` with ``entries``.

    Each entry is ``{"sku", "min_quantity" (default 1), "price"}``; the price is a decimal string
    or ``Decimal`` with no more decimals than the list's currency has. SKUs not named keep
    their entries. Returns the new entries, by SKU order given then quantity.
    """
    price_list = get_price_list(session, price_list_id, field="priceListId")
    skus = sorted({e["sku"] for e in entries if isinstance(e.get("sku"), str)})
    variants = dict(session.exec(select(ProductVariant.sku, ProductVariant.id).where(ProductVariant.sku.in_(skus))).all()) \
        if skus else {}
    problems, rows = _entry_problems(entries, price_list.currency, variants)
    if price_list.channel_id is not None:
        channel = session.get(Channel, price_list.channel_id)
        if price_list.currency not in channel.currencies:
            problems.append(BusinessError(
                Code.UNSUPPORTED_CURRENCY,
                f"priceListId: the list's channel {channel.slug!r} no longer sells in {price_list.currency}",
                field="priceListId"))
    if problems:
        raise BusinessErrors(problems)
    variant_ids = sorted({variant_id for variant_id, _, _ in rows})
    if variant_ids:
        session.exec(delete(PriceListEntry).where(PriceListEntry.price_list_id == price_list.id,
                                                  PriceListEntry.variant_id.in_(variant_ids)))
    created = [PriceListEntry(price_list_id=price_list.id, variant_id=variant_id, min_quantity=q, price=price.amount)
               for variant_id, q, price in rows]
    session.add_all(created)
    session.flush()
    return created
