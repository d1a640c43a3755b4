"""End to end: the demo server (`vectis demo`, on a fresh var dir and a free port, in a subprocess)
and the client script (examples/client/checkout.py) running a guest, a B2C and a B2B checkout
against it over HTTP."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent.parent
CLIENT = ROOT / "examples" / "client" / "checkout.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_health(base: str, server: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the demo server exited with {server.returncode}:\n{server.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the demo server did not answer {base}/health within {seconds}s")


@pytest.fixture
def demo_server(tmp_path):
    port = _free_port()
    database = tmp_path / "vectis.db"
    env = {**os.environ, "VECTIS_VAR_DIR": str(tmp_path), "VECTIS_DATABASE_URL": f"sqlite:///{database}",
           "VECTIS_REDIS_URL": "", "VECTIS_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-c", "from runtime.cli import main; main()", "demo", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_health(base, server, 45)
        yield base, database
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_client_script_checks_out_as_guest_customer_and_b2b_buyer(demo_server):
    base, database = demo_server

    done = subprocess.run([sys.executable, str(CLIENT), "--url", f"{base}/graphql", "--scenario", "all"],
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["guest", "b2c", "b2b"]
    ids = [int(line.rsplit("id=", 1)[1]) for line in lines]
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT o.id, c.slug, o.account_id IS NOT NULL FROM orders o JOIN channel c ON c.id = o.channel_id ORDER BY o.id"
        )).all()
    engine.dispose()
    assert [row[0] for row in rows] == ids
    assert [(row[1], bool(row[2])) for row in rows] == [("web", False), ("web", False), ("b2b", True)]


def test_the_b2c_checkout_applies_welcome10_once_per_customer(demo_server):
    base, database = demo_server
    command = [sys.executable, str(CLIENT), "--url", f"{base}/graphql", "--scenario", "b2c"]

    first = subprocess.run(command, capture_output=True, text=True, timeout=60)
    second = subprocess.run(command, capture_output=True, text=True, timeout=60)

    assert first.returncode == 0, first.stderr
    assert "(WELCOME10)  id=" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "(WELCOME10 already used: not applied)  id=" in second.stdout
    ids = [int(done.stdout.rsplit("id=", 1)[1]) for done in (first, second)]
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        found = conn.execute(text(
            "SELECT o.id, o.subtotal, o.discount_total, d.promotion_name, d.coupon_code, d.amount FROM orders o "
            "LEFT JOIN order_discount d ON d.order_id = o.id AND d.coupon_code IS NOT NULL ORDER BY o.id")).all()
    engine.dispose()
    assert [row[0] for row in found] == ids
    welcome = found[0]
    assert (welcome[3], welcome[4]) == ("welcome10", "WELCOME10")
    # one line, nothing else discounted: 10 % of the subtotal to the cent (SQLite keeps ten-thousandths)
    tenth = (Decimal(welcome[1]) / 100_000).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert Decimal(welcome[5]) / 10_000 == Decimal(welcome[2]) / 10_000 == tenth
    assert found[1][3:] == (None, None, None)


def test_the_b2b_approval_scenario_is_refused_submitted_approved_and_placed(demo_server):
    base, _database = demo_server
    done = subprocess.run([sys.executable, str(CLIENT), "--url", f"{base}/graphql", "--scenario", "b2b-approval"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("b2b-approval order ") and "approved by manager@acme.demo.test" in line, line
