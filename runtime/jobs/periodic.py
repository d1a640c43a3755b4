"""Periodic jobs: entries of the registry's ``periodic_job`` slot.

The core and packs declare them the one way, :func:`register_periodic_job`. ``vectis cron``
hands every one to RQ's :class:`~rq.cron.CronScheduler`; without Redis the :class:`SweepTimer`
of ``vectis serve`` runs the same list in-process, on the runtime clock.

Cron strings are read in the server's local time zone, as RQ reads them: run servers in UTC.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from flask import Flask

from runtime.clock import clock
from runtime.jobs.dispatcher import check_queue, function_path, get_dispatcher
from runtime.jobs.exceptions import JobError
from runtime.jobs.queues import SWEEPS
from runtime.packs.registry import Entry, RegistrationError, Registry, Slot

log = logging.getLogger(__name__)

#: The registry slot holding :class:`PeriodicJob` values.
PERIODIC_JOB = "periodic_job"


@dataclass(frozen=True)
class PeriodicJob:
    """A function run every ``interval`` seconds or on a ``cron`` schedule (exactly one of them).

    ``func`` takes no arguments: a sweep finds its work in the database, so running it twice, or
    late, is harmless.
    """

    func: Callable[[], Any]
    interval: int | None = None
    cron: str | None = None
    queue: str = SWEEPS
    description: str = ""

    def __post_init__(self) -> None:
        function_path(self.func)
        if (self.interval is None) == (self.cron is None):
            raise JobError("interval: give either interval (seconds) or cron, exactly one of them")
        if self.interval is not None and (
            not isinstance(self.interval, int) or isinstance(self.interval, bool) or self.interval <= 0
        ):
            raise JobError(f"interval: expected a positive whole number of seconds, got {self.interval!r}")
        if self.cron is not None and not (isinstance(self.cron, str) and croniter.is_valid(self.cron)):
            raise JobError(f"cron: {self.cron!r} is not a valid cron expression")
        check_queue(self.queue)

    def next_after(self, moment: datetime) -> datetime:
        """When this job is next due after ``moment`` (timezone-aware)."""
        if self.interval is not None:
            return moment + timedelta(seconds=self.interval)
        local = moment.astimezone()
        return croniter(self.cron, local).get_next(datetime).astimezone(moment.tzinfo)


def _check(value: Any) -> None:
    if not isinstance(value, PeriodicJob):
        raise TypeError(f"expected a runtime.jobs.PeriodicJob, got {type(value).__name__}")


#: The slot, declared by the packs engine (or by :func:`declare_slot`) before packs load.
PERIODIC_JOB_SLOT = Slot(
    PERIODIC_JOB,
    "A function run every N seconds or on a cron schedule, by `vectis cron` or the in-process timer",
    check=_check,
)


def declare_slot(registry: Registry | None) -> None:
    """Declare the ``periodic_job`` slot on ``registry`` unless it already is."""
    if registry is not None and PERIODIC_JOB not in registry.slots:
        registry.declare_slot(PERIODIC_JOB_SLOT)


def register_periodic_job(
    registry: Registry,
    name: str,
    func: Callable[[], Any],
    *,
    pack: str = "core",
    interval: int | None = None,
    cron: str | None = None,
    queue: str = SWEEPS,
    description: str = "",
    label: str | None = None,
) -> Entry:
    """Register ``func`` as the periodic job ``<pack>.periodic_job.<name>``."""
    try:
        job = PeriodicJob(func, interval=interval, cron=cron, queue=queue, description=description)
    except JobError as exc:
        raise RegistrationError(f"{pack}.{PERIODIC_JOB}.{name}: {exc}") from None
    return registry.register(pack, PERIODIC_JOB, name, job, label=label or description or name)


def periodic_jobs(app: Flask) -> list[Entry]:
    """Every registered periodic job of ``app``, by key."""
    registry: Registry | None = app.extensions.get("vectis.registry")
    if registry is None:
        return []
    entries = []
    for entry in sorted(registry.entries(PERIODIC_JOB), key=lambda e: e.key):
        if isinstance(entry.value, PeriodicJob):
            entries.append(entry)
        else:  # only when the slot was declared without this module's check
            log.error("%s: expected a runtime.jobs.PeriodicJob, got %s; skipped", entry.key, type(entry.value).__name__)
    return entries


class SweepTimer:
    """Runs due periodic jobs in-process: a daemon thread calls :meth:`run_due` every ``interval`` s.

    Tests drive :meth:`run_due` directly on a frozen clock. An interval job is due at the first
    check, then every ``interval`` seconds; a cron job at its next cron time after the first check.
    """

    def __init__(self, app: Flask, interval: float):
        self.app = app
        self.interval = interval
        self._due: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Run every periodic job due at ``now`` (the runtime clock's); return their keys."""
        now = now or clock.now()
        ran: list[str] = []
        with self._lock:
            for entry in periodic_jobs(self.app):
                job: PeriodicJob = entry.value
                due = self._due.setdefault(entry.key, now if job.interval is not None else job.next_after(now))
                if due > now:
                    continue
                self._due[entry.key] = job.next_after(now)
                job_id = f"periodic-{uuid.uuid4().hex}"
                get_dispatcher(self.app).run_in_process(job.func, queue=job.queue, job_id=job_id)
                ran.append(entry.key)
        return ran

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="vectis-sweep-timer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while True:
            try:
                self.run_due()
            except Exception:  # a broken registry entry must not end the timer
                log.exception("in-process sweep timer: run failed")
            if self._stop.wait(self.interval):
                return


def sweep_timer(app: Flask) -> SweepTimer:
    """The app's in-process timer (made on first use, not started)."""
    jobs = get_dispatcher(app)
    if jobs.timer is None:
        jobs.timer = SweepTimer(app, app.config["VECTIS"].sweep_interval_seconds)
    return jobs.timer


def start_sweep_timer(app: Flask) -> SweepTimer | None:
    """Start the in-process timer, for ``vectis serve``/``demo``; None when it must not run.

    It runs only without Redis (``vectis cron`` schedules periodic jobs then) and when
    ``VECTIS_RUN_SWEEPS_IN_PROCESS`` is on.
    """
    settings = app.config["VECTIS"]
    if not get_dispatcher(app).in_process or not settings.run_sweeps_in_process:
        return None
    timer = sweep_timer(app)
    timer.start()
    log.info("in-process sweep timer: every %ss, %d periodic jobs", timer.interval, len(periodic_jobs(app)))
    return timer


def stop_sweep_timer(app: Flask) -> None:
    timer = get_dispatcher(app).timer
    if timer is not None:
        timer.stop()
