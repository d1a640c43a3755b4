"""The dispatcher: the one way to run a job, on RQ workers or in-process.

With ``VECTIS_REDIS_URL`` set, :meth:`Dispatcher.enqueue` puts the job on an RQ queue and a
``vectis worker`` runs it. Without Redis (the embedded default) the same function runs in this
process, synchronously, inside an app context — after the commit when a session is given. Both
paths accept exactly the same jobs: a module-level function importable by its dotted path, with
arguments that survive pickling, so that code written against the embedded mode works unchanged
on workers.
"""
from __future__ import annotations

import importlib
import logging
import pickle
import re
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from flask import Flask, current_app
from rq import Queue
from sqlmodel import Session

from runtime.db import after_commit
from runtime.errors import ConfigError
from runtime.jobs.exceptions import JobError
from runtime.jobs.queues import DEFAULT, QUEUES

log = logging.getLogger(__name__)

#: What RQ accepts as a job id (``rq.job.JOB_ID_PATTERN``); above all, no ``:``, which RQ splits on.
JOB_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")

#: Seconds to wait for Redis to accept a connection before calling it unreachable.
REDIS_CONNECT_TIMEOUT = 2.0


def function_path(func: Callable[..., Any]) -> str:
    """The dotted path a worker imports ``func`` by; :class:`JobError` when it has none."""
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not callable(func) or not module or not qualname or "." in qualname or "<" in qualname:
        raise JobError(f"func: {func!r} is not a module-level function; workers import jobs by dotted path")
    if module == "__main__":
        raise JobError(f"func: {qualname} is defined in __main__, which a worker cannot import")
    try:
        found = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError):
        found = None
    if found is not func:
        raise JobError(f"func: {module}.{qualname} does not import back to the same function")
    return f"{module}.{qualname}"


def check_job_id(job_id: str | None) -> str:
    """Return ``job_id``, or a fresh one when ``None``; :class:`JobError` when RQ could not store it."""
    if job_id is None:
        return uuid.uuid4().hex
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.fullmatch(job_id):
        raise JobError(
            f"job_id: {job_id!r} must be 1-128 letters, digits, '_' or '-' (no ':', which RQ splits on)"
        )
    return job_id


def check_queue(queue: str) -> str:
    if queue not in QUEUES:
        raise JobError(f"queue: unknown queue {queue!r}; expected one of {', '.join(QUEUES)}")
    return queue


def safe_redis_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _round_trip(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Copy arguments the way a worker receives them, so the embedded mode refuses what RQ would."""
    try:
        return pickle.loads(pickle.dumps((args, kwargs)))
    except Exception as exc:
        raise JobError(f"args: cannot be sent to a worker ({type(exc).__name__}: {exc})") from None


def _observe(app: Flask, job: str, queue: str, status: str) -> None:
    from runtime.observability import observe_job

    observe_job(job, queue, status, app=app)


class Dispatcher:
    """Kept in ``app.extensions["vectis.jobs"]``. ``connection`` is ``None`` in the embedded mode."""

    def __init__(self, app: Flask, redis_url: str = ""):
        self.app = app
        self.redis_url = redis_url
        self.connection: redis.Redis | None = None
        if redis_url:
            self.connection = redis.Redis.from_url(
                redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, health_check_interval=30
            )
        #: The in-process sweep timer, once :func:`runtime.jobs.periodic.sweep_timer` made one.
        self.timer = None

    @property
    def in_process(self) -> bool:
        return self.connection is None

    def probe(self) -> None:
        """Raise :class:`ConfigError` with one line if Redis is configured and does not answer."""
        if self.connection is None:
            return
        try:
            self.connection.ping()
        except redis.RedisError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"VECTIS_REDIS_URL: cannot connect to {safe_redis_url(self.redis_url)}: {reason}") from None

    def queue(self, name: str) -> Queue:
        if self.connection is None:
            raise ConfigError("VECTIS_REDIS_URL: not set; jobs run in-process and there are no RQ queues")
        return Queue(check_queue(name), connection=self.connection)

    def enqueue(
        self,
        func: Callable[..., Any],
        *args: Any,
        queue: str = DEFAULT,
        job_id: str | None = None,
        session: Session | None = None,
        **kwargs: Any,
    ) -> str:
        """Run ``func(*args, **kwargs)`` later (or, in-process, now); return the job id.

        With ``session`` (one of :meth:`Database.transaction`), nothing happens unless and until
        that transaction commits.
        """
        path = function_path(func)
        check_queue(queue)
        job_id = check_job_id(job_id)
        if self.in_process:
            args, kwargs = _round_trip(args, kwargs)
            submit = partial(self.run_in_process, func, args, kwargs, queue=queue, job_id=job_id)
        else:
            submit = partial(self._enqueue_rq, func, path, args, kwargs, queue, job_id)
        if session is None:
            submit()
        else:
            after_commit(session, partial(self._after_commit, submit, path, queue, job_id))
        return job_id

    def _enqueue_rq(self, func, path: str, args: tuple, kwargs: dict, queue: str, job_id: str) -> None:
        self.queue(queue).enqueue_call(func, args=args, kwargs=kwargs, job_id=job_id)
        _observe(self.app, path, queue, "enqueued")

    def _after_commit(self, submit: Callable[[], None], path: str, queue: str, job_id: str) -> None:
        # The transaction has committed: raising now would turn a done change into an error for the
        # caller. A job whose enqueue fails is logged and counted; work that must happen is found
        # again by a sweep from its own database state (see docs/jobs.md).
        try:
            submit()
        except redis.RedisError:
            log.exception("job %s (%s) on queue %s: enqueue after commit failed", job_id, path, queue)
            _observe(self.app, path, queue, "enqueue_failed")

    def run_in_process(
        self, func: Callable[..., Any], args: tuple = (), kwargs: dict | None = None, *, queue: str, job_id: str
    ) -> bool:
        """Run a job here, inside a fresh app context, as a worker would; True when it succeeded.

        A failing job is logged and counted, never raised: its caller's work is already done,
        exactly as with a worker.
        """
        path = function_path(func)
        with self.app.app_context():
            try:
                func(*args, **(kwargs or {}))
            except Exception:
                log.exception("job %s (%s) on queue %s failed", job_id, path, queue)
                _observe(self.app, path, queue, "failed")
                return False
            _observe(self.app, path, queue, "succeeded")
            return True


def get_dispatcher(app: Flask | None = None) -> Dispatcher:
    """The app's dispatcher (``current_app`` by default)."""
    app = app or current_app
    try:
        return app.extensions["vectis.jobs"]
    except KeyError:
        raise RuntimeError("runtime.jobs.init_app(app) has not been called for this app") from None


def enqueue(
    func: Callable[..., Any],
    *args: Any,
    queue: str = DEFAULT,
    job_id: str | None = None,
    session: Session | None = None,
    **kwargs: Any,
) -> str:
    """Enqueue on the current app's dispatcher. See :meth:`Dispatcher.enqueue`."""
    return get_dispatcher().enqueue(func, *args, queue=queue, job_id=job_id, session=session, **kwargs)
