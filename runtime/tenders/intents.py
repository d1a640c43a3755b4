"""The intent journal: a card authorisation is recorded, with its gateway idempotency key, before
the gateway is asked, and resolved once we know what became of it.

On PostgreSQL the intent commits in a short transaction of its own before the call, so a process
that dies between the gateway's answer and the checkout's commit leaves it ``started``; the
``ReconcilePaymentIntents`` job finds such intents once they are older than any checkout can
take, asks the gateway again with the same key (a gateway answers a key it saw with its stored
result, and authorises anew a key it never saw) and voids what it gets back. An intent whose key
a committed payment row carries is ``settled``; one whose key a rollback already voided is
``voided``.

SQLite has one writer, and the checkout's transaction holds it: an intent written beside it would
wait for the checkout to end, and one written inside it would vanish with it in a crash. So the
embedded default journals nothing; its single process's rollback hook voids what a failed checkout
authorised, and a crash between answer and commit is not covered there (use PostgreSQL).
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session, select

from runtime.carts.models import Cart
from runtime.clock import utcnow
from runtime.db import create_db_engine
from runtime.money import Money
from runtime.packs.api import PaymentRequest
from runtime.payments.gateway import gateway_for
from runtime.payments.models import PaymentTransaction, SavedPaymentMethod
from runtime.tenders.models import CartTender, PaymentIntent

log = logging.getLogger(__name__)

#: An intent still ``started`` this long after it was written belongs to a checkout that died.
STALE_AFTER = timedelta(minutes=15)
#: Intents one reconcile run handles at most.
BATCH = 200
JOURNAL_ENGINE = "vectis.tenders.journal_engine"
_lock = threading.Lock()


def journal(session: Session, *, channel_id: int, amount: Money, reference: str, token_ref: dict[str, Any]):
    """A ``before_call`` for :func:`runtime.payments.checkout.authorize_card`: writes the intent."""

    def write(key: str, provider) -> None:
        database = current_app.extensions["vectis.db"]
        if database.dialect == "sqlite":
            return  # one writer, held by the checkout: an intent in its transaction would die with it
        values = {"idempotency_key": key, "gateway": provider.key, "channel_id": channel_id, "amount": amount.amount,
                  "currency": amount.currency, "state": "started", "reference": reference[:255],
                  "token_ref": token_ref, "created_at": utcnow()}
        with _journal_engine(current_app).begin() as conn:
            conn.execute(pg_insert(PaymentIntent.__table__).values(**values)
                         .on_conflict_do_nothing(index_elements=["idempotency_key"]))

    return write


def _journal_engine(app: Flask):
    """A small pool of its own: the checkout holding a pooled connection (and row locks) never waits
    for a second one from the pool its peers hold."""
    engine = app.extensions.get(JOURNAL_ENGINE)
    if engine is None:
        with _lock:
            engine = app.extensions.get(JOURNAL_ENGINE)
            if engine is None:
                engine = create_db_engine(app.extensions["vectis.db"].url, pool_size=2, max_overflow=8, pool_timeout=5)
                app.extensions[JOURNAL_ENGINE] = engine
    return engine


def reconcile(app: Flask, *, now=None) -> dict[str, int]:
    """Resolve stale ``started`` intents; returns how many ended in each state. Idempotent: each
    step is keyed, so a run killed halfway and run again voids nothing twice."""
    database = app.extensions["vectis.db"]
    cutoff = (now or utcnow()) - STALE_AFTER
    counts = {"settled": 0, "voided": 0, "declined": 0}
    with database.session() as session:
        stale = list(session.exec(select(PaymentIntent).where(PaymentIntent.state == "started",
                                                              PaymentIntent.created_at < cutoff)
                                  .order_by(PaymentIntent.id).limit(BATCH)))
    for intent in stale:
        with app.app_context():
            state = _resolve(app, database, intent)
        _mark(database, intent.id, state)
        counts[state] += 1
    return counts


def _mark(database, intent_id: int, state: str) -> None:
    with database.session() as session:
        row = session.get(PaymentIntent, intent_id)
        row.state, row.resolved_at = state, utcnow()
        session.add(row)
        session.commit()


def _resolve(app: Flask, database, intent: PaymentIntent) -> str:
    key = intent.idempotency_key
    with database.session() as session:
        rows = set(session.exec(select(PaymentTransaction.idempotency_key).where(
            PaymentTransaction.idempotency_key.in_([key, f"{key}:void", f"{key}:refund", f"{key}:reconcile-void"]))))
        token = _token(session, intent)
    if key in rows:
        return "settled"
    if rows:
        return "voided"
    with database.session() as session:
        provider = gateway_for(session, intent.channel_id, intent.gateway)
    amount = Money(intent.amount, intent.currency)
    request = PaymentRequest(reference=intent.reference, amount=amount, idempotency_key=key, payment_token=token)
    result = provider.value.authorize(request, provider.config)
    if result.status not in ("authorized", "pending", "captured"):
        return "declined"
    if result.status == "captured":
        done = provider.value.refund(result.transaction_id, amount, f"{key}:reconcile-refund", provider.config)
    else:
        done = provider.value.void(result.transaction_id, f"{key}:reconcile-void", provider.config)
    row = PaymentTransaction(type="void", state="succeeded", gateway=provider.key, gateway_reference=done.transaction_id,
                             idempotency_key=f"{key}:reconcile-void", amount=amount.amount, currency=amount.currency,
                             message=f"void of {result.transaction_id}: its checkout never committed (reconciled)",
                             raw=dict(done.raw))
    database.run(lambda session: session.add(row))
    return "voided"


def _token(session: Session, intent: PaymentIntent) -> str | None:
    """The token the authorisation was asked with: a saved method's, or the one still on the cart
    (its checkout never committed, so the cart is still active). The intent keeps no token."""
    ref = intent.token_ref or {}
    if ref.get("saved_payment_method_id") is not None:
        method = session.get(SavedPaymentMethod, int(ref["saved_payment_method_id"]))
        return method.token if method else None
    if ref.get("tender_id") is not None:
        tender = session.get(CartTender, int(ref["tender_id"]))
        return (tender.details or {}).get("token") if tender else None
    cart = session.get(Cart, int(ref["cart_id"])) if ref.get("cart_id") is not None else None
    return (cart.payment or {}).get("token") if cart else None
