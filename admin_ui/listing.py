"""The definitions index: every live definition and every draft, with status and pack."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask
from sqlmodel import Session, select

from runtime.definitions import drafts, store
from runtime.definitions.environment import build_environment
from runtime.definitions.live import live_definitions
from runtime.definitions.models import DefinitionRevision
from runtime.definitions.shipped import SYSTEM_AUTHOR, shipped_sources
from runtime.promotions.live import stale_promotions


@dataclass
class Entry:
    kind: str
    name: str
    revision: int | None = None
    author: str = ""
    published_at: datetime | None = None
    note: str = ""
    #: The extension pack that ships it (None: the core or a merchandiser's own).
    pack: str | None = None
    #: Authors with a draft, and whether each draft validates.
    drafts: list[tuple[str, bool]] = field(default_factory=list)
    #: Why the live revision does not compile in this process (a pack it uses is missing).
    failure: str | None = None
    #: Why a live promotion is stale (a SKU, category… it names no longer resolves): it does not apply.
    stale: str | None = None

    @property
    def statuses(self) -> list[str]:
        found = []
        if self.revision is not None:
            found.append("failing" if self.failure else "live")
        if self.stale and not self.failure:
            found.append("stale")
        if self.drafts:
            found.append("draft")
        if any(not ok for _author, ok in self.drafts):
            found.append("draft invalid")
        return found


def pack_origins(app: Flask) -> dict[str, str]:
    """Origin prefix (``flat_rate_shipping/definitions/``) → pack, for packs' shipped folders."""
    registry = app.extensions["vectis.registry"]
    return {f"{label}/": label.split("/")[0] for _folder, label in shipped_sources(registry)[1:]}


def entries(app: Flask, session: Session, *, kind: str | None = None, search: str = "") -> list[Entry]:
    found: dict[tuple[str, str], Entry] = {}
    for row in store.all_live(session, kind or None):
        found[(row.kind, row.name)] = Entry(row.kind, row.name, row.revision, row.author, row.created_at, row.note)
    env = build_environment(app.extensions["vectis.registry"])
    for draft in drafts.all_drafts(session):
        if kind and draft.kind != kind:
            continue
        entry = found.setdefault((draft.kind, draft.name), Entry(draft.kind, draft.name))
        entry.drafts.append((draft.author, store.check(draft.source, env).ok))
    failures = live_definitions(app).failures
    packs = _packs(app, session)
    stale = stale_promotions(session, app) if kind in (None, "", "promotion") else {}
    for key, entry in found.items():
        entry.failure = failures.get(key)
        entry.pack = packs.get(key)
        entry.stale = stale.get(key[1]) if key[0] == "promotion" else None
    wanted = search.strip().lower()
    return sorted((e for e in found.values() if wanted in e.name.lower()), key=lambda e: (e.kind, e.name))


def _packs(app: Flask, session: Session) -> dict[tuple[str, str], str]:
    """A definition belongs to the pack whose folder first shipped it (later edits keep it)."""
    prefixes = pack_origins(app)
    if not prefixes:
        return {}
    rows = session.exec(select(DefinitionRevision.kind, DefinitionRevision.name, DefinitionRevision.origin)
                        .where(DefinitionRevision.author == SYSTEM_AUTHOR))
    found = {}
    for kind, name, origin in rows:
        for prefix, pack in prefixes.items():
            if origin.startswith(prefix):
                found[(kind, name)] = pack
    return found
