"""A channel's ``tax_provider`` (a pack's, ``setChannelProvider``) in place of the core's tables.

No provider configured: the tables (``core.tax_provider.table``). A provider that fails (raises,
times out, answers nonsense) is handled by the channel's ``failure_policy``: ``refuse`` the
checkout with ``TAX_PROVIDER_FAILED``, or ``fallback`` to the tables with the reason recorded
on the quote (and so on the order's pipeline notes).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from rules.tax import LineTax, TaxResult
from runtime.channels.providers import ConfiguredProvider
from runtime.money import Money
from runtime.packs.api import TaxableLine, TaxRequest

log = logging.getLogger(__name__)


class ProviderFailed(Exception):
    def __init__(self, provider: str, reason: str):
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


def request_of(address: Mapping[str, Any], lines: Sequence[tuple[str, Decimal, str]], currency: str,
               vat_number: str | None, inclusive: bool) -> TaxRequest:
    country = str(address.get("country") or "").upper()
    region = str(address.get("region") or "").upper() or None
    if region and not region.startswith(country + "-"):
        region = f"{country}-{region}"
    return TaxRequest(country=country, region=region, tax_id=vat_number,
                      postal_code=address.get("postal_code") or address.get("postalCode"), city=address.get("city"),
                      prices_include_tax=inclusive,
                      lines=tuple(TaxableLine(ref, Money(amount, currency), klass) for ref, amount, klass in lines))


def calculate(provider: ConfiguredProvider, request: TaxRequest, amounts: Mapping[str, Decimal],
              classes: Mapping[str, str], rules: Mapping[str, str | None]) -> TaxResult:
    """The provider's taxes as a :class:`TaxResult`, or :class:`ProviderFailed`."""
    try:
        answered = provider.value.calculate(request, provider.config)
    except Exception as exc:  # a pack's failure of any kind is the policy's to handle, never a 500
        reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        log.warning("tax provider %s failed: %s", provider.key, reason)
        raise ProviderFailed(provider.key, reason) from None
    result = TaxResult()
    for index, line in enumerate(answered):
        if line.reference not in amounts or line.amount.currency != request.lines[0].amount.currency:
            raise ProviderFailed(provider.key, f"answer line {index}: unknown reference or currency")
        result.lines.append(LineTax(line.reference, provider.key, "provider", line.name, line.rate, 1,
                                    classes.get(line.reference, "standard"), amounts[line.reference],
                                    line.amount.amount, rule=rules.get(line.reference)))
    result.total = sum((t.amount for t in result.lines), Decimal(0))
    taxes = {ref: sum((t.amount for t in result.lines if t.line_id == ref), Decimal(0)) for ref in amounts}
    result.net = {ref: amount - taxes[ref] if request.prices_include_tax else amount for ref, amount in amounts.items()}
    return result
