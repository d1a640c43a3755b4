"""One small protocol per strategy kind a pack can provide, with the value objects they exchange.

Every strategy method receives the provider's ``config`` — the settings a merchant saved for it,
already valid against the JSON Schema the pack registered with it (``config_schema``). A provider
keeps no state of its own between calls. It reports a refusal the caller can act on by raising
:class:`ProviderError` (a :class:`~runtime.errors.BusinessError`) with a :class:`ProviderErrorCode`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from runtime.errors import BusinessError
from runtime.money import Money


class ProviderErrorCode(str, Enum):
    #: The saved configuration cannot be used (a bad amount, an unknown code).
    PROVIDER_CONFIG_INVALID = "PROVIDER_CONFIG_INVALID"
    #: Amounts of two currencies met (the order's and the configuration's).
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    #: The provider cannot serve this request (a country it does not ship to, a declined card).
    PROVIDER_DECLINED = "PROVIDER_DECLINED"
    #: The provider's remote service failed or did not answer; retrying may succeed.
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    #: A gateway saw an idempotency key again with a different request; nothing was done.
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    #: A gateway does not know the transaction id (or it belongs to another merchant account).
    PAYMENT_NOT_FOUND = "PAYMENT_NOT_FOUND"
    #: The transaction's state does not allow the operation (voiding captured money, capturing a voided one).
    PAYMENT_STATE_INVALID = "PAYMENT_STATE_INVALID"
    #: The amount is not positive, or above what remains to capture or refund.
    PAYMENT_AMOUNT_INVALID = "PAYMENT_AMOUNT_INVALID"


class ProviderError(BusinessError):
    """A refusal from a provider, carried to the caller as data."""

    def __init__(self, code: ProviderErrorCode, message: str, *, field: str | None = None, **params: Any):
        super().__init__(code, message, field=field, **params)


# --- payment gateways ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    #: The runtime's reference for what is paid (an order or payment id), stable across retries.
    reference: str
    amount: Money
    #: The gateway must return the earlier result, not charge twice, when it sees a key again.
    idempotency_key: str
    #: A token from the client-side tokenisation of the payment method, when the gateway needs one.
    payment_token: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentResult:
    #: ``authorized``, ``captured``, ``refunded``, ``voided``, ``pending`` or ``failed``; after a
    #: partial capture or refund, ``partially_captured`` or ``partially_refunded``. The status is
    #: the authorization's state after the call, named as in the ``payment_transaction`` state
    #: machine; ``pending`` is an authorization held for the gateway's fraud review.
    status: str
    #: The gateway's id of the transaction, kept to capture, refund or void it later.
    transaction_id: str
    amount: Money
    #: The gateway's own code and message when ``status`` is ``failed``.
    error_code: str | None = None
    message: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class PaymentGateway(Protocol):
    """Moves money. Every call is idempotent by ``idempotency_key``."""

    def authorize(self, request: PaymentRequest, config: dict[str, Any]) -> PaymentResult: ...

    def capture(self, transaction_id: str, amount: Money, idempotency_key: str, config: dict[str, Any]) -> PaymentResult: ...

    def refund(self, transaction_id: str, amount: Money, idempotency_key: str, config: dict[str, Any]) -> PaymentResult: ...

    def void(self, transaction_id: str, idempotency_key: str, config: dict[str, Any]) -> PaymentResult: ...


# --- shipping rates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippingRateRequest:
    #: ISO 3166-1 alpha-2 code of the destination (``"DE"``).
    country: str
    #: Value of the goods shipped, in the order's currency.
    subtotal: Money
    #: Total weight in grams, when the catalog knows it.
    weight_grams: int | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class ShippingRate:
    #: Stable code the customer's choice is saved under (``"standard"``).
    code: str
    #: Human name shown at checkout (``"Standard (3-5 days)"``).
    name: str
    amount: Money


@runtime_checkable
class ShippingRateProvider(Protocol):
    """Prices delivery: the rates a customer may choose from, cheapest first."""

    def quote(self, request: ShippingRateRequest, config: dict[str, Any]) -> list[ShippingRate]: ...


# --- taxes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxableLine:
    #: The caller's reference for the line (a cart line id, ``"shipping"``).
    reference: str
    #: Net amount of the line after discounts.
    amount: Money
    #: Product tax class (``"standard"``, ``"reduced"``); ``None`` means the standard class.
    tax_class: str | None = None


@dataclass(frozen=True)
class TaxRequest:
    country: str
    lines: tuple[TaxableLine, ...]
    region: str | None = None
    #: The buyer's tax id, for reverse charge between businesses.
    tax_id: str | None = None
    postal_code: str | None = None
    city: str | None = None
    #: The line amounts contain the tax (a VAT-inclusive channel): the provider extracts it.
    prices_include_tax: bool = False


@dataclass(frozen=True)
class TaxLine:
    reference: str
    #: Human name of the tax (``"VAT 19%"``).
    name: str
    rate: Decimal
    amount: Money


@runtime_checkable
class TaxProvider(Protocol):
    """Computes taxes per line; a line may carry several taxes, or none."""

    def calculate(self, request: TaxRequest, config: dict[str, Any]) -> list[TaxLine]: ...


# --- free-text parse-to-cart --------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedLine:
    sku: str
    quantity: int
    #: The text this line was read from, shown back to the buyer.
    source: str
    #: A package slug of the product's ladder (None: base units).
    package: str | None = None
    #: How sure the provider is, 0 to 1.
    confidence: float = 1.0
    #: Where ``source`` sits in the text given (character offsets), when the provider knows.
    start: int | None = None
    end: int | None = None
    #: Other SKUs the text could mean (an ambiguous name).
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParseResult:
    lines: tuple[ParsedLine, ...]
    #: Pieces of the text that could not be read, each with the reason.
    unparsed: tuple[str, ...] = ()


@runtime_checkable
class CartParseProvider(Protocol):
    """Reads free text (a pasted order, an e-mail) into SKUs and quantities for a cart."""

    def parse(self, text: str, config: dict[str, Any]) -> ParseResult: ...


# --- GraphQL ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphQLExtension:
    """SDL (``extend type Query { … }``) and the Ariadne bindables that resolve it."""

    sdl: str
    bindables: tuple[Any, ...] = ()


# --- incoming settlement webhooks ---------------------------------------------------------------

#: What a gateway's webhook may report about an authorization, each a move of the
#: ``payment_transaction`` machine: ``authorized`` (its fraud review approved; ``authorize``),
#: ``failed`` (declined after all; ``fail``), ``settled`` (a capture confirmed; ``capture`` or
#: ``capture_partial`` when the capture was made at the processor), ``voided`` (``void``),
#: ``expired`` (``expire_authorization``) and ``refunded`` (``refund``/``refund_partial``, a lost
#: chargeback included).
SETTLEMENT_KINDS = ("authorized", "failed", "settled", "voided", "expired", "refunded")
#: Kinds that name an operation (a capture, a refund) and its amount.
_WITH_AMOUNT = ("settled", "refunded")
MAX_REFERENCE = 128


@dataclass(frozen=True)
class SettlementUpdate:
    """One fact a gateway reported, in the runtime's words. Applying it twice (the gateway sent the
    same event again under another webhook id) changes nothing the second time: captures and
    refunds are known by ``operation``, the other kinds by the state they lead to."""

    kind: str
    #: The gateway's id of the authorization (the ``transaction_id`` its ``authorize`` answered).
    authorization: str
    #: The gateway's id of the capture, refund, dispute or void reported.
    operation: str | None = None
    amount: Money | None = None
    #: The gateway's code and message (a decline, a dispute's reason).
    code: str | None = None
    message: str | None = None
    #: A refund the card's bank forced (a lost dispute), not one the merchant made.
    chargeback: bool = False

    def __post_init__(self) -> None:
        if self.kind not in SETTLEMENT_KINDS:
            raise ValueError(f"kind: expected one of {', '.join(SETTLEMENT_KINDS)}, got {self.kind!r}")
        for name in ("authorization", "operation"):
            value = getattr(self, name)
            if (value is not None or name == "authorization") and not (
                    isinstance(value, str) and 0 < len(value) <= MAX_REFERENCE):
                raise ValueError(f"{name}: expected the gateway's id, 1 to {MAX_REFERENCE} characters, got {value!r}")
        if self.kind in _WITH_AMOUNT:
            if self.operation is None:
                raise ValueError(f"operation: a {self.kind} update names the gateway's id of the operation")
            if not isinstance(self.amount, Money) or not self.amount.amount > 0:
                raise ValueError(f"amount: a {self.kind} update carries a positive Money amount, got {self.amount!r}")


class WebhookPayloadError(ValueError):
    """A payload the pack cannot read; its message, starting with the field, is answered with HTTP 400."""


@runtime_checkable
class SettlementWebhookHandler(Protocol):
    """Reads a gateway's webhook payload (already signature-checked, decoded JSON) into updates;
    touches nothing itself. Raises :class:`WebhookPayloadError` for a payload it cannot read."""

    def parse(self, payload: Any) -> list[SettlementUpdate]: ...
