"""Webhook delivery throughput: N pending deliveries sent by 1 and by 2 workers to a receiver on
127.0.0.1 that answers 200 at once (signing, the HTTP round trip, the claim and record transactions).

    .venv/bin/python -m tests.bench.bench_webhooks [--deliveries 400] [--database-url URL]

The workers are threads of this process calling the delivery job as an RQ worker does (one
process per worker in production, so two real workers are not bound by this process's GIL).
Without ``--database-url`` the app runs on a scratch SQLite file. Prints deliveries per second.
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.fernet import Fernet

from runtime.app import create_app
from runtime.auth.permissions import Actor
from runtime.config import load_settings
from runtime.migrate import upgrade
from runtime.webhooks.delivery import deliver_webhook
from runtime.webhooks.models import WebhookDelivery
from runtime.webhooks.subscriptions import subscribe

OPTIONS = ["--deliveries", "--database-url"]


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _pending(app, subscription_id: int, count: int) -> list[int]:
    def work(session):
        rows = [WebhookDelivery(subscription_id=subscription_id, event_id=str(uuid.uuid4()), event_type="cart.created",
                                body='{"payload":{"cart_id":"c1"}}') for _ in range(count)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]

    return app.extensions["vectis.db"].run(work)


def _send(app, ids: list[int], workers: int) -> float:
    def worker(share: list[int]) -> None:
        with app.app_context():
            for delivery_id in share:
                assert deliver_webhook(delivery_id) == "succeeded"

    threads = [threading.Thread(target=worker, args=(ids[i::workers],)) for i in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(ids) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        app = create_app(load_settings(environ={}, database_url=url, var_dir=Path(folder), run_sweeps_in_process=False,
                                       secrets_master_key=Fernet.generate_key().decode(),
                                       webhooks_allow_private_networks=True))  # the receiver is on 127.0.0.1
        with app.app_context():
            subscription, _secret = app.extensions["vectis.db"].run(lambda s: subscribe(
                s, Actor(user_id=1, email="bench@example.test"), "cart.created",
                f"http://127.0.0.1:{server.server_port}/hook"))
        for workers in (1, 2):
            rate = _send(app, _pending(app, subscription.id, args.deliveries), workers)
            print(f"{workers} worker(s): {rate:7.0f} deliveries/s ({args.deliveries} deliveries)")
    server.shutdown()


if __name__ == "__main__":
    main()
