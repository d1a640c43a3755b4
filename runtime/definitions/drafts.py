"""Drafts: definition sources saved in the admin UI without publishing, one per definition and
author. A draft is never validated on save (a half-written rule must survive a closed tab); it
is checked when it is validated, previewed or published, and dropped when its author publishes.
"""
from __future__ import annotations

from sqlalchemy import delete, update
from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.definitions.models import DefinitionDraft


def get(session: Session, kind: str, name: str, author: str) -> DefinitionDraft | None:
    return session.exec(select(DefinitionDraft).where(
        DefinitionDraft.kind == kind, DefinitionDraft.name == name, DefinitionDraft.author == author)).first()


def save(session: Session, kind: str, name: str, author: str, source: str,
         base_revision: int | None) -> DefinitionDraft:
    """Create or replace the author's draft. The update is tried first and the insert relies on
    the unique key, so two saves racing end as one row (``Database.run`` retries the loser)."""
    values = dict(source=source, base_revision=base_revision, updated_at=utcnow())
    changed = session.exec(update(DefinitionDraft).where(
        DefinitionDraft.kind == kind, DefinitionDraft.name == name, DefinitionDraft.author == author,
    ).values(**values)).rowcount
    if not changed:
        session.add(DefinitionDraft(kind=kind, name=name, author=author, **values))
    session.flush()
    return get(session, kind, name, author)


def discard(session: Session, kind: str, name: str, author: str) -> int:
    return session.exec(delete(DefinitionDraft).where(
        DefinitionDraft.kind == kind, DefinitionDraft.name == name, DefinitionDraft.author == author)).rowcount


def all_drafts(session: Session) -> list[DefinitionDraft]:
    """Every draft, by kind, name and author (the index marks definitions with drafts)."""
    return list(session.exec(select(DefinitionDraft).order_by(
        DefinitionDraft.kind, DefinitionDraft.name, DefinitionDraft.author)))
