"""Reading definition revisions: the live one, every live one, a definition's history.

Apart from :mod:`runtime.definitions.store` (which validates and writes) so that reading history
needs the database only, not the rules pipeline: ``vectis definitions history`` starts fast.
"""
from __future__ import annotations

from sqlmodel import Session, select

from runtime.definitions.models import DefinitionRevision


def live(session: Session, kind: str, name: str, *, lock: bool = False) -> DefinitionRevision | None:
    statement = select(DefinitionRevision).where(
        DefinitionRevision.kind == kind, DefinitionRevision.name == name, DefinitionRevision.is_live
    )
    if lock:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def all_live(session: Session, kind: str | None = None) -> list[DefinitionRevision]:
    statement = select(DefinitionRevision).where(DefinitionRevision.is_live)
    if kind:
        statement = statement.where(DefinitionRevision.kind == kind)
    return list(session.exec(statement.order_by(DefinitionRevision.kind, DefinitionRevision.name)))


def history(session: Session, kind: str, name: str) -> list[DefinitionRevision]:
    statement = (
        select(DefinitionRevision)
        .where(DefinitionRevision.kind == kind, DefinitionRevision.name == name)
        .order_by(DefinitionRevision.revision.desc())
    )
    return list(session.exec(statement))
