"""Recording staff and API-key mutations.

Every root field of ``Mutation`` is wrapped once at start-up (:func:`audit_mutations`). While a
staff or API-key mutation runs, a scope sits in a context variable; the first transaction of the
request that commits a change gets the audit row added just before its commit (a session
``before_commit`` listener), so the row and the change commit or roll back together. A mutation
that changed nothing (refused, forbidden, failed) gets its row in a transaction of its own once
the outcome is known. One row per mutation either way.

Only the actor, the IP, the operation, the ids its arguments named and error *codes* are kept:
argument values and error messages may carry secrets or card data and never reach the row.
"""
from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSchema, default_field_resolver
from sqlalchemy import event
from sqlmodel import Session

from runtime.audit.models import AuditEntry
from runtime.auth.permissions import Actor
from runtime.errors import AuthError, BusinessError, BusinessErrors, RequestError
from runtime.observability.logs import current_request_id
from runtime.security.ratelimit import client_ip

#: Most target ids kept per row, and the longest id kept (longer ones are cut).
MAX_TARGET_IDS = 50
MAX_ID_LENGTH = 128


@dataclass
class AuditScope:
    actor: Actor
    ip: str
    operation: str
    operation_name: str | None
    target_ids: list[str]
    request_id: str | None
    #: Set once a transaction carrying the row has committed.
    written: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def entry(self, outcome: str, error_codes: Iterable[str] = ()) -> AuditEntry:
        return AuditEntry(
            actor_kind="api_key" if self.actor.api_key_id is not None else "user",
            user_id=self.actor.user_id, api_key_id=self.actor.api_key_id, actor_label=self.actor.label[:320],
            ip=self.ip[:64], operation=self.operation[:128],
            operation_name=self.operation_name[:128] if self.operation_name else None,
            target_ids=self.target_ids, outcome=outcome, error_codes=sorted(set(error_codes)),
            request_id=self.request_id[:64] if self.request_id else None)


_scope: contextvars.ContextVar[AuditScope | None] = contextvars.ContextVar("vectis_audit_scope", default=None)


def audited_actor(actor: Actor) -> bool:
    """Staff (a signed-in user with no buyer identity) and API keys are audited; buyers are not."""
    return actor.api_key_id is not None or (actor.user_id is not None and not actor.is_buyer)


def target_ids(arguments: Any) -> list[str]:
    """The values of ``id``, ``ids``, ``*_id`` and ``*_ids`` arguments and input fields, in order."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("id", "ids") or key.endswith(("_id", "_ids")):
                    add(item)
                elif isinstance(item, (dict, list)):
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    def add(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                add(item)
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            text = str(value)[:MAX_ID_LENGTH]
            if text not in found and len(found) < MAX_TARGET_IDS:
                found.append(text)

    walk(arguments)
    return found


def audit_mutations(schema: GraphQLSchema) -> None:
    """Wrap every root mutation field's resolver (once, at start-up: queries pay nothing)."""
    if schema.mutation_type is None:
        return
    for name, graphql_field in schema.mutation_type.fields.items():
        if not getattr(graphql_field.resolve, "vectis_audited", False):  # schemas are shared by apps
            graphql_field.resolve = _audited(graphql_field.resolve or default_field_resolver, name)


def _audited(resolve: Callable[..., Any], operation: str) -> Callable[..., Any]:
    @functools.wraps(resolve)
    def wrapper(obj, info, **kwargs):
        context = info.context
        if not audited_actor(context.actor):
            return resolve(obj, info, **kwargs)
        operation_name = info.operation.name.value if info.operation.name else None
        scope = AuditScope(context.actor, client_ip(), operation, operation_name, target_ids(kwargs),
                           current_request_id())
        token = _scope.set(scope)
        try:
            result = resolve(obj, info, **kwargs)
        except BaseException as exc:
            _scope.reset(token)
            _record_unchanged(context.db, scope, *_failure(exc))
            raise
        _scope.reset(token)
        codes = [e.get("code") for e in result.get("errors") or []] if isinstance(result, dict) else []
        _record_unchanged(context.db, scope, "refused" if codes else "ok", [str(c) for c in codes if c])
        return result

    wrapper.vectis_audited = True
    return wrapper


def _failure(exc: BaseException) -> tuple[str, list[str]]:
    if isinstance(exc, AuthError):
        return "forbidden", [exc.code]
    if isinstance(exc, RequestError):
        return "refused", [exc.code]
    if isinstance(exc, (BusinessError, BusinessErrors)):
        return "refused", [e.code for e in getattr(exc, "errors", [exc])]
    return "error", []


def _record_unchanged(database, scope: AuditScope, outcome: str, codes: list[str]) -> None:
    """The row of a mutation whose change did not commit a row already (nothing changed, or a
    mutation that wrote outside a session the listener sees)."""
    if scope.written:
        return
    database.run(lambda session: session.add(scope.entry(outcome, codes)))


# --- the transaction hooks -------------------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush_context) -> None:
    session.info["audit_changed"] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state) -> None:
    if not state.is_select:  # bulk UPDATE/DELETE/INSERT or a textual statement
        state.session.info["audit_changed"] = True


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    scope = _scope.get()
    if scope is None or scope.written or "audit_scope" in session.info:
        return
    if not (session.info.get("audit_changed") or session.new or session.dirty or session.deleted):
        return
    session.add(scope.entry("ok"))  # flushed by the commit that follows, in the same transaction
    session.info["audit_scope"] = scope


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    scope = session.info.pop("audit_scope", None)
    if scope is not None:
        scope.written = True
    session.info.pop("audit_changed", None)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("audit_scope", None)
    session.info.pop("audit_changed", None)
