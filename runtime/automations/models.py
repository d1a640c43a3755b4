"""What the automation consumer keeps in the database: events received, events matched, firings.

The database is the consumer's memory (durable_rules holds nothing between events): a restart
replays the window's unmatched events, and the unique keys below make a second consumer, or a
replay, that reaches the same match do nothing.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import UTCDateTime
from runtime.models import json_field, timestamp_field

#: Longest event id, event type or correlation value kept.
ID_LENGTH = 128


class AutomationEvent(SQLModel, table=True):
    """One event of the stream, stored once (by ``event_id``) however often it is published."""

    __tablename__ = "automation_event"
    __table_args__ = (Index("ix_automation_event_type_time", "type", "occurred_at"),)

    #: Arrival order: events that occurred at the same instant replay in this order.
    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(sa_column=Column(String(ID_LENGTH), nullable=False, unique=True))
    type: str = Field(max_length=ID_LENGTH)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    #: The usual correlation keys, as columns so a window's query filters on them.
    account_id: str | None = Field(default=None, max_length=ID_LENGTH, index=True)
    customer_id: str | None = Field(default=None, max_length=ID_LENGTH, index=True)
    entity_id: str | None = Field(default=None, max_length=ID_LENGTH, index=True)
    data: dict = json_field(default_factory=dict)
    received_at: datetime = timestamp_field()
    #: Set once every live automation has consumed it; the sweep retries those still unset.
    processed_at: datetime | None = timestamp_field(nullable=True, default_now=False, index=True)


class AutomationMatch(SQLModel, table=True):
    """An event taken by a firing of an automation: it never counts for that automation again."""

    __tablename__ = "automation_match"

    automation: str = Field(max_length=ID_LENGTH, primary_key=True)
    event_id: str = Field(max_length=ID_LENGTH, primary_key=True)
    firing_id: int = Field(foreign_key="automation_firing.id", ondelete="CASCADE")


class AutomationFiring(SQLModel, table=True):
    """One match of one automation, and the effects it queued in the same transaction."""

    __tablename__ = "automation_firing"
    __table_args__ = (UniqueConstraint("automation", "match_key", name="uq_automation_firing_match"),)

    id: int | None = Field(default=None, primary_key=True)
    automation: str = Field(max_length=ID_LENGTH)
    #: The live revision that matched.
    revision: int
    #: sha256 of the sorted event ids: the same match always has the same key.
    match_key: str = Field(max_length=64)
    event_ids: list = json_field()
    correlation: str | None = Field(default=None, max_length=ID_LENGTH)
    actions: list = json_field()
    fired_at: datetime = timestamp_field()
