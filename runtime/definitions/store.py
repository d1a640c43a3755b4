"""The revision store: publish, roll back and read immutable definition revisions.

Every function takes the caller's session and runs inside its transaction, so a refused
publish changes nothing and the live revision stays as it was.
"""
from __future__ import annotations

from enum import Enum

from flask import current_app, has_app_context
from rules.environment import Environment
from rules.errors import AuthorError
from rules.pipeline import Checked, check_source
from sqlalchemy import func, update
from sqlmodel import Session, select

from runtime.definitions.models import DefinitionRevision
from runtime.definitions.revisions import all_live, history, live
from runtime.errors import BusinessError, BusinessErrors

__all__ = ["all_live", "author_error", "check", "history", "live", "publish", "rollback"]


#: ``app.extensions`` key: functions ``hook(session, definition, live_before, revision, env)`` run
#: inside the publish (or rollback) transaction once a revision is live; one refuses by raising a
#: :class:`BusinessError` (the state machines' stranded-entity rule fills it).
PUBLISH_HOOKS = "vectis.definitions.publish_hooks"


class DefinitionErrorCode(str, Enum):
    INVALID_DEFINITION = "INVALID_DEFINITION"
    NOT_FOUND = "NOT_FOUND"
    REVISION_NOT_FOUND = "REVISION_NOT_FOUND"
    STALE_REVISION = "STALE_REVISION"


def author_error(error: AuthorError) -> BusinessError:
    """An author error as a business error: the message is the full ``path:line:col: …`` text."""
    return BusinessError(
        DefinitionErrorCode.INVALID_DEFINITION,
        str(error),
        field=error.pointer,
        path=error.path,
        line=error.line,
        column=error.column,
        hint=error.hint,
    )


def check(source: str, env: Environment, path: str = "source") -> Checked:
    return check_source(source, path, env)


def _refuse_invalid(checked: Checked) -> None:
    if not checked.ok:
        raise BusinessErrors([author_error(e) for e in checked.errors])


def _make_live(
    session: Session, kind: str, name: str, source: str, checksum: str, *, author: str, note: str,
    origin: str, rolled_back_from: int | None = None,
) -> DefinitionRevision:
    latest = session.exec(
        select(func.max(DefinitionRevision.revision)).where(
            DefinitionRevision.kind == kind, DefinitionRevision.name == name
        )
    ).one()
    session.exec(
        update(DefinitionRevision)
        .where(DefinitionRevision.kind == kind, DefinitionRevision.name == name, DefinitionRevision.is_live)
        .values(is_live=False)
    )
    row = DefinitionRevision(
        kind=kind, name=name, revision=(latest or 0) + 1, source=source, checksum=checksum,
        author=author, note=note, origin=origin, rolled_back_from=rolled_back_from, is_live=True,
    )
    session.add(row)
    session.flush()
    return row


def _refuse_stale(current: DefinitionRevision | None, base_revision: int | None, kind: str, name: str) -> None:
    if base_revision is None:
        return
    current_revision = current.revision if current else 0
    if current_revision != base_revision:
        who = f"revision {current.revision} by {current.author} at {current.created_at:%Y-%m-%d %H:%M} UTC" if current else "no live revision"
        raise BusinessError(
            DefinitionErrorCode.STALE_REVISION,
            f"{kind}/{name} changed since revision {base_revision} was opened: now {who}",
            field="baseRevision",
        )


def publish(
    session: Session, source: str, env: Environment, *, author: str, note: str = "", origin: str = "",
    path: str = "source", base_revision: int | None = None,
) -> tuple[DefinitionRevision, bool]:
    """Validate and publish ``source``. Returns ``(live revision, created)``.

    Publishing the source that is already live creates nothing. ``base_revision`` (the revision
    an editor opened) refuses the publish when someone else published since.
    """
    checked = check(source, env, path)
    _refuse_invalid(checked)
    definition = checked.definition
    current = live(session, definition.kind, definition.name, lock=True)
    _refuse_stale(current, base_revision, definition.kind, definition.name)
    if current is not None and current.checksum == definition.checksum:
        return current, False
    row = _make_live(
        session, definition.kind, definition.name, source, definition.checksum,
        author=author, note=note, origin=origin or path,
    )
    _run_hooks(session, definition, current, row.revision, env)
    return row, True


def _run_hooks(session: Session, definition, current: DefinitionRevision | None, revision: int,
               env: Environment) -> None:
    if has_app_context():
        for hook in current_app.extensions.get(PUBLISH_HOOKS, ()):
            hook(session, definition, current, revision, env)


def rollback(
    session: Session, kind: str, name: str, revision: int, env: Environment, *, author: str, note: str = "",
) -> tuple[DefinitionRevision, bool]:
    """Republish revision ``revision`` as a new live revision (history stays linear)."""
    target = session.exec(
        select(DefinitionRevision).where(
            DefinitionRevision.kind == kind, DefinitionRevision.name == name, DefinitionRevision.revision == revision
        )
    ).first()
    if target is None:
        code = DefinitionErrorCode.REVISION_NOT_FOUND if history(session, kind, name) else DefinitionErrorCode.NOT_FOUND
        what = f"{kind}/{name} has no revision {revision}" if code is DefinitionErrorCode.REVISION_NOT_FOUND else f"no definition {kind}/{name}"
        raise BusinessError(code, what, field="revision")
    # The world may have changed since (a pack removed): the old source must still be valid.
    _refuse_invalid(check(target.source, env, f"{kind}/{name}@{revision}"))
    current = live(session, kind, name, lock=True)
    if current is not None and current.checksum == target.checksum:
        return current, False
    row = _make_live(
        session, kind, name, target.source, target.checksum, author=author,
        note=note or f"rollback to revision {revision}", origin=target.origin, rolled_back_from=revision,
    )
    _run_hooks(session, check(target.source, env, f"{kind}/{name}@{revision}").definition, current, row.revision, env)
    return row, True
