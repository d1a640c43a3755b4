"""``auditLog``: the audit table, newest first, filtered, as a Relay connection (``audit.read``)."""
from __future__ import annotations

from typing import Any

from ariadne import EnumType, ObjectType, QueryType
from sqlalchemy import String, cast
from sqlmodel import select

from runtime.audit.models import OUTCOMES, AuditEntry
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, query_error
from runtime.graphql.values import aware_time, check_first, connection, decode_cursor

query = QueryType()
entry_type = ObjectType("AuditEntry")
outcome_enum = EnumType("AuditOutcome", {outcome.upper(): outcome for outcome in OUTCOMES})
CODE = "INVALID_FILTER"


@entry_type.field("actorKind")
def resolve_actor_kind(entry: AuditEntry, _info) -> str:
    return entry.actor_kind.upper()


@query.field("auditLog")
def resolve_audit_log(_, info, filter: dict | None = None, first: int = 20, after: str | None = None):
    ctx = context_of(info)
    ctx.require("audit.read")
    try:
        check_first(first, CODE)
        key = decode_cursor(after, CODE) if after else None
        if key is not None and (len(key) != 1 or not isinstance(key[0], int)):
            raise BusinessError(CODE, "after: not a cursor this API returned", field="after")
        statement = _filtered(select(AuditEntry), filter or {})
        if key is not None:
            statement = statement.where(AuditEntry.id < key[0])
        with ctx.reads() as session:
            rows = session.exec(statement.order_by(AuditEntry.id.desc()).limit(first + 1)).all()
    except BusinessError as exc:
        raise query_error(info, exc) from None
    return connection(rows, first, lambda entry: [entry.id], after=after is not None)


def _filtered(statement, given: dict[str, Any]):
    for name, column in (("user_id", AuditEntry.user_id), ("api_key_id", AuditEntry.api_key_id)):
        if given.get(name) is not None:
            statement = statement.where(column == _int(given[name], f"filter.{_camel(name)}"))
    for name, column in (("operation", AuditEntry.operation), ("outcome", AuditEntry.outcome),
                         ("ip", AuditEntry.ip)):
        if given.get(name) is not None:
            statement = statement.where(column == given[name])
    if given.get("target_id") is not None:
        # target_ids is a JSON list of strings: match the quoted id in its text on both backends.
        quoted = '"' + str(given["target_id"]).replace('"', "") + '"'
        escaped = quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(cast(AuditEntry.target_ids, String).like(f"%{escaped}%", escape="\\"))
    for name, compare in (("since", lambda c, t: c >= t), ("until", lambda c, t: c < t)):
        if given.get(name) is not None:
            try:
                at = aware_time(given[name])
            except ValueError:
                raise BusinessError(CODE, f"filter.{name}: expected an ISO-8601 time with a zone, got {given[name]!r}",
                                    field=f"filter.{name}") from None
            statement = statement.where(compare(AuditEntry.occurred_at, at))
    return statement


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BusinessError(CODE, f"{field}: expected a numeric id, got {value!r}", field=field) from None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


bindables = [query, entry_type, outcome_enum]
