"""Incoming settlement webhooks: ``POST /webhooks/in/<pack>``, for packs that fill the
``settlement_webhook`` slot. See ``docs/security.md``.

In order, each step refusing with a one-line reason and changing nothing:

1. the pack has a handler (404), the body is at most :data:`MAX_BODY` bytes (413);
2. the Standard Webhooks signature matches one of the pack's active secrets and its timestamp is
   within :data:`~runtime.webhooks.signing.TOLERANCE_SECONDS` of the runtime clock (400);
3. the body is JSON the pack can read (400);
4. in ONE transaction: the ``webhook-id`` is recorded as seen (a replay finds it and is answered
   ``duplicate``, 200) and the pack's updates are applied to the payments — so a crash cannot mark
   an id seen without its effect, nor apply it twice. A webhook naming a payment this pack never
   made is answered 422 and recorded nowhere, so the gateway's retry is applied once the payment
   exists.

The ``webhooks`` rate-limit policy covers the endpoint. Nothing here answers a 500: a database
that does not answer, or any other failure while applying, rolls the transaction back and is
logged as a fault and answered 503 with ``Retry-After`` (gateways retry); a pack that fails on a
payload is logged as a fault and answered 400.
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import delete
from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.jobs import register_periodic_job
from runtime.observability import report_unexpected
from runtime.packs.api import WebhookPayloadError
from runtime.payments.settlements import UnknownPayment, apply_updates
from runtime.webhooks.incoming_models import IncomingWebhookReceipt
from runtime.webhooks.incoming_secrets import active_secrets
from runtime.webhooks.signing import TOLERANCE_SECONDS, SignatureInvalid, verify

log = logging.getLogger(__name__)

SLOT = "settlement_webhook"
ENDPOINT = "incoming_webhooks.receive"
#: Largest body read; settlement events are a few hundred bytes.
MAX_BODY = 256 * 1024
MAX_WEBHOOK_ID = 255
#: Receipts are kept this long: far beyond the timestamp tolerance (an older replay is refused by
#: its timestamp anyway), long enough for an operator to look one up.
RECEIPT_DAYS = 7
RETRY_AFTER_SECONDS = 30

blueprint = Blueprint("incoming_webhooks", __name__)


def init_app(app: Flask, *, web: bool = True) -> None:
    """The route (``web``) and the periodic clean-up of old receipts."""
    if web:
        app.register_blueprint(blueprint)
    register_periodic_job(app.extensions["vectis.registry"], "incoming_webhook_receipts_gc", forget_old_receipts,
                          interval=3600, description=f"Delete incoming webhook receipts older than {RECEIPT_DAYS} days")


@blueprint.post("/webhooks/in/<pack>")
def receive(pack: str) -> Response:
    handler = next((e.value for e in current_app.extensions["vectis.registry"].entries(SLOT) if e.pack == pack), None)
    if handler is None:
        return _refuse(404, f"no pack {pack[:64]!r} receives webhooks here")
    if (request.content_length or 0) > MAX_BODY:
        return _refuse(413, f"body: more than {MAX_BODY} bytes")
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY:
        return _refuse(413, f"body: more than {MAX_BODY} bytes")
    database = current_app.extensions["vectis.db"]
    box = current_app.extensions["vectis.secrets"]
    try:
        secrets = database.run(lambda session: active_secrets(session, box, pack))
        if not secrets:
            log.warning("webhook for pack %s refused: it has no active secret (vectis webhooks add-secret %s)", pack, pack)
            return _refuse(400, f"webhook-signature: pack {pack!r} has no webhook secret configured")
        webhook_id = verify(secrets, request.headers, body, int(utcnow().timestamp()), TOLERANCE_SECONDS)
        if len(webhook_id) > MAX_WEBHOOK_ID:
            return _refuse(400, f"webhook-id: more than {MAX_WEBHOOK_ID} characters")
        updates = _parse(handler, body)
        if isinstance(updates, Response):
            return updates
        outcome = database.run(lambda session: _receive(session, pack, webhook_id, updates))
    except SignatureInvalid as exc:
        return _refuse(400, str(exc))
    except UnknownPayment as exc:
        return _refuse(422, f"{exc}; nothing was recorded, a retry is applied once the payment exists")
    except Exception as exc:  # noqa: BLE001 - a database error, an unreadable secret, a bug
        # The transaction rolled back: nothing recorded, the gateway's retry is applied once this is fixed.
        report_unexpected(exc, "webhook")
        response = _refuse(503, "the store cannot take webhooks right now; retry later")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if outcome is None:
        return jsonify(status="duplicate", webhookId=webhook_id)
    return jsonify(status="processed", webhookId=webhook_id, outcome=outcome)


def _parse(handler, body: bytes):
    """The pack's updates for ``body``, or the 400 answer."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return _refuse(400, "body: not UTF-8 JSON")
    except ValueError as exc:
        return _refuse(400, f"body: not JSON ({exc.msg} at character {exc.pos})")
    except RecursionError:
        return _refuse(400, "body: JSON nested too deeply")
    try:
        updates = handler.parse(payload)
    except (WebhookPayloadError, ValueError) as exc:
        return _refuse(400, str(exc) or "body: not a payload this pack reads")
    except Exception as exc:  # a pack's bug: logged as a fault; the sender learns only that it was refused
        report_unexpected(exc, "webhook")
        return _refuse(400, "body: the pack could not read this payload")
    if not isinstance(updates, (list, tuple)):
        report_unexpected(TypeError(f"{type(handler).__name__}.parse answered {type(updates).__name__}, not a list"), "webhook")
        return _refuse(400, "body: the pack could not read this payload")
    return list(updates)


def _receive(session: Session, pack: str, webhook_id: str, updates) -> list[str] | None:
    """Record the id as seen and apply the updates, together; None when the id was seen before.
    Two deliveries of one id at once: the second's insert waits on the unique key, fails once the
    first commits, and the retry of this unit of work (``Database.run``) finds the row."""
    seen = session.exec(select(IncomingWebhookReceipt.id).where(
        IncomingWebhookReceipt.pack == pack, IncomingWebhookReceipt.webhook_id == webhook_id)).first()
    if seen is not None:
        return None
    receipt = IncomingWebhookReceipt(pack=pack, webhook_id=webhook_id)
    session.add(receipt)
    session.flush()
    receipt.outcome = apply_updates(session, current_app.extensions["vectis.registry"], pack, updates)
    session.add(receipt)
    return receipt.outcome


def forget_old_receipts() -> int:
    """Periodic job: delete receipts older than :data:`RECEIPT_DAYS` (their replays fail the
    timestamp check anyway). Idempotent; the number deleted."""
    cutoff = utcnow() - timedelta(days=RECEIPT_DAYS)
    return current_app.extensions["vectis.db"].run(lambda session: session.execute(
        delete(IncomingWebhookReceipt).where(IncomingWebhookReceipt.received_at < cutoff)).rowcount)


def _refuse(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response
