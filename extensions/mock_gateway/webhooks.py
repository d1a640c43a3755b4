"""The mock processor's settlement webhooks, read into the runtime's settlement updates.

The sandbox processor sends one event per webhook, signed per Standard Webhooks::

    {"id": "evt_1", "type": "capture.settled",
     "data": {"authorization_id": "mock_auth_000001", "id": "mock_cap_000002", "amount": "10.00", "currency": "EUR"}}

=========================  ======================================  =========================
``type``                   ``data`` besides ``authorization_id``   update
=========================  ======================================  =========================
``authorization.approved``                                         ``authorized``
``authorization.declined`` ``code``, ``message`` (optional)        ``failed``
``authorization.voided``   ``id`` (optional)                       ``voided``
``authorization.expired``                                          ``expired``
``capture.settled``        ``id``, ``amount``, ``currency``        ``settled``
``refund.succeeded``       ``id``, ``amount``, ``currency``        ``refunded``
``dispute.lost``           ``id``, ``amount``, ``currency``,       ``refunded`` (chargeback)
                           ``reason`` (optional)
=========================  ======================================  =========================

Other event types are acknowledged and change nothing, as a receiver should treat events it does
not act on. The payload is only read here; the runtime applies the updates.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from runtime.packs.api import Money, SettlementUpdate, WebhookPayloadError, minor_units

KINDS = {
    "authorization.approved": "authorized",
    "authorization.declined": "failed",
    "authorization.voided": "voided",
    "authorization.expired": "expired",
    "capture.settled": "settled",
    "refund.succeeded": "refunded",
    "dispute.lost": "refunded",
}
_WITH_AMOUNT = ("capture.settled", "refund.succeeded", "dispute.lost")
_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_AMOUNT = re.compile(r"[0-9]{1,14}(?:\.([0-9]+))?")
_CURRENCY = re.compile(r"[A-Z]{3}")


def review_event(gateway, transaction_id: str, approve: bool, config: dict[str, Any]) -> dict[str, Any]:
    """The sandbox processor's side of a fraud review: decide it (``MockGateway.resolve_review``)
    and return the event the processor then sends, for a demo or a test to sign and post."""
    result = gateway.resolve_review(transaction_id, approve, config)
    data: dict[str, Any] = {"authorization_id": transaction_id}
    if result.status == "failed":
        data.update(code=result.error_code, message=result.message)
    return {"type": "authorization.approved" if result.status == "authorized" else "authorization.declined", "data": data}


class MockSettlementWebhooks:
    """The ``settlement_webhook`` slot's value for the mock gateway."""

    def parse(self, payload: Any) -> list[SettlementUpdate]:
        if not isinstance(payload, dict):
            raise WebhookPayloadError("body: expected a JSON object with type and data")
        event_type = payload.get("type")
        if not isinstance(event_type, str) or not event_type:
            raise WebhookPayloadError("type: expected the event type, e.g. \"capture.settled\"")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise WebhookPayloadError("data: expected an object")
        kind = KINDS.get(event_type)
        if kind is None:
            return []
        authorization = _id(data, "authorization_id", required=True)
        operation = _id(data, "id", required=event_type in _WITH_AMOUNT)
        amount = _money(data) if event_type in _WITH_AMOUNT else None
        code = _text(data, "code", 64)
        message = _text(data, "reason" if event_type == "dispute.lost" else "message", 500)
        return [SettlementUpdate(kind, authorization, operation, amount, code=code, message=message,
                                 chargeback=event_type == "dispute.lost")]


def _id(data: dict, name: str, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise WebhookPayloadError(f"data.{name}: expected the processor's id (letters, digits, '_' or '-'), got {value!r}"[:300])
    return value


def _money(data: dict) -> Money:
    currency = data.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise WebhookPayloadError(f"data.currency: expected a three-letter ISO 4217 code like \"EUR\", got {currency!r}"[:300])
    amount = data.get("amount")
    found = _AMOUNT.fullmatch(amount) if isinstance(amount, str) else None
    places = minor_units(currency)
    if found is None or len((found.group(1) or "").rstrip("0")) > places or not Decimal(amount) > 0:
        raise WebhookPayloadError(f"data.amount: expected a positive decimal string with at most {places} decimals"
                                  f" for {currency}, like \"10.00\", got {amount!r}"[:300])
    return Money(Decimal(amount), currency)


def _text(data: dict, name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WebhookPayloadError(f"data.{name}: expected a string, got {type(value).__name__}")
    return value[:limit]
