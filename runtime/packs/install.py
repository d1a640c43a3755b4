"""Install state: each pack's ``on_install``/``on_upgrade`` hook runs once per version change.

:func:`sync_install_state` runs at start-up after migrations. For each loaded pack, one
transaction claims the change and runs the hook in it:

* no row yet: insert-or-ignore the row; whoever inserted it runs ``on_install``;
* a row at another version: lock the row, re-check the version, update it and run ``on_upgrade``.

Two processes starting at once therefore run a hook once: the second waits on the first's row
(PostgreSQL) or write lock (SQLite), then sees the version already recorded. A hook that raises
rolls its transaction back — the version stays unrecorded — and the pack is disabled.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlmodel import Session

from runtime.clock import utcnow
from runtime.packs.context import InstallContext
from runtime.packs.loader import LoadedPack, one_line
from runtime.packs.models import ExtensionInstall

log = logging.getLogger(__name__)


def sync_install_state(app: Flask) -> dict[str, str]:
    """Run pending install/upgrade hooks of the app's loaded packs, in load order.

    Returns what happened per pack (``installed``, ``upgraded from 1.0.0``); failures are added
    to ``app.extensions["vectis.pack_failures"]`` and the failed pack (and every pack requiring it)
    is removed from the registry.
    """
    database = app.extensions["vectis.db"]
    registry = app.extensions["vectis.registry"]
    packs: dict[str, LoadedPack] = app.extensions["vectis.packs"]
    failures: dict[str, str] = app.extensions["vectis.pack_failures"]
    done: dict[str, str] = {}
    with app.app_context():
        for name, pack in list(packs.items()):
            broken = [d for d in pack.manifest.packs if d not in packs]
            if broken:
                message = f"requires pack {broken[0]!r}, which failed to install"
            else:
                try:
                    outcome = database.run(lambda session, pack=pack: _sync_one(session, pack))
                except Exception as exc:
                    message = f"install hook failed: {one_line(exc)}"
                    log.exception("pack %s: install hook failed", name)
                else:
                    if outcome:
                        done[name] = outcome
                        log.info("pack %s %s: %s", name, pack.manifest.version, outcome)
                    continue
            log.error("pack %s disabled: %s", name, message)
            failures[name] = message
            registry.remove_pack(name)
            del packs[name]
    return done


def _sync_one(session: Session, pack: LoadedPack) -> str | None:
    manifest = pack.manifest
    now = utcnow()
    if _insert_or_ignore(session, manifest.name, manifest.version, now):
        _call(pack, "on_install", InstallContext(session, manifest))
        return "installed"
    query = select(ExtensionInstall.version).where(ExtensionInstall.name == manifest.name)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    recorded = session.execute(query).scalar_one()
    if recorded == manifest.version:
        return None
    claimed = session.execute(
        update(ExtensionInstall)
        .where(ExtensionInstall.name == manifest.name, ExtensionInstall.version == recorded)
        .values(version=manifest.version, upgraded_at=now)
        .returning(ExtensionInstall.name)
    ).scalar_one_or_none()
    if claimed is None:  # another process recorded a version in between
        return None
    _call(pack, "on_upgrade", InstallContext(session, manifest), recorded)
    return f"upgraded from {recorded}"


def _insert_or_ignore(session: Session, name: str, version: str, now: Any) -> bool:
    table = ExtensionInstall.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(table)
        .values(name=name, version=version, installed_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(table.c.name)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def _call(pack: LoadedPack, hook: str, *args: Any) -> None:
    function = getattr(pack.module, hook, None)
    if function is not None:
        function(*args)
