"""A JSON service on 127.0.0.1 for packs that call one over HTTP (the tax service, the LLM
endpoint): it answers POSTs from a script, so a test can make it slow or fail on purpose."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeJsonService:
    """``script`` holds ``(action, value)`` per request: ``("slow", seconds)`` waits then answers
    the default, an int action answers that status with ``error``; anything else goes to
    ``answer(body, action, value)``, whose payload is sent with 200. ``requests`` keeps each body
    and its Authorization header."""

    def __init__(self, path: str, answer: Callable[[Any, Any, Any], Any], *, default: tuple, error: Any):
        self.script: list[tuple] = []
        self.requests: list[dict] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                service.requests.append({"body": body, "auth": self.headers.get("Authorization")})
                action, value = service.script.pop(0) if service.script else default
                if action == "slow":
                    time.sleep(value)
                    action, value = default
                if isinstance(action, int):
                    self._answer(action, error)
                else:
                    self._answer(200, answer(body, action, value))

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except BrokenPipeError:  # the client timed out and left
                    pass

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
