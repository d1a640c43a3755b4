"""The ``tender_type`` slot: what a kind of tender (card, store credit, net terms, a pack's gift
card) does at checkout. One small protocol, registered by name; the composer and the checkout
stages know nothing else about a type.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from flask import Flask
from sqlmodel import Session

from runtime.errors import BusinessError
from runtime.money import Money
from runtime.packs.registry import Registry, Slot
from runtime.tenders.errors import TenderErrorCode

#: The registry slot of tender types.
TENDER_TYPE = "tender_type"


@dataclass
class TenderCall:
    """Who pays, in which channel, for what: handed to every tender type call."""

    session: Session
    app: Flask
    channel: Any
    actor: Any
    cart: Any
    #: ``order:<cart id>:<client key>``: stable across retries of one placeOrder.
    reference: str
    #: The channel captures at checkout (``AUTHORIZE_AND_CAPTURE``).
    capture: bool = False
    #: What tender types learnt during this checkout (a locked account and its balance), so
    #: authorising does not read again what composing the split just read under the same lock.
    memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.cart.currency


@dataclass(frozen=True)
class TenderLeg:
    position: int
    type: str
    amount: Money
    source: str
    #: What :meth:`TenderType.prepare` returned for the buyer's input (or ``{}`` for a cascade step).
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def field(self) -> str:
        return f"tenders[{self.position}]"


@dataclass(frozen=True)
class Authorized:
    """A leg's money, held: ``status`` as the ``payment_transaction`` machine names it
    (``authorized``, ``pending`` for a fraud review, ``captured``)."""

    status: str
    #: The registry key of what holds it (a gateway, ``core.tender_type.store_credit``).
    gateway: str
    #: The unique idempotency key of the authorisation (``PaymentTransaction.idempotency_key``).
    key: str
    reference: str | None
    raw: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    message: str | None = None
    #: The capture's reference and key when captured at checkout.
    capture_reference: str | None = None
    due_at: datetime | None = None
    saved_payment_method_id: int | None = None
    #: The ledger entries / reservation to link to the order once it exists.
    links: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class TenderType(Protocol):
    def prepare(self, session: Session, actor: Any, cart: Any, value: dict[str, Any], field: str) -> dict[str, Any]:
        """Check the buyer's input for a tender of this type (``setCartTenders``) and return what
        to keep on the cart (never a bearer code in clear); refuse with a BusinessError naming ``field``."""

    def available(self, call: TenderCall, details: dict[str, Any]) -> Decimal | None:
        """How much this tender can cover now (a balance, open credit); None: anything."""

    def authorize(self, call: TenderCall, leg: TenderLeg) -> Authorized:
        """Hold ``leg.amount``; refuse with a BusinessError naming ``leg.field``."""

    def link(self, session: Session, order: Any, authorized: Authorized) -> None:
        """The order exists now: point what :meth:`authorize` wrote at it."""

    def undo(self, session: Session, order: Any, payment: Any, undo: Undo) -> str | None:
        """Give the leg's money back (``undo.kind``: ``void`` an uncaptured hold, ``refund`` what was
        captured), idempotently by ``undo.key``; returns the reference of what did it."""

    # Optional, looked up with getattr (a type without them refuses the operation as data):
    #
    # ``capture(session, order, payment, amount: Money, key) -> str`` — staff ``capturePayment``
    # of a leg no gateway holds: spend ``amount`` of the hold, idempotently by ``key``; returns the
    # capture's reference (and may point ``payment.gateway_reference`` at what holds the rest).
    #
    # ``adjust(session, order, payment, amount: Money, key, field) -> str | PaymentTransaction`` —
    # ``modifyOrder``: hold ``amount`` instead; returns the new reference (internal tenders) or the
    # authorisation row now backing the leg (a card); refuses with a BusinessError naming ``field``.


@dataclass(frozen=True)
class Undo:
    """One undo of a leg: ``void`` or ``refund`` of ``amount``, keyed so a retry repeats nothing."""

    kind: str
    amount: Money
    key: str


def _check(value: Any) -> None:
    missing = [name for name in ("prepare", "available", "authorize", "link", "undo")
               if not callable(getattr(value, name, None))]
    if missing:
        raise TypeError(f"expected a TenderType (prepare, available, authorize, link, undo); {type(value).__name__} lacks "
                        f"{', '.join(missing)}")


SLOT = Slot(TENDER_TYPE, "A kind of tender: prepare, available, authorize, link, undo (runtime.tenders.types.TenderType).",
            _check)


def declare_slot(registry: Registry) -> None:
    if TENDER_TYPE not in registry.slots:
        registry.declare_slot(SLOT)


def tender_types(app: Flask) -> dict[str, Any]:
    """Name → registered tender type (the first registration of a name wins)."""
    registry: Registry = app.extensions["vectis.registry"]
    found: dict[str, Any] = {}
    if TENDER_TYPE in registry.slots:
        for entry in registry.entries(TENDER_TYPE):
            found.setdefault(entry.name, entry)
    return found


def tender_type(app: Flask, name: str, field: str) -> Any:
    """The registry entry of tender type ``name``, or UNKNOWN_TENDER_TYPE naming ``field``."""
    found = tender_types(app)
    if name not in found:
        known = ", ".join(sorted(found))
        raise BusinessError(TenderErrorCode.UNKNOWN_TENDER_TYPE, f"{field}: unknown tender type {name!r} (known: {known})",
                            field=field, type=name)
    return found[name]


def leg_key(call: TenderCall, leg: TenderLeg) -> str:
    """The unique key of a leg's authorisation: the checkout's reference, the leg's position and type."""
    reference = call.reference if len(call.reference) <= 100 else hashlib.sha256(call.reference.encode()).hexdigest()[:40]
    return f"tender:{reference}:t{leg.position}:{leg.type}"
