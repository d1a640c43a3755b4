"""RQ workers and the cron scheduler, built around one app.

``vectis worker`` builds the app once, pushes its context and works. Jobs run in a forked work
horse (RQ's default :class:`rq.Worker`), not in the worker process itself (:class:`rq.SimpleWorker`):

* a job that crashes the interpreter, leaks memory or hangs in C code (durable_rules can do all
  three, see ``notes/durable_rules.md``) takes down one horse, not the worker; the parent kills a
  horse that outlives its timeout even when it never returns to Python;
* the cost — one ``fork()`` per job — is small next to a job's database round trips.

Forking is made safe for the database: the horse inherits the parent's app, app context and
compiled definitions, but must not use the parent's pooled connections (two processes on one
socket corrupt both), so it drops the inherited pool with ``engine.dispose(close=False)`` — which
leaves the parent's sockets open — and opens its own. Redis clients reconnect after a fork by
themselves (redis-py checks the pid).
"""
from __future__ import annotations

from collections.abc import Sequence

from flask import Flask
from rq import SimpleWorker, Worker
from rq.cron import CronScheduler
from rq.job import Job, JobStatus
from rq.queue import Queue

from runtime.errors import ConfigError
from runtime.jobs.dispatcher import get_dispatcher
from runtime.jobs.periodic import periodic_jobs
from runtime.jobs.queues import QUEUES

_STATUS = {JobStatus.FINISHED: "succeeded", JobStatus.FAILED: "failed"}


class _CountingWorker:
    """Counts each job's outcome in this process's metrics, from the parent (a horse's are lost)."""

    vectis_app: Flask

    def execute_job(self, job: Job, queue: Queue):
        super().execute_job(job, queue)
        try:
            status = _STATUS.get(job.get_status(refresh=True), "other")
        except Exception:  # the job and its result may already have expired
            status = "other"
        from runtime.observability import observe_job

        observe_job(job.func_name or "?", queue.name, status, app=self.vectis_app)


class VectisWorker(_CountingWorker, Worker):
    """The worker of ``vectis worker``: one forked horse per job, with a fresh database pool."""

    def main_work_horse(self, job: Job, queue: Queue):
        self.vectis_app.extensions["vectis.db"].engine.dispose(close=False)
        super().main_work_horse(job, queue)


class VectisSimpleWorker(_CountingWorker, SimpleWorker):
    """Runs jobs in the worker process itself; for tests and debuggers."""


def build_worker(
    app: Flask, queues: Sequence[str] = QUEUES, *, worker_class: type[Worker] | type[SimpleWorker] = VectisWorker
):
    """A worker on ``queues`` of ``app``'s Redis. Run it inside ``app.app_context()``."""
    jobs = get_dispatcher(app)
    if jobs.connection is None:
        raise ConfigError("VECTIS_REDIS_URL: not set; jobs run in-process, there is nothing for a worker to do")
    worker = worker_class([jobs.queue(name) for name in queues], connection=jobs.connection)
    worker.vectis_app = app
    return worker


def build_cron_scheduler(app: Flask, name: str = "") -> CronScheduler:
    """RQ's cron scheduler holding every periodic job of ``app`` (named by registry key)."""
    jobs = get_dispatcher(app)
    if jobs.connection is None:
        raise ConfigError("VECTIS_REDIS_URL: not set; periodic jobs run on the in-process timer of vectis serve")
    scheduler = CronScheduler(connection=jobs.connection, logging_level=app.config["VECTIS"].log_level, name=name)
    for entry in periodic_jobs(app):
        job = entry.value
        scheduler.register(job.func, job.queue, interval=job.interval, cron=job.cron, name=entry.key)
    return scheduler
