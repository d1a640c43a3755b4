"""The append-only audit table. Rows are inserted, never updated or deleted (the ORM refuses it
here; the migration adds database triggers that refuse it for raw SQL too)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, event
from sqlmodel import Field, SQLModel

from runtime.models import json_field, timestamp_field

#: Outcomes: ``ok`` (the change committed), ``refused`` (a business refusal, nothing changed),
#: ``forbidden`` (a permission or authentication refusal), ``error`` (an unexpected failure).
OUTCOMES = ("ok", "refused", "forbidden", "error")


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred", "occurred_at", "id"),
        Index("ix_audit_log_operation", "operation", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = timestamp_field()
    #: ``user`` (staff signed in) or ``api_key``.
    actor_kind: str = Field(sa_column=Column(String(16), nullable=False))
    user_id: int | None = Field(default=None, index=True)
    api_key_id: int | None = Field(default=None, index=True)
    #: The actor's e-mail (or ``api-key:<name>``) as it was at the time.
    actor_label: str = Field(default="", max_length=320)
    #: The client IP, attributed like the rate limiter's (trusted proxies only).
    ip: str = Field(default="", max_length=64)
    #: The mutation's root field (``createApiKey``) and the document's operation name, if any.
    operation: str = Field(max_length=128)
    operation_name: str | None = Field(default=None, max_length=128)
    #: Ids the arguments named (``id``, ``*Id``, ``*Ids``), as strings: never other argument values.
    target_ids: list = json_field(default_factory=list)
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    #: Error codes of a refusal (never messages, which may quote the input).
    error_codes: list = json_field(default_factory=list)
    request_id: str | None = Field(default=None, max_length=64)


class AuditLogAppendOnly(RuntimeError):
    """An attempt to change or delete an audit row through the ORM."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(*_):
    raise AuditLogAppendOnly("audit_log rows are append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(*_):
    raise AuditLogAppendOnly("audit_log rows are append-only")
