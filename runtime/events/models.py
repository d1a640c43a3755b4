"""The outbox: one row per emitted event, written in the transaction that made the change.

A row exists iff that change committed; the publisher sets ``published_at`` in the transaction
that hands the event to the automations consumer, so an event is handed off at least once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from runtime.db import UTCDateTime
from runtime.models import json_field

#: Longest event type or key kept (the automations consumer keeps the same).
ID_LENGTH = 128


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "event_outbox"
    __table_args__ = (Index("ix_event_outbox_unpublished", "published_at", "seq"),)

    #: Emission order: the publisher delivers in this order (the uuid ``id`` has none).
    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(sa_column=Column(String(36), nullable=False, unique=True))
    type: str = Field(max_length=ID_LENGTH)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    #: The entity the event is about: events of one key are published in emission order.
    key: str | None = Field(default=None, max_length=ID_LENGTH)
    payload: dict = json_field(default_factory=dict)
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
