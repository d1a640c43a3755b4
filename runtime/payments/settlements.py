"""Applying what a gateway reported by webhook (:class:`~runtime.packs.api.SettlementUpdate`) to
the payment rows, on the ``payment_transaction`` machine.

Each update is idempotent on its own, because a gateway may send the same event again under a new
webhook id (the receipt table only catches the same id):

* a capture or refund is known by the gateway's id of the operation (``gateway_reference`` of the
  child row): one already recorded — by staff through the API, or by an earlier webhook — is
  confirmed, never recorded twice; its child row's idempotency key derives from that id, so two
  deliveries racing on PostgreSQL collide on the unique key and the retry sees the first;
* the other kinds are known by the state they lead to: an authorization already there is left.

An update the machine refuses (a capture of a voided authorization, a currency that is not the
payment's) changes nothing and is reported as ``ignored`` with why, for the receipt and the log:
the gateway has said its piece, and a person must look. An update naming an authorization this
pack never made is :class:`UnknownPayment`: nothing is recorded, so a later retry (the webhook
raced the checkout's commit) is applied.
"""
from __future__ import annotations

import hashlib
import logging
from decimal import Decimal

from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.errors import BusinessErrors
from runtime.money import Money
from runtime.orders.transitions import apply
from runtime.packs.api import PaymentResult, SettlementUpdate
from runtime.packs.registry import Registry
from runtime.payments.gateway import SLOT
from runtime.payments.models import PaymentTransaction
from runtime.payments.service import PARENT_TYPES, check_transition, record_operation
from runtime.state_machines.service import SystemActor

log = logging.getLogger(__name__)


class UnknownPayment(LookupError):
    """The update names an authorization no payment gateway of the pack made (or not yet committed)."""


def actor_for(pack: str) -> SystemActor:
    """Who moves payments on a pack's webhook: the machine's guards apply, permissions do not."""
    return SystemActor(f"webhook:{pack}")


def apply_updates(session: Session, registry: Registry, pack: str, updates: list[SettlementUpdate]) -> list[str]:
    """Apply each update in ``session``'s transaction; one outcome line per update."""
    gateways = [entry.key for entry in registry.entries(SLOT) if entry.pack == pack]
    return [apply_update(session, gateways, actor_for(pack), update) for update in updates]


def apply_update(session: Session, gateways: list[str], actor: SystemActor, update: SettlementUpdate) -> str:
    auth = _authorization(session, gateways, update.authorization)
    if update.amount is not None and update.amount.currency != auth.currency:
        return _ignored(auth, update, f"amount is in {update.amount.currency}, the payment in {auth.currency}")
    return _APPLY[update.kind](session, auth, actor, update)


def _authorization(session: Session, gateways: list[str], reference: str) -> PaymentTransaction:
    row = session.exec(select(PaymentTransaction).where(
        PaymentTransaction.gateway.in_(gateways), PaymentTransaction.gateway_reference == reference,
        PaymentTransaction.type.in_(PARENT_TYPES)).with_for_update()).first() if gateways else None
    if row is None:
        raise UnknownPayment(f"authorization: no payment made through this pack's gateway has id {reference!r}")
    return row


def _ignored(auth: PaymentTransaction, update: SettlementUpdate, why: str) -> str:
    log.warning("webhook %s for payment %s ignored: %s", update.kind, auth.id, why)
    return f"{update.kind} {update.operation or update.authorization}: ignored, {why}"


def _blocked(session: Session, auth: PaymentTransaction, update: SettlementUpdate, transition: str, actor,
             amount: Decimal | None) -> str | None:
    """Why the machine refuses ``transition`` now, or None: checked before anything is changed."""
    try:
        check_transition(session, auth, transition, actor, amount)
    except BusinessErrors as exc:
        return _ignored(auth, update, f"payment {auth.id} is {auth.state}: " + "; ".join(e.message for e in exc.errors))
    return None


def _move(session, auth, actor, update, transition: str, target: str) -> str:
    """``authorized``, ``failed``, ``expired``: a transition with no money of its own."""
    name = update.kind
    if auth.state == target:
        return f"{name} {update.authorization}: already {target}"
    held = auth.fraud_hold
    if transition == "authorize":
        auth.fraud_hold = False  # the gateway's review approved it: the machine's guard reads this
    refused = _blocked(session, auth, update, transition, actor, None)
    if refused:
        auth.fraud_hold = held
        return refused
    if transition == "fail":
        auth.error_code, auth.message = (update.code or None), (update.message or "")[:500] or None
    apply(session, auth, transition, actor)
    return f"{name} {update.authorization}: payment {auth.id} {auth.state}"


def _authorized(session, auth, actor, update) -> str:
    return _move(session, auth, actor, update, "authorize", "authorized")


def _failed(session, auth, actor, update) -> str:
    return _move(session, auth, actor, update, "fail", "failed")


def _expired(session, auth, actor, update) -> str:
    return _move(session, auth, actor, update, "expire_authorization", "authorization_expired")


def _child(session: Session, auth: PaymentTransaction, kind: str, operation: str) -> PaymentTransaction | None:
    return session.exec(select(PaymentTransaction).where(
        PaymentTransaction.parent_id == auth.id, PaymentTransaction.type == kind,
        PaymentTransaction.gateway_reference == operation)).first()


def _key(auth: PaymentTransaction, kind: str, operation: str) -> str:
    """The child row's idempotency key: one per (authorization, kind, gateway operation)."""
    return f"webhook:{auth.id}:{kind}:{hashlib.sha256(operation.encode()).hexdigest()[:40]}"


def _confirm(session: Session, child: PaymentTransaction, update: SettlementUpdate, word: str) -> str:
    if child.raw.get("confirmed_at"):
        return f"{update.kind} {update.operation}: already {word}"
    child.raw = {**child.raw, "confirmed_at": utcnow().isoformat()}  # a new dict: the JSON column sees it
    session.add(child)
    return f"{update.kind} {update.operation}: {word}"


def _result(update: SettlementUpdate) -> PaymentResult:
    raw = {"source": "webhook", "confirmed_at": utcnow().isoformat()}
    if update.code:
        raw["code"] = update.code
    if update.chargeback:
        raw["chargeback"] = True
    return PaymentResult(status="", transaction_id=update.operation, amount=update.amount, raw=raw)


def _settled(session, auth, actor, update) -> str:
    """A capture confirmed: one recorded here is marked settled; one made at the processor is captured."""
    remaining = auth.amount - auth.captured_amount
    transition = "capture" if update.amount.amount == remaining else "capture_partial"
    return _record(session, auth, actor, update, "capture", transition, remaining, "left to capture", "settled", "captured")


def _refunded(session, auth, actor, update) -> str:
    """A refund (or a lost chargeback) made at the processor, or one recorded here confirmed."""
    remaining = auth.captured_amount - auth.refunded_amount
    full = update.amount.amount == remaining and auth.captured_amount == auth.amount
    return _record(session, auth, actor, update, "refund", "refund" if full else "refund_partial", remaining,
                   "captured and not refunded", "refunded", "charged back" if update.chargeback else "refunded")


def _record(session, auth, actor, update, kind: str, transition: str, remaining: Decimal, room: str,
            confirmed: str, done: str) -> str:
    """A capture or refund row for the gateway's operation, once: confirmed when it exists already."""
    known = _child(session, auth, kind, update.operation)
    if known is not None:
        return _confirm(session, known, update, confirmed)
    value = update.amount.amount
    if value > remaining:
        return _ignored(auth, update, f"{_fmt(value, auth)} is more than the {_fmt(remaining, auth)} {room}")
    refused = _blocked(session, auth, update, transition, actor, value)
    if refused:
        return refused
    if kind == "capture":
        auth.captured_amount += value
    else:
        auth.refunded_amount += value
    child = record_operation(session, auth, actor, transition, kind, _key(auth, kind, update.operation), value,
                       _result(update), f"payment.{'captured' if kind == 'capture' else 'refunded'}")
    if update.chargeback:
        child.message = f"chargeback: {update.message or update.code or 'the card issuer took the money back'}"[:500]
        session.add(child)
    return f"{update.kind} {update.operation}: {done} {_fmt(value, auth)} {auth.currency} of payment {auth.id}"


def _voided(session, auth, actor, update) -> str:
    operation = update.operation or f"void-of-{update.authorization}"
    if auth.state == "voided" or _child(session, auth, "void", operation) is not None:
        return f"{update.kind} {update.authorization}: already voided"
    refused = _blocked(session, auth, update, "void", actor, None)
    if refused:
        return refused
    record_operation(session, auth, actor, "void", "void", _key(auth, "void", operation), auth.amount - auth.captured_amount,
               PaymentResult(status="", transaction_id=operation, amount=Money(auth.amount, auth.currency),
                             raw={"source": "webhook"}), None)
    return f"{update.kind} {update.authorization}: payment {auth.id} voided"


def _fmt(value: Decimal, auth: PaymentTransaction) -> str:
    return format(Money(value, auth.currency).amount, "f")


_APPLY = {"authorized": _authorized, "failed": _failed, "expired": _expired, "settled": _settled,
          "refunded": _refunded, "voided": _voided}
