"""Incoming webhooks: each gateway pack's signing secrets, and the webhook ids already seen."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import UTCDateTime
from runtime.models import json_field, timestamp_field


class IncomingWebhookSecret(SQLModel, table=True):
    """A secret a pack's gateway signs with. Several are active during a rotation: a new one is
    added and the older ones get an ``expires_at`` (the overlap window)."""

    __tablename__ = "incoming_webhook_secret"

    id: int | None = Field(default=None, primary_key=True)
    pack: str = Field(max_length=64, index=True)
    #: ``{"value": sealed}``: sealed with the secrets module (re-sealed by ``vectis secrets rotate``).
    secret: dict = json_field(default_factory=dict)
    created_at: datetime = timestamp_field()
    #: None: active until a rotation sets it; past: no longer accepted.
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_by: str = Field(default="", max_length=320)


class IncomingWebhookReceipt(SQLModel, table=True):
    """A webhook id processed for a pack: inserted in the transaction that applies the webhook, so
    an id is marked seen exactly when its effect commits; a replay finds the row and does nothing."""

    __tablename__ = "incoming_webhook_receipt"
    __table_args__ = (UniqueConstraint("pack", "webhook_id", name="uq_incoming_webhook_receipt"),)

    id: int | None = Field(default=None, primary_key=True)
    pack: str = Field(max_length=64)
    webhook_id: str = Field(sa_column=Column(String(255), nullable=False))
    received_at: datetime = timestamp_field(index=True)
    #: What the webhook did, one line per update (``settled mock_cap_000002: captured 10.00 EUR``).
    outcome: list = json_field(default_factory=list)
