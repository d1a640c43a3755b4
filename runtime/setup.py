"""What ``vectis db upgrade`` does, in order, each step idempotent."""
from __future__ import annotations

from collections.abc import Iterator

from flask import Flask

from runtime.auth.service import seed_roles
from runtime.definitions import shipped
from runtime.definitions.environment import build_environment
from runtime.migrate import upgrade as migrate


def upgrade(app: Flask) -> Iterator[str]:
    """Migrate, seed roles, run pack install/upgrade hooks, publish shipped definitions; yields report lines."""
    from runtime.packs import sync_install_state

    database = app.extensions["vectis.db"]
    database.probe()
    migrate(database.url)
    yield f"database {database.safe_url}: schema up to date"
    roles = database.run(seed_roles)
    yield f"roles: {', '.join(roles)}"
    for name, outcome in sync_install_state(app).items():
        yield f"pack {name}: {outcome}"
    registry = app.extensions["vectis.registry"]
    env = build_environment(registry)
    outcomes = database.run(lambda s: shipped.sync(s, registry, env))
    for outcome in outcomes:
        if outcome.action != "unchanged":
            yield f"definition {outcome.kind}/{outcome.name}: {outcome.action} (revision {outcome.revision})"
    yield f"definitions: {len(outcomes)} shipped, {sum(o.action != 'unchanged' for o in outcomes)} changed"
