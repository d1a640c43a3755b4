"""Tax for a cart or a checkout: the channel's settings, the rate tables of the destination, the
pure calculation (``rules.tax``), and the channel's tax settings as data.

The destination is the shipping address (else the billing address); a cart with neither is not
taxed yet. Each line is taxed on what the buyer pays for it: its total less its discounts (the
promotions' per-line allocation, order-level discounts included), and shipping less its discount.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlmodel import Session, select

from rules.tax import Rate, TaxableLine, TaxResult, calculate
from rules.tax_jurisdictions import AddressError, Geography, Jurisdiction, parse_postal
from rules.tax_vat import reverse_charge
from runtime.channels.providers import providers
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.money import Money, minor_units
from runtime.tax import providers as tax_providers
from runtime.tax.models import ChannelTaxSettings, TaxJurisdiction, TaxRate

#: The core's provider: the imported rate tables.
TABLE_PROVIDER = "core.tax_provider.table"
ROUNDINGS = ("line", "total")
FAILURE_POLICIES = ("refuse", "fallback")
SHIPPING = "shipping"
TAX_PROVIDER_SLOT = "tax_provider"


class TaxErrorCode(str, Enum):
    #: setChannelTaxSettings: no channel with this slug.
    NOT_FOUND = "NOT_FOUND"
    #: The destination's country or region is not an ISO 3166 code (or the region is missing).
    TAX_ADDRESS_INVALID = "TAX_ADDRESS_INVALID"
    #: The channel's tax provider failed and its policy is to refuse.
    TAX_PROVIDER_FAILED = "TAX_PROVIDER_FAILED"
    #: setChannelTaxSettings: a value outside its choices.
    INVALID_TAX_SETTINGS = "INVALID_TAX_SETTINGS"


@dataclass(frozen=True)
class ChargeLine:
    """A line to tax, as the cart or checkout knows it."""

    id: str
    amount: Decimal
    quantity: int = 1
    tax_class: str = "standard"
    excise_category: str | None = None
    volume: Decimal = Decimal(0)
    weight: Decimal = Decimal(0)
    rule: str | None = None


@dataclass
class TaxQuote:
    result: TaxResult
    currency: str
    inclusive: bool
    provider: str = TABLE_PROVIDER
    jurisdictions: list[Jurisdiction] = field(default_factory=list)
    #: Why the provider's answer was replaced by the tables (fallback policy), if it was.
    fallback: str | None = None
    #: No address to tax at yet.
    unaddressed: bool = False

    @property
    def total(self) -> Money:
        return Money(self.result.total, self.currency)


def channel_settings(session: Session, channel_id: int) -> ChannelTaxSettings:
    """The channel's settings, or the defaults (exclusive, per line, refuse) when none were set."""
    return session.get(ChannelTaxSettings, channel_id) or ChannelTaxSettings(channel_id=channel_id)


def set_channel_settings(session: Session, channel_id: int, *, prices_include_tax: bool | None = None,
                         rounding: str | None = None, failure_policy: str | None = None,
                         seller_country: str | None = None) -> ChannelTaxSettings:
    problems = []
    if rounding is not None and rounding not in ROUNDINGS:
        problems.append(("rounding", f"rounding: expected one of {', '.join(ROUNDINGS)}, got {rounding!r}"))
    if failure_policy is not None and failure_policy not in FAILURE_POLICIES:
        problems.append(("failurePolicy", f"failurePolicy: expected one of {', '.join(FAILURE_POLICIES)}, "
                                          f"got {failure_policy!r}"))
    if seller_country is not None and (len(seller_country) != 2 or not seller_country.isalpha()):
        problems.append(("sellerCountry", f"sellerCountry: expected an ISO 3166-1 code like 'AT', got {seller_country!r}"))
    if problems:
        raise BusinessError(TaxErrorCode.INVALID_TAX_SETTINGS, problems[0][1], field=problems[0][0])
    settings = session.get(ChannelTaxSettings, channel_id) or ChannelTaxSettings(channel_id=channel_id)
    for name, value in (("prices_include_tax", prices_include_tax), ("rounding", rounding),
                        ("failure_policy", failure_policy),
                        ("seller_country", seller_country.upper() if seller_country else seller_country)):
        if value is not None:
            setattr(settings, name, value)
    settings.updated_at = utcnow()
    session.add(settings)
    session.flush()
    return settings


def _jurisdiction(row: TaxJurisdiction) -> Jurisdiction:
    return Jurisdiction(row.code, row.level, row.name, row.country, row.region, parse_postal(row.postal), row.city,
                        row.shipping_taxable)


def _rate(row: TaxRate) -> Rate:
    return Rate(str(row.id), row.jurisdiction_code, row.tax_class, row.rate, row.stage, row.compound,
                row.excise_unit, row.kind, row.valid_from, row.valid_to, row.name)


def tables(session: Session, country: str) -> tuple[Geography, list[Rate]]:
    """The jurisdictions and rates of one country (two statements)."""
    rows = session.exec(select(TaxJurisdiction).where(TaxJurisdiction.country == country)).all()
    codes = [row.code for row in rows]
    rates = session.exec(select(TaxRate).where(TaxRate.jurisdiction_code.in_(codes))).all() if codes else []
    return Geography([_jurisdiction(row) for row in rows]), [_rate(row) for row in rates]


def destination(shipping_address: Mapping[str, Any] | None, billing_address: Mapping[str, Any] | None):
    return shipping_address or billing_address or None


def quote(session: Session, *, channel_id: int, currency: str, address: Mapping[str, Any] | None,
          lines: Sequence[ChargeLine], shipping: Decimal | None, vat_number: str | None = None,
          day: date | None = None, field_name: str = "shippingAddress") -> TaxQuote:
    """Tax ``lines`` (and ``shipping``) delivered to ``address`` with the core's table provider."""
    settings = channel_settings(session, channel_id)
    inclusive = settings.prices_include_tax
    if not address:
        return TaxQuote(TaxResult(net={line.id: line.amount for line in lines}), currency, inclusive, unaddressed=True)
    country = str(address.get("country") or "").strip().upper()
    geography, rates = tables(session, country)
    try:
        jurisdictions = geography.resolve(address)
    except AddressError as exc:
        where = f"{field_name}.{exc.field.split('.', 1)[1]}"
        raise BusinessError(TaxErrorCode.TAX_ADDRESS_INVALID, f"{where}: {str(exc).split(': ', 1)[1]}",
                            field=where) from None
    taxable = [TaxableLine(line.id, line.amount, line.quantity, line.tax_class, line.excise_category, line.volume,
                           line.weight, line.rule) for line in lines]
    if shipping:
        taxable.append(TaxableLine(SHIPPING, shipping, is_shipping=True))
    fallback = None
    configured = providers(session, channel_id, TAX_PROVIDER_SLOT)
    if configured:
        request = tax_providers.request_of(address, [(t.id, t.amount, t.tax_class) for t in taxable], currency,
                                           vat_number, inclusive)
        try:
            result = tax_providers.calculate(configured[0], request, {t.id: t.amount for t in taxable},
                                             {t.id: t.tax_class for t in taxable}, {t.id: t.rule for t in taxable})
            return TaxQuote(result, currency, inclusive, provider=configured[0].key, jurisdictions=jurisdictions)
        except tax_providers.ProviderFailed as exc:
            if settings.failure_policy != "fallback":
                raise BusinessError(TaxErrorCode.TAX_PROVIDER_FAILED, f"cartId: the tax service failed ({exc}); "
                                    "try again later", field="cartId") from None
            fallback = str(exc)
    charge = reverse_charge(destination=country, seller=settings.seller_country, vat_number=vat_number)
    result = calculate(taxable, jurisdictions, rates, day=day or utcnow().date(), places=minor_units(currency),
                       allocate=_allocator(currency), inclusive=inclusive, per_total=settings.rounding == "total",
                       reverse_charge=charge)
    return TaxQuote(result, currency, inclusive, jurisdictions=jurisdictions, fallback=fallback)


def _allocator(currency: str):
    def allocate(total: Decimal, weights: Sequence[int]) -> list[Decimal]:
        return [part.amount for part in Money(total, currency).allocate(list(weights))]
    return allocate
