"""Browser tests: the app served by a real HTTP server on a free port (a thread, on the suite's
backends: SQLite, and PostgreSQL when configured), driven by Debian's headless chromium through
Playwright — never a downloaded browser. Without /usr/bin/chromium (or playwright) they skip and
say why. Screenshots go to ``$VECTIS_TEST_ARTIFACTS`` (default ``var/test-artifacts``)/admin/<backend>/."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("VECTIS_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests: {CHROMIUM} is missing (scripts/test.sh installs Debian's chromium as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests: playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def server(app):
    """The app on http://127.0.0.1:<free port>, served by a thread until the test ends."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(5)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def shots(backend):
    """Saves a full-page screenshot under the run's artifacts: ``shots(page, "name")``."""
    folder = Path(os.environ.get("VECTIS_TEST_ARTIFACTS") or ROOT / "var" / "test-artifacts") / "admin" / backend
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
