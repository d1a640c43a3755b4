"""Where a machine's state lives: columns on the entity's own table, and one shared history table."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from runtime.db import UTCDateTime
from runtime.models import json_field, timestamp_field


def state_field(*, max_length: int = 64) -> Any:
    """The ``state`` column of a stateful entity, indexed with ``state_entered_at`` for the sweep."""
    return Field(sa_column=Column(String(max_length), nullable=False))


def state_entered_at_field() -> Any:
    return timestamp_field()


def state_index(table: str) -> Index:
    """The composite index the timer sweep reads (``WHERE state = :s AND state_entered_at <= :t``).

    Put it in the model's ``__table_args__``: ``__table_args__ = (state_index("reservation"),)``.
    """
    return Index(f"ix_{table}_state_entered", "state", "state_entered_at")


class StateTransition(SQLModel, table=True):
    """One row per transition fired, by a user or by the timer sweep: who, when, under which revision."""

    __tablename__ = "state_transition"
    __table_args__ = (Index("ix_state_transition_entity", "entity_type", "entity_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    machine: str = Field(max_length=128)
    entity_type: str = Field(max_length=64)
    #: Text, so one table serves integer and UUID keys alike.
    entity_id: str = Field(max_length=64)
    transition: str = Field(max_length=64)
    from_state: str = Field(max_length=64)
    to_state: str = Field(max_length=64)
    #: The actor's label (an e-mail), or ``system:timer`` for the sweep.
    actor: str = Field(max_length=254)
    #: The live revision of the machine's definition that allowed the transition.
    revision: int
    at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))
    context: dict = json_field(default_factory=dict)
