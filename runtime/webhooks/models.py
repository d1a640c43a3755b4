"""Webhook subscriptions and their deliveries (the delivery log)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import UTCDateTime
from runtime.models import json_field, timestamp_field

#: Delivery states: ``pending`` (not tried yet), ``retrying`` (failed, another attempt due at
#: ``next_attempt_at``), ``succeeded`` (a 2xx answer) and ``dead`` (the last attempt failed).
STATUSES = ("pending", "retrying", "succeeded", "dead")


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    event_type: str = Field(max_length=128, index=True)
    url: str = Field(max_length=2000)
    #: ``{"current": sealed, "previous": sealed}``: every value sealed with the secrets module.
    secrets: dict = json_field(default_factory=dict)
    #: Until when the previous secret still signs (the rotation's overlap window).
    previous_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    is_active: bool = True
    created_at: datetime = timestamp_field()
    created_by: str = Field(default="", max_length=320)


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery_event"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscription.id", index=True)
    #: The outbox event's id, sent as ``webhook-id`` (the same on every attempt).
    event_id: str = Field(sa_column=Column(String(36), nullable=False))
    event_type: str = Field(max_length=128)
    #: The exact bytes signed and sent on every attempt.
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = timestamp_field()
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: One entry per attempt: at, status code or error, seconds taken.
    log: list = json_field(default_factory=list)
