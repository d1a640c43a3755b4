"""``runtime.wsgi:app`` for the HTTP benchmarks, answering each request with the number of SQL
statements it sent (header ``X-Vectis-SQL-Count``) when ``VECTIS_BENCH_COUNT_SQL`` is set.

The count is per thread (a gthread worker serves one request per thread at a time), taken by a
``before_cursor_execute`` listener on the app's engine: every statement the request executes,
including BEGIN-less reads, retries and the outbox insert.
"""
from __future__ import annotations

import os
import threading

from sqlalchemy import event

from runtime.wsgi import app as vectis_app

HEADER = "X-Vectis-SQL-Count"
_counts = threading.local()


def _count(*_args) -> None:
    _counts.value = getattr(_counts, "value", 0) + 1


def _counting(wsgi_app):
    def app(environ, start_response):
        _counts.value = 0

        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, (HEADER, str(_counts.value))], exc_info)

        return wsgi_app(environ, start)

    return app


if os.environ.get("VECTIS_BENCH_COUNT_SQL"):
    event.listen(vectis_app.extensions["vectis.db"].engine, "before_cursor_execute", _count)
    app = _counting(vectis_app)
else:
    app = vectis_app
