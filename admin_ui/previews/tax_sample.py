"""The ``tax_rule`` preview's sample, read from the editor's form and checked: every problem at
once, each starting with the form field at fault (never an exception, never a write).

Either ``tax_cart_rows`` (``SKU quantity`` per line, priced in the channel for the buyer today,
live promotions applied, no coupon codes) or ``tax_cart_id`` (a cart's number as the preview lists recent
carts, or its id as GraphQL shows it: its lines, discounts, buyer, shipping and address). The ship-to fields, when a country is given, replace the cart's
address; ``tax_at`` (a date, or a time with a zone) is the moment rules' schedules and rates'
validity are read at (default: now).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

from rules.label import parse_time
from rules.tax_jurisdictions import ISO_COUNTRIES
from sqlalchemy import func, select
from sqlmodel import Session

from admin_ui.previews import buyers
from admin_ui.previews.mmoq_cap import parse_rows
from runtime.carts.lines import cart_lines
from runtime.carts.models import Cart, CartLine
from runtime.catalog.models import Product, ProductVariant
from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.money import AmountError, parse_decimal
from runtime.pricing.service import resolve_prices
from runtime.pricing.types import PriceContext
from runtime.promotions import service as promotions
from runtime.promotions.facts import Buyer, PricedLine
from runtime.tax.service import destination
from runtime.tax.stage import vat_number

#: The inputs that make a sample (one of them is needed for a preview).
CART_FIELDS = ("tax_cart_rows", "tax_cart_id")
#: The lookup's address fields → the form's.
ADDRESS_FIELDS = {"address.country": "ship_country", "address.region": "ship_region"}
#: A sample cart has at most this many rows (a preview, not a bulk import); a row's quantity is
#: bounded by ``parse_rows`` as a cart line's is.
SAMPLE_MAX_LINES = 100
#: How many recent carts the preview offers.
RECENT_CARTS = 10
#: Postal code forms where a country has one fixed form; anywhere else 2 to 10 letters, digits,
#: spaces or dashes. Where local taxes are located by postal code, one is required.
POSTAL_FORMS = {"US": (r"\d{5}(-\d{4})?", "5 digits (or ZIP+4)"), "DE": (r"\d{5}", "5 digits"),
                "FR": (r"\d{5}", "5 digits"), "AT": (r"\d{4}", "4 digits"), "NL": (r"\d{4} ?[A-Z]{2}", "like 1012 AB"),
                "CA": (r"[A-Z]\d[A-Z] ?\d[A-Z]\d", "like K1A 0B1")}
POSTAL_REQUIRED = frozenset({"US"})
_POSTAL_ANY = re.compile(r"^[A-Z0-9][A-Z0-9 \-]{1,9}$")


@dataclass(frozen=True)
class SampleLine:
    """A line as :func:`runtime.tax.stage.charge_lines` reads a cart line."""

    id: str
    variant_id: int
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass
class Sample:
    channel: Channel
    currency: str
    buyer: Buyer
    buyer_label: str
    tax_id: str | None
    address: dict[str, str]
    lines: list[SampleLine]
    #: variant id → (variant, product)
    variants: dict[int, tuple[Any, Any]]
    priced: promotions.Priced
    shipping: Decimal | None
    at: datetime
    cart_token: str | None = None
    priced_lines: list[PricedLine] = field(default_factory=list)


def read(app, session: Session, form) -> Sample | list[str]:
    """The checked sample, or the list of problems."""
    rows_text, cart_id = form.get("tax_cart_rows", "").strip(), form.get("tax_cart_id", "").strip()
    problems: list[str] = []
    at = _moment(form.get("tax_at", ""), problems)
    shipping = _shipping(form.get("tax_shipping", ""), problems)
    typed = _address(form, problems)
    if rows_text and cart_id:
        return ["tax_cart_id: give sample rows or a cart's id, not both"] + problems
    if cart_id:
        sample = _from_cart(app, session, cart_id, typed, shipping, at, problems)
    else:
        sample = _from_rows(app, session, form, rows_text, typed, shipping, at, problems)
    return problems if problems or sample is None else sample


def _moment(text: str, problems: list[str]) -> datetime:
    text = text.strip()
    if not text:
        return utcnow()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:  # a day: its noon in UTC, clear of schedules that open at a local midnight
            return datetime.combine(date.fromisoformat(text), time(12), tzinfo=timezone.utc)
        except ValueError:
            pass
    found = parse_time(text)
    if found is None:
        problems.append(f"tax_at: expected a date like 2027-08-07 or a time with a zone like "
                        f"2027-08-07T12:00:00-07:00, got {text!r}")
        return utcnow()
    return found


def _shipping(text: str, problems: list[str]) -> Decimal | None:
    if not text.strip():
        return None
    try:
        amount = parse_decimal(text.strip(), "tax_shipping")
    except AmountError as exc:
        problems.append(str(exc))
        return None
    if amount < 0:
        problems.append(f"tax_shipping: expected 0 or more, got {text.strip()!r}")
        return None
    return amount


def _address(form, problems: list[str]) -> dict[str, str] | None:
    """The typed ship-to address (None when no country is typed); the country and the postal
    code are checked here, the region by the jurisdiction lookup."""
    country = form.get("ship_country", "").strip().upper()
    region, city = form.get("ship_region", "").strip().upper(), form.get("ship_city", "").strip()
    postal = form.get("ship_postal_code", "").strip().upper()
    if not country:
        if region or postal or city:
            problems.append("ship_country: required with a region, postal code or city")
        return None
    if country not in ISO_COUNTRIES:
        problems.append(f"ship_country: {country!r} is not an ISO 3166-1 country code")
        return None
    problem = postal_problem(country, postal)
    if problem:
        problems.append(f"ship_postal_code: {problem}")
    address = {"country": country, "region": region, "postal_code": postal, "city": city}
    return {key: value for key, value in address.items() if value}


def postal_problem(country: str, postal: str) -> str | None:
    if not postal:
        return f"required: local taxes in {country} are located by postal code" if country in POSTAL_REQUIRED else None
    pattern, described = POSTAL_FORMS.get(country, (None, None))
    if pattern is not None and not re.fullmatch(pattern, postal):
        return f"{postal!r} is not a postal code of {country} ({described})"
    if not _POSTAL_ANY.match(postal):
        return f"{postal!r} is not a postal code (2 to 10 letters, digits, spaces or dashes)"
    return None


def _variants(session: Session, where) -> list[tuple[Any, Any]]:
    """(variant, product) pairs; variants are looked up whether or not the channel lists them."""
    return [tuple(row) for row in session.execute(
        select(ProductVariant, Product).join(Product, Product.id == ProductVariant.product_id).where(where)).all()]


def _from_rows(app, session: Session, form, text: str, address, shipping, at, problems) -> Sample | None:
    channel = buyers.channel(session, form.get("tax_channel", "").strip(), "tax_channel")
    who = buyers.buyer(session, form.get("tax_buyer", "").strip(), "tax_buyer")
    for found in (channel, who):
        if isinstance(found, str):
            problems.append(found)
    rows = parse_rows(text)
    if len(rows) > SAMPLE_MAX_LINES:
        problems.append(f"tax_cart_rows: at most {SAMPLE_MAX_LINES} lines in a sample cart, got {len(rows)}")
        return None
    if address is None and not form.get("ship_country", "").strip():
        problems.append("ship_country: required (the address the sample is shipped to)")
    skus = sorted({row.sku for row in rows if row.error is None})
    variants = {v.sku: (v, p) for v, p in _variants(session, ProductVariant.sku.in_(skus))} if skus else {}
    for row in rows:
        if row.error:
            problems.append(f"tax_cart_rows: {row.error}")
        elif row.sku not in variants:
            problems.append(f"tax_cart_rows: line {row.line}: no variant with SKU {row.sku!r}")
    if problems:
        return None
    currency = channel.default_currency
    context = PriceContext(currency, utcnow(), channel.id, who.group_id, who.buyer.account_id)
    prices = resolve_prices(session, context, [(variants[row.sku][0], row.quantity) for row in rows])
    lines = []
    for row in rows:
        variant = variants[row.sku][0]
        if variant.id not in prices:
            problems.append(f"tax_cart_rows: line {row.line}: {row.sku} has no price in {currency} in channel "
                            f"{channel.slug}")
            continue
        unit = prices[variant.id].unit_price.amount
        lines.append(SampleLine(str(row.line), variant.id, row.quantity, unit, unit * row.quantity))
    if problems:
        return None
    priced_lines = [PricedLine(line.id, line.variant_id, line.quantity, line.unit_price) for line in lines]
    priced = promotions.price(session, app, channel=channel, currency=currency, lines=priced_lines, buyer=who.buyer,
                              shipping=shipping or Decimal(0))
    return Sample(channel, currency, who.buyer, form.get("tax_buyer", "").strip() or "a guest", who.tax_id, address,
                  lines, {v.id: (v, p) for v, p in variants.values()}, priced, shipping, at,
                  priced_lines=priced_lines)


def recent_carts(session: Session, limit: int = RECENT_CARTS) -> list[dict[str, Any]]:
    """The newest carts with lines, by number (a cart's token is its guest's key: never listed)."""
    rows = session.execute(select(Cart.id, Cart.state, Cart.currency, Cart.shipping_address, Cart.billing_address,
                                  Cart.updated_at, func.count(CartLine.id))
                           .join(CartLine, CartLine.cart_id == Cart.id).group_by(Cart.id)
                           .order_by(Cart.updated_at.desc(), Cart.id.desc()).limit(limit)).all()
    return [{"id": row[0], "state": row[1], "currency": row[2], "lines": row[6], "updated_at": row[5],
             "ships_to": ", ".join((_stored_address(destination(row[3], row[4])) or {}).values())} for row in rows]


def _find_cart(session: Session, text: str) -> Cart | None:
    """A cart by its number (as :func:`recent_carts` lists it) or its id (the token GraphQL shows)."""
    if text.isdigit() and len(text) <= 18:
        return session.get(Cart, int(text))
    return session.execute(select(Cart).where(Cart.token == text)).scalar_one_or_none()


def _from_cart(app, session: Session, token: str, typed, shipping, at, problems) -> Sample | None:
    cart = _find_cart(session, token)
    if cart is None:
        problems.append(f"tax_cart_id: no cart {token!r}")
        return None
    rows = cart_lines(session, cart)
    if not rows:
        problems.append(f"tax_cart_id: the cart {token!r} has no lines")
    address = typed or _stored_address(destination(cart.shipping_address, cart.billing_address))
    if address is None:
        problems.append("ship_country: the cart has no address yet; type the one to tax at")
    elif typed is None and (problem := postal_problem(address["country"], address.get("postal_code", ""))):
        problems.append(f"ship_postal_code: the cart's address: {problem}")
    if problems:
        return None
    channel = session.get(Channel, cart.channel_id)
    if shipping is None and cart.shipping_method:
        shipping = Decimal(cart.shipping_total)
    lines = [SampleLine(str(r.id), r.variant_id, r.quantity, Decimal(r.unit_price), Decimal(r.line_total)) for r in rows]
    variants = {v.id: (v, p) for v, p in _variants(session, ProductVariant.id.in_(sorted({r.variant_id for r in rows})))}
    priced = promotions.price_cart(session, app, cart, rows, shipping=shipping, channel=channel)
    buyer = promotions.buyer_of(cart)
    label = cart.email or (f"account {cart.account_id}" if cart.account_id else "a guest")
    priced_lines = promotions.priced_lines(rows)
    return Sample(channel, cart.currency, buyer, label, vat_number(session, cart), address, lines, variants, priced,
                  shipping, at, token, priced_lines)


def _stored_address(address) -> dict[str, str] | None:
    """A cart's address snapshot in the lookup's form (country, region, postal code, city)."""
    if not address or not str(address.get("country") or "").strip():
        return None
    found = {"country": str(address.get("country")).strip().upper(),
             "region": str(address.get("region") or "").strip().upper(),
             "postal_code": str(address.get("postal_code") or address.get("postalCode") or "").strip().upper(),
             "city": str(address.get("city") or "").strip()}
    return {key: value for key, value in found.items() if value}
