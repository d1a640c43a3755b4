"""Jobs: everything that happens later — sweeps, refund execution, event fan-out.

One way to run a job, :func:`enqueue`, on RQ workers when ``VECTIS_REDIS_URL`` is set and
in-process otherwise; periodic jobs are entries of the registry's ``periodic_job`` slot. Jobs
must be idempotent by their own database state: delivery is at least once. See ``docs/jobs.md``.
"""
from __future__ import annotations

from flask import Flask

from runtime.jobs.dispatcher import Dispatcher, enqueue, get_dispatcher
from runtime.jobs.exceptions import JobError
from runtime.jobs.periodic import (
    PERIODIC_JOB,
    PERIODIC_JOB_SLOT,
    PeriodicJob,
    SweepTimer,
    declare_slot,
    periodic_jobs,
    register_periodic_job,
    start_sweep_timer,
    stop_sweep_timer,
    sweep_timer,
)
from runtime.jobs.queues import DEFAULT, EVENTS, QUEUES, REFUNDS, SWEEPS

__all__ = [
    "DEFAULT", "EVENTS", "QUEUES", "REFUNDS", "SWEEPS",
    "PERIODIC_JOB", "PERIODIC_JOB_SLOT",
    "Dispatcher", "JobError", "PeriodicJob", "SweepTimer",
    "declare_slot", "enqueue", "get_dispatcher", "init_app", "periodic_jobs", "probe",
    "register_periodic_job", "start_sweep_timer", "stop_sweep_timer", "sweep_timer",
]


def init_app(app: Flask) -> Dispatcher:
    """Keep a :class:`Dispatcher` in ``app.extensions["vectis.jobs"]``; make sure the slot exists.

    Does not contact Redis: :func:`probe` does, at start-up.
    """
    jobs = Dispatcher(app, app.config["VECTIS"].redis_url)
    app.extensions["vectis.jobs"] = jobs
    declare_slot(app.extensions.get("vectis.registry"))
    return jobs


def probe(app: Flask) -> None:
    """Raise a one-line ``ConfigError`` if Redis is configured and unreachable."""
    get_dispatcher(app).probe()
