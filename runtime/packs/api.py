"""The public extension API: the only module a pack imports.

    from runtime.packs.api import Money, PackContext, ShippingRate, ShippingRateRequest

Everything here is stable for pack authors; the rest of ``runtime`` may change without notice.
See ``docs/extensions.md``.
"""
from __future__ import annotations

from runtime.clock import utcnow
from runtime.db import after_rollback
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload
from runtime.jobs.periodic import PeriodicJob
from runtime.money import CurrencyMismatch, Money, minor_units
from runtime.packs.context import InstallContext, PackContext
from runtime.packs.http import post_json
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
    SettlementUpdate,
    SettlementWebhookHandler,
    WebhookPayloadError,
    ProviderErrorCode,
    ShippingRate,
    ShippingRateProvider,
    ShippingRateRequest,
    TaxableLine,
    TaxLine,
    TaxProvider,
    TaxRequest,
)
from runtime.tenders import ledger as stored_value
from runtime.tenders.errors import TenderErrorCode
from runtime.tenders.types import Authorized, TenderCall, TenderLeg, leg_key

__all__ = [
    "after_rollback",
    "post_json",
    "Authorized",
    "TenderCall",
    "TenderErrorCode",
    "TenderLeg",
    "context_of",
    "leg_key",
    "payload",
    "stored_value",
    "utcnow",
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
    "SettlementUpdate",
    "SettlementWebhookHandler",
    "WebhookPayloadError",
    "ShippingRate",
    "ShippingRateProvider",
    "ShippingRateRequest",
    "TaxLine",
    "TaxProvider",
    "TaxRequest",
    "TaxableLine",
    "minor_units",
]
