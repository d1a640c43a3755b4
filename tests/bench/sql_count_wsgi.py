"""``runtime.wsgi:app`` for the HTTP benchmarks, answering each request with what it asked of the
database when ``VECTIS_BENCH_COUNT_SQL`` is set:

* ``X-Vectis-SQL-Count``: SQL statements (``before_cursor_execute`` on the app's engine: every
  statement, including reads, retries and the outbox insert);
* ``X-Vectis-SQL-Transactions``: transactions begun (each costs a BEGIN and a COMMIT or ROLLBACK
  round trip besides its statements);
* ``X-Vectis-Pool-Checkouts``: connections taken from the pool (each pings the server first:
  the engine has ``pool_pre_ping``).

Counts are per thread (a gthread worker serves one request per thread at a time).
"""
from __future__ import annotations

import os
import threading

from sqlalchemy import event

from runtime.wsgi import app as vectis_app

HEADERS = {"statements": "X-Vectis-SQL-Count", "transactions": "X-Vectis-SQL-Transactions", "checkouts": "X-Vectis-Pool-Checkouts"}
_counts = threading.local()


def _counter(name: str):
    def count(*_args) -> None:
        setattr(_counts, name, getattr(_counts, name, 0) + 1)

    return count


def _counting(wsgi_app):
    def app(environ, start_response):
        for name in HEADERS:
            setattr(_counts, name, 0)

        def start(status, headers, exc_info=None):
            counted = [(header, str(getattr(_counts, name))) for name, header in HEADERS.items()]
            return start_response(status, [*headers, *counted], exc_info)

        return wsgi_app(environ, start)

    return app


if os.environ.get("VECTIS_BENCH_COUNT_SQL"):
    _engine = vectis_app.extensions["vectis.db"].engine
    event.listen(_engine, "before_cursor_execute", _counter("statements"))
    event.listen(_engine, "begin", _counter("transactions"))
    event.listen(_engine.pool, "checkout", _counter("checkouts"))
    app = _counting(vectis_app)
else:
    app = vectis_app
