"""The public extension API: the only module a pack imports.

    from runtime.packs.api import Money, PackContext, ShippingRate, ShippingRateRequest

Everything here is stable for pack authors; the rest of ``runtime`` may change without notice.
See ``docs/extensions.md``.
"""
from __future__ import annotations

from runtime.errors import BusinessError
from runtime.jobs.periodic import PeriodicJob
from runtime.money import CurrencyMismatch, Money, minor_units
from runtime.packs.context import InstallContext, PackContext
from runtime.packs.manifest import Manifest
from runtime.state_machines.effects import Effect, EffectCall
from runtime.packs.protocols import (
    CartParseProvider,
    GraphQLExtension,
    ParsedLine,
    ParseResult,
    PaymentGateway,
    PaymentRequest,
    PaymentResult,
    ProviderError,
    ProviderErrorCode,
    ShippingRate,
    ShippingRateProvider,
    ShippingRateRequest,
    TaxableLine,
    TaxLine,
    TaxProvider,
    TaxRequest,
)

__all__ = [
    "PeriodicJob",
    "Effect",
    "EffectCall",
    "BusinessError",
    "CartParseProvider",
    "CurrencyMismatch",
    "GraphQLExtension",
    "InstallContext",
    "Manifest",
    "Money",
    "PackContext",
    "ParseResult",
    "ParsedLine",
    "PaymentGateway",
    "PaymentRequest",
    "PaymentResult",
    "ProviderError",
    "ProviderErrorCode",
    "ShippingRate",
    "ShippingRateProvider",
    "ShippingRateRequest",
    "TaxLine",
    "TaxProvider",
    "TaxRequest",
    "TaxableLine",
    "minor_units",
]
