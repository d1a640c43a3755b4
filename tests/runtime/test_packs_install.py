"""Install state: on_install / on_upgrade run once per version change, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from runtime.packs import sync_install_state
from runtime.packs.models import ExtensionInstall
from tests.runtime.test_packs_support import BUILTIN_PACKS, bare_app, write_pack

HOOKS = """
from pathlib import Path

LOG = Path(r"{log}")


def register(pack):
    pack.register("predicate_function", "always", lambda *args: True, label="Always")


def on_install(ctx):
    with LOG.open("a") as log:
        log.write(f"install {{ctx.name}} {{ctx.version}}\\n")
    {install_extra}


def on_upgrade(ctx, from_version):
    with LOG.open("a") as log:
        log.write(f"upgrade {{ctx.name}} {{from_version}}->{{ctx.version}}\\n")
    {upgrade_extra}
"""


@pytest.fixture
def start(database_url, tmp_path):
    """Start an app (one "process") against the test database; emptied of install state after."""
    apps = []

    def build(**overrides):
        app = bare_app(database_url, tmp_path / "var", disabled_packs=BUILTIN_PACKS, **overrides)
        apps.append(app)
        return app

    yield build
    engine = apps[0].extensions["vectis.db"].engine if apps else None
    if engine is not None:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM extension_install"))
    for app in apps:
        app.extensions["vectis.db"].dispose()


@pytest.fixture
def hook_log(tmp_path):
    return tmp_path / "hooks.log"


def hooks(log, install_extra="pass", upgrade_extra="pass"):
    return HOOKS.format(log=log, install_extra=install_extra, upgrade_extra=upgrade_extra)


def recorded(app) -> dict[str, str]:
    with app.extensions["vectis.db"].session() as session:
        return {row.name: row.version for row in session.exec(select(ExtensionInstall))}


def test_on_install_runs_once_and_not_again_on_restart(start, tmp_path, hook_log, frozen_clock):
    packs_dir = tmp_path / "packs"
    write_pack(packs_dir, "acme", hooks(hook_log))

    first = start(extension_dirs=(packs_dir,))
    assert sync_install_state(first) == {"acme": "installed"}
    second = start(extension_dirs=(packs_dir,))
    assert sync_install_state(second) == {}

    assert hook_log.read_text() == "install acme 1.0.0\n"
    with first.extensions["vectis.db"].session() as session:
        row = session.get(ExtensionInstall, "acme")
    assert (row.version, row.installed_at, row.upgraded_at) == (
        "1.0.0",
        datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc),
        None,
    )


def test_on_upgrade_runs_once_with_the_previous_version(start, tmp_path, hook_log, frozen_clock):
    packs_dir = tmp_path / "packs"
    write_pack(packs_dir, "acme", hooks(hook_log), version="1.0.0")
    sync_install_state(start(extension_dirs=(packs_dir,)))
    write_pack(packs_dir, "acme", hooks(hook_log), version="1.1.0")
    frozen_clock.advance(days=1)

    upgraded = start(extension_dirs=(packs_dir,))
    assert sync_install_state(upgraded) == {"acme": "upgraded from 1.0.0"}
    assert sync_install_state(start(extension_dirs=(packs_dir,))) == {}

    assert hook_log.read_text() == "install acme 1.0.0\nupgrade acme 1.0.0->1.1.0\n"
    with upgraded.extensions["vectis.db"].session() as session:
        row = session.get(ExtensionInstall, "acme")
    assert (row.version, row.upgraded_at) == ("1.1.0", datetime(2026, 1, 16, 12, 0, tzinfo=timezone.utc))


def test_a_pack_without_hooks_has_its_version_recorded(start, tmp_path):
    packs_dir = tmp_path / "packs"
    write_pack(packs_dir, "plain")

    app = start(extension_dirs=(packs_dir,))

    assert sync_install_state(app) == {"plain": "installed"}
    assert recorded(app) == {"plain": "1.0.0"}


def test_a_failing_install_hook_disables_the_pack_and_records_nothing(start, tmp_path, hook_log):
    packs_dir = tmp_path / "packs"
    write_pack(packs_dir, "fragile", hooks(hook_log, install_extra="raise RuntimeError('no seed data')"))
    write_pack(packs_dir, "zz_dependent", requires={"packs": ["fragile"]})

    app = start(extension_dirs=(packs_dir,))
    assert sync_install_state(app) == {}

    assert app.extensions["vectis.pack_failures"] == {
        "fragile": "install hook failed: RuntimeError: no seed data",
        "zz_dependent": "requires pack 'fragile', which failed to install",
    }
    assert app.extensions["vectis.registry"].names("predicate_function") == set()
    assert list(app.extensions["vectis.packs"]) == []
    assert recorded(app) == {}

    write_pack(packs_dir, "fragile", hooks(hook_log))
    fixed = start(extension_dirs=(packs_dir,))
    assert sync_install_state(fixed) == {"fragile": "installed", "zz_dependent": "installed"}
    assert hook_log.read_text() == "install fragile 1.0.0\ninstall fragile 1.0.0\n"


def test_a_failing_upgrade_hook_keeps_the_old_version(start, tmp_path, hook_log):
    packs_dir = tmp_path / "packs"
    write_pack(packs_dir, "acme", hooks(hook_log), version="1.0.0")
    sync_install_state(start(extension_dirs=(packs_dir,)))
    write_pack(packs_dir, "acme", hooks(hook_log, upgrade_extra="raise ValueError('bad column')"), version="2.0.0")

    app = start(extension_dirs=(packs_dir,))
    assert sync_install_state(app) == {}

    assert app.extensions["vectis.pack_failures"] == {"acme": "install hook failed: ValueError: bad column"}
    assert recorded(app) == {"acme": "1.0.0"}


def test_what_a_failing_hook_wrote_is_rolled_back(start, tmp_path, hook_log):
    packs_dir = tmp_path / "packs"
    extra = (
        "from runtime.packs.models import ExtensionInstall as Row\n"
        "    ctx.session.add(Row(name='side_effect', version='1.0'))\n"
        "    ctx.session.flush()\n"
        "    raise RuntimeError('after writing')"
    )
    write_pack(packs_dir, "writer", hooks(hook_log, install_extra=extra))

    app = start(extension_dirs=(packs_dir,))
    sync_install_state(app)

    assert recorded(app) == {}


def test_two_processes_starting_at_once_run_the_install_hook_once(start, tmp_path, hook_log):
    packs_dir = tmp_path / "packs"
    write_pack(packs_dir, "acme", hooks(hook_log, install_extra="import time; time.sleep(0.2)"))
    apps = [start(extension_dirs=(packs_dir,)) for _ in range(2)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run(app):
        barrier.wait()
        try:
            results.append(sync_install_state(app))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results, key=len) == [{}, {"acme": "installed"}]
    assert hook_log.read_text() == "install acme 1.0.0\n"
    assert recorded(apps[0]) == {"acme": "1.0.0"}


def test_two_processes_upgrading_at_once_run_the_upgrade_hook_once(start, tmp_path, hook_log):
    packs_dir = tmp_path / "packs"
    write_pack(packs_dir, "acme", hooks(hook_log), version="1.0.0")
    sync_install_state(start(extension_dirs=(packs_dir,)))
    write_pack(packs_dir, "acme", hooks(hook_log, upgrade_extra="import time; time.sleep(0.2)"), version="1.1.0")
    apps = [start(extension_dirs=(packs_dir,)) for _ in range(2)]
    barrier = threading.Barrier(2)
    results = []

    def run(app):
        barrier.wait()
        results.append(sync_install_state(app))

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results, key=len) == [{}, {"acme": "upgraded from 1.0.0"}]
    assert hook_log.read_text() == "install acme 1.0.0\nupgrade acme 1.0.0->1.1.0\n"


def test_the_app_factory_loads_the_builtin_packs_and_installs_them_once(app):
    assert app.extensions["vectis.pack_failures"] == {}
    assert "flat_rate_shipping" in app.extensions["vectis.packs"]

    assert sync_install_state(app)["flat_rate_shipping"] == "installed"
    assert "flat_rate_shipping" not in sync_install_state(app)
    assert recorded(app)["flat_rate_shipping"] == "1.0.0"
