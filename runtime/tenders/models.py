"""Tenders: how an order's total is paid, leg by leg, and the balances internal tenders draw on.

* :class:`CartTender` — a tender the buyer put in front of the cascade (a gift card, an amount of
  store credit), kept on the cart until placeOrder.
* :class:`PaymentTender` — one leg of an order's payment; its money moves on the
  ``payment_transaction`` machine through :attr:`PaymentTender.payment_transaction_id`.
* :class:`StoredValueAccount` / :class:`StoredValueEntry` — a ledger (store credit per customer
  or account, gift cards per code); the balance is derived from the entries, never stored.
* :class:`NetTermsAccount` / :class:`NetTermsReservation` — an account's credit limit and the
  open credit its orders reserve.
* :class:`PaymentIntent` — a gateway call about to be made, recorded before it is made, so a
  crash between the gateway's answer and the commit is found and reconciled.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import MoneyAmount, UTCDateTime
from runtime.models import json_field, timestamp_field


def _money(default: Decimal | None = Decimal(0)):
    return Field(default=default, sa_column=Column(MoneyAmount(), nullable=default is None))


class CartTender(SQLModel, table=True):
    __tablename__ = "cart_tender"

    id: int | None = Field(default=None, primary_key=True)
    cart_id: int = Field(sa_column=Column(Integer, ForeignKey("cart.id", ondelete="CASCADE"), nullable=False, index=True))
    position: int
    #: A tender type's name (``store_credit``, ``gift_card``, ``card``…).
    type: str = Field(max_length=32)
    #: None: as much as the tender covers (its balance, the rest of the total).
    amount: Decimal | None = _money(None)
    #: What the type needs to find its money (a stored-value account id, a saved method id); never a code in clear.
    details: dict = json_field(default_factory=dict)


class PaymentTender(SQLModel, table=True):
    __tablename__ = "payment_tender"
    __table_args__ = (UniqueConstraint("order_id", "position", name="uq_payment_tender_order_position"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True))
    position: int
    type: str = Field(max_length=32)
    amount: Decimal = _money()
    currency: str = Field(max_length=3)
    #: ``buyer_prepended`` (the buyer put it in front) or ``cascade`` (the composer chose it).
    source: str = Field(max_length=24)
    #: The registry key of what moved the money (a gateway, ``core.tender_type.store_credit``…).
    gateway: str = Field(max_length=160)
    #: The gateway's transaction id, or the ledger entry / terms reservation id.
    reference: str | None = Field(default=None, max_length=128)
    payment_transaction_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("payment_transaction.id", ondelete="SET NULL"), index=True))
    #: Net terms: when the invoice is due.
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    details: dict = json_field(default_factory=dict)
    created_at: datetime = timestamp_field()


class StoredValueAccount(SQLModel, table=True):
    """Store credit (one per owner and currency) or a gift card (one per code)."""

    __tablename__ = "stored_value_account"
    __table_args__ = (UniqueConstraint("kind", "owner", "currency", name="uq_stored_value_owner"),)

    id: int | None = Field(default=None, primary_key=True)
    #: ``store_credit`` or a pack's kind (``gift_card``).
    kind: str = Field(max_length=32)
    #: ``customer:<id>`` or ``account:<id>`` for store credit; None for a bearer instrument.
    owner: str | None = Field(default=None, max_length=40)
    currency: str = Field(max_length=3)
    #: A keyed digest of a bearer code (gift cards): found by it, never stored or logged in clear.
    lookup_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True, unique=True))
    #: The code's last four characters, to tell cards apart in lists.
    hint: str = Field(default="", max_length=8)
    #: How far below zero the balance may go (an overdraft policy); 0: never.
    overdraft_limit: Decimal = _money()
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    is_active: bool = Field(default=True)
    #: The kind's own attributes (a gift card's ``virtual``/``physical`` form, its batch).
    attributes: dict = json_field(default_factory=dict)
    created_at: datetime = timestamp_field()


class StoredValueEntry(SQLModel, table=True):
    """One movement: ``credit`` adds, ``debit`` takes, ``hold`` reserves, ``release`` gives a hold back.

    Available balance = credits − debits − holds + releases. A checkout in a capturing channel
    spends at once (a debit); otherwise it holds, and a cancel releases the hold.
    """

    __tablename__ = "stored_value_entry"
    __table_args__ = (Index("ix_stored_value_entry_account", "account_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=Column(Integer, ForeignKey("stored_value_account.id", ondelete="CASCADE"),
                                             nullable=False))
    kind: str = Field(max_length=16)
    #: Always positive; ``kind`` says the direction.
    amount: Decimal = _money()
    #: For a ``release``: the hold it gives back.
    hold_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("stored_value_entry.id",
                                                                                  ondelete="SET NULL"), index=True))
    order_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("orders.id", ondelete="SET NULL"),
                                                                index=True))
    #: Unique per movement: a retried operation finds the entry it already wrote.
    idempotency_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    note: str = Field(default="", max_length=300)
    actor: str = Field(default="system", max_length=254)
    created_at: datetime = timestamp_field()


class NetTermsAccount(SQLModel, table=True):
    __tablename__ = "net_terms_account"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=Column(Integer, ForeignKey("b2b_account.id", ondelete="CASCADE"), nullable=False,
                                             unique=True))
    credit_limit: Decimal = _money()
    currency: str = Field(max_length=3)
    #: Days from the order to the invoice's due date (net 30).
    terms_days: int = Field(default=30)
    is_active: bool = Field(default=True)
    updated_at: datetime = timestamp_field()


class NetTermsReservation(SQLModel, table=True):
    """Open credit an order uses: ``reserved`` until paid (``settled``) or given back (``released``)."""

    __tablename__ = "net_terms_reservation"
    __table_args__ = (Index("ix_net_terms_reservation_open", "terms_account_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    terms_account_id: int = Field(sa_column=Column(Integer, ForeignKey("net_terms_account.id", ondelete="CASCADE"),
                                                   nullable=False))
    order_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("orders.id", ondelete="SET NULL"),
                                                                index=True))
    amount: Decimal = _money()
    currency: str = Field(max_length=3)
    state: str = Field(default="reserved", max_length=16)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    created_at: datetime = timestamp_field()


class PaymentIntent(SQLModel, table=True):
    """A gateway authorisation about to be asked for, committed before the call."""

    __tablename__ = "payment_intent"
    __table_args__ = (Index("ix_payment_intent_state", "state", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The key the gateway sees: the same key replays the same answer.
    idempotency_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    gateway: str = Field(max_length=160)
    channel_id: int = Field(sa_column=Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), nullable=False))
    amount: Decimal = _money()
    currency: str = Field(max_length=3)
    #: ``started`` until resolved: ``settled`` (an order kept it), ``voided``, ``declined``.
    state: str = Field(default="started", max_length=16)
    #: The request's reference (``order:<cart id>:<key>``) and the token's keyed digest's source.
    reference: str = Field(max_length=255)
    #: The token to replay the authorisation with (a gateway token, never a card number in clear at a real gateway).
    token_ref: dict = json_field(default_factory=dict)
    created_at: datetime = timestamp_field()
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class TenderRecuration(SQLModel, table=True):
    """One staff re-curation of an order's tender split (``recurateCascade``): who, why, the split
    before and after (each leg's position, type, amount, source, state, gateway, reference)."""

    __tablename__ = "tender_recuration"
    __table_args__ = (UniqueConstraint("order_id", "sequence", name="uq_tender_recuration_order_sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False,
                                           index=True))
    #: 1 for the order's first re-curation, then 2…; part of each new leg's idempotency key.
    sequence: int
    actor: str = Field(max_length=254)
    reason: str = Field(max_length=500)
    before: list = json_field(default_factory=list)
    after: list = json_field(default_factory=list)
    created_at: datetime = timestamp_field()


class OverdraftDraft(SQLModel, table=True):
    """What a spend below zero owes, by the account's overdraft policy: ``open`` until credits bring
    the balance back to cover it (``redeemed``), or, past ``expires_at``, reaped (``expired``) by
    ``GcExpiredOverdraftDrafts``, which also withdraws the account's overdraft."""

    __tablename__ = "overdraft_draft"
    __table_args__ = (Index("ix_overdraft_draft_state_expires", "state", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=Column(Integer, ForeignKey("stored_value_account.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    #: The hold or debit that went below zero (its ``order_id`` names the order once linked).
    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("stored_value_entry.id", ondelete="CASCADE"),
                                           nullable=False, unique=True))
    #: The part of the entry below zero.
    amount: Decimal = _money()
    currency: str = Field(max_length=3)
    state: str = Field(default="open", max_length=16)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = timestamp_field()
