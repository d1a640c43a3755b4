"""Jobs: one enqueue, after commit only; RQ workers and cron with Redis; the in-process timer without.

The app here is a bare Flask app with only the database, a registry, jobs and observability, so
these tests depend on nothing else. Effects are rows of a scratch table, seen through the
database the way any real job's effect would be.
"""
from __future__ import annotations

import time

import pytest
import redis
from click.testing import CliRunner
from flask import Flask, current_app
from rq import Queue
from sqlalchemy import text

from runtime import jobs, observability
from runtime.db import Database
from runtime.errors import ConfigError
from runtime.jobs import cli as jobs_cli
from runtime.jobs.worker import VectisSimpleWorker, VectisWorker, build_cron_scheduler, build_worker
from runtime.packs.registry import RegistrationError, Registry

EFFECTS = "vectis_test_job_effects"


# -- jobs under test: module-level, as workers import them by dotted path --------------------


def record(note: str) -> None:
    with current_app.extensions["vectis.db"].transaction() as session:
        session.connection().execute(text(f"INSERT INTO {EFFECTS} (note) VALUES (:note)"), {"note": note})


def explode() -> None:
    raise RuntimeError("boom")


def sweep_every_five_minutes() -> None:
    record("five-minutely")


def sweep_hourly() -> None:
    record("hourly")


# -- fixtures ---------------------------------------------------------------------------------


def build_app(settings) -> Flask:
    app = Flask("jobs_test")
    app.config.update(VECTIS=settings, TESTING=True)
    app.extensions["vectis.db"] = Database(settings.database_url)
    app.extensions["vectis.registry"] = Registry()
    jobs.init_app(app)
    observability.init_app(app)
    return app


@pytest.fixture
def jobs_app(settings):
    app = build_app(settings)
    engine = app.extensions["vectis.db"].engine
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {EFFECTS} (note VARCHAR(100) NOT NULL)"))
        conn.execute(text(f"DELETE FROM {EFFECTS}"))
    yield app
    jobs.stop_sweep_timer(app)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {EFFECTS}"))
    if settings.redis_url:
        redis.Redis.from_url(settings.redis_url).flushdb()
    app.extensions["vectis.db"].dispose()


def effects(app: Flask) -> list[str]:
    with app.extensions["vectis.db"].engine.connect() as conn:
        return [row[0] for row in conn.execute(text(f"SELECT note FROM {EFFECTS} ORDER BY note"))]


def job_count(app: Flask, job: str, queue: str, status: str) -> float:
    value = observability.get_metrics(app).registry.get_sample_value(
        "vectis_jobs_total", {"job": job, "queue": queue, "status": status}
    )
    return value or 0.0


@pytest.fixture
def in_process(redis_url):
    if redis_url:
        pytest.skip("in-process jobs: runs on the backend without Redis")


@pytest.fixture
def with_redis(redis_url):
    if not redis_url:
        pytest.skip("RQ: needs VECTIS_TEST_REDIS_URL (runs with the postgres backend)")


RECORD = f"{__name__}.record"


# -- enqueue: validation (both modes) ---------------------------------------------------------


def test_a_job_id_with_a_colon_is_refused_and_nothing_runs(jobs_app):
    with jobs_app.app_context():
        with pytest.raises(jobs.JobError) as refused:
            jobs.enqueue(record, "x", job_id="order:42")
    assert str(refused.value) == (
        "job_id: 'order:42' must be 1-128 letters, digits, '_' or '-' (no ':', which RQ splits on)"
    )
    assert effects(jobs_app) == []
    assert job_count(jobs_app, RECORD, "default", "succeeded") == 0
    assert job_count(jobs_app, RECORD, "default", "enqueued") == 0


def test_a_function_without_a_dotted_path_is_refused(jobs_app):
    with jobs_app.app_context(), pytest.raises(jobs.JobError) as refused:
        jobs.enqueue(lambda: None)
    assert str(refused.value).startswith("func: <function test_a_function_without_a_dotted_path_is_refused.<locals>")
    assert str(refused.value).endswith("is not a module-level function; workers import jobs by dotted path")


def test_an_unknown_queue_is_refused(jobs_app):
    with jobs_app.app_context(), pytest.raises(jobs.JobError) as refused:
        jobs.enqueue(record, "x", queue="mail")
    assert str(refused.value) == "queue: unknown queue 'mail'; expected one of default, sweeps, refunds, events"
    assert effects(jobs_app) == []


# -- in-process (no Redis) --------------------------------------------------------------------


def test_in_process_job_runs_only_after_the_commit(jobs_app, in_process):
    database = jobs_app.extensions["vectis.db"]
    with jobs_app.app_context():
        with database.transaction() as session:
            job_id = jobs.enqueue(record, "placed", session=session, job_id="order-42-placed")
            seen_inside = effects(jobs_app)
    assert job_id == "order-42-placed"
    assert seen_inside == []
    assert effects(jobs_app) == ["placed"]
    assert job_count(jobs_app, RECORD, "default", "succeeded") == 1


def test_in_process_job_never_runs_after_a_rollback(jobs_app, in_process):
    database = jobs_app.extensions["vectis.db"]
    with jobs_app.app_context(), pytest.raises(RuntimeError, match="refused"):
        with database.transaction() as session:
            jobs.enqueue(record, "placed", session=session)
            raise RuntimeError("refused")
    assert effects(jobs_app) == []
    assert job_count(jobs_app, RECORD, "default", "succeeded") == 0


def test_in_process_job_without_session_runs_at_once_in_its_own_app_context(jobs_app, in_process):
    jobs.get_dispatcher(jobs_app).enqueue(record, "now", queue=jobs.REFUNDS)
    assert effects(jobs_app) == ["now"]
    assert job_count(jobs_app, RECORD, "refunds", "succeeded") == 1


def test_in_process_refuses_arguments_a_worker_could_not_receive(jobs_app, in_process):
    with jobs_app.app_context(), pytest.raises(jobs.JobError) as refused:
        jobs.enqueue(record, lambda: "not picklable")
    assert str(refused.value).startswith("args: cannot be sent to a worker (")
    assert effects(jobs_app) == []


def test_a_failing_in_process_job_is_logged_and_counted_not_raised(jobs_app, in_process, caplog):
    database = jobs_app.extensions["vectis.db"]
    with jobs_app.app_context():
        with database.transaction() as session:
            jobs.enqueue(explode, session=session, job_id="doomed")
    assert job_count(jobs_app, f"{__name__}.explode", "default", "failed") == 1
    failures = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in failures] == [f"job doomed ({__name__}.explode) on queue default failed"]
    assert failures[0].exc_info[1].args == ("boom",)


def test_worker_and_cron_without_redis_explain_and_exit_2(jobs_app, in_process, monkeypatch):
    monkeypatch.setattr(jobs_cli, "_load_app", lambda: jobs_app)
    runner = CliRunner()
    worker = runner.invoke(jobs_cli.worker_command, [])
    cron = runner.invoke(jobs_cli.cron_command, [])
    assert (worker.exit_code, cron.exit_code) == (2, 2)
    assert worker.stderr == (
        "vectis worker: VECTIS_REDIS_URL is not set, so jobs run in-process inside vectis serve; nothing to do.\n"
    )
    assert cron.stderr == (
        "vectis cron: VECTIS_REDIS_URL is not set, so periodic jobs run on the in-process timer"
        " of vectis serve; nothing to do.\n"
    )


# -- Redis unreachable ------------------------------------------------------------------------


def test_unreachable_redis_is_one_config_line_without_the_password(jobs_app):
    dispatcher = jobs.Dispatcher(jobs_app, "redis://:s3cret@127.0.0.1:1/0")
    with pytest.raises(ConfigError) as refused:
        dispatcher.probe()
    message = str(refused.value)
    assert message.startswith("VECTIS_REDIS_URL: cannot connect to redis://:***@127.0.0.1:1/0: ")
    assert "Connection refused" in message
    assert "s3cret" not in message and "\n" not in message


# -- periodic jobs: registration --------------------------------------------------------------


def register_sweeps(app: Flask) -> None:
    registry = app.extensions["vectis.registry"]
    jobs.register_periodic_job(
        registry, "five_minutely", sweep_every_five_minutes, interval=300, description="Every five minutes"
    )
    jobs.register_periodic_job(registry, "hourly", sweep_hourly, cron="0 * * * *", queue=jobs.DEFAULT)


def test_periodic_jobs_are_registry_entries(jobs_app):
    register_sweeps(jobs_app)
    entries = jobs.periodic_jobs(jobs_app)
    assert [(e.key, e.label, e.value.queue) for e in entries] == [
        ("core.periodic_job.five_minutely", "Every five minutes", "sweeps"),
        ("core.periodic_job.hourly", "hourly", "default"),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "interval: give either interval (seconds) or cron, exactly one of them"),
        ({"interval": 60, "cron": "* * * * *"}, "interval: give either interval (seconds) or cron, exactly one of them"),
        ({"interval": 0}, "interval: expected a positive whole number of seconds, got 0"),
        ({"cron": "every hour"}, "cron: 'every hour' is not a valid cron expression"),
        ({"interval": 60, "queue": "mail"}, "queue: unknown queue 'mail'; expected one of default, sweeps, refunds, events"),
    ],
)
def test_a_bad_periodic_job_is_refused_with_its_key(jobs_app, options, message):
    registry = jobs_app.extensions["vectis.registry"]
    with pytest.raises(RegistrationError) as refused:
        jobs.register_periodic_job(registry, "broken", sweep_hourly, **options)
    assert str(refused.value) == f"core.periodic_job.broken: {message}"
    assert jobs.periodic_jobs(jobs_app) == []


def test_the_slot_refuses_a_bare_function(jobs_app):
    registry = jobs_app.extensions["vectis.registry"]
    with pytest.raises(RegistrationError) as refused:
        registry.register("core", "periodic_job", "bare", sweep_hourly, label="bare")
    assert str(refused.value) == "core.periodic_job.bare: expected a runtime.jobs.PeriodicJob, got function"


# -- periodic jobs: the in-process timer, on the runtime clock --------------------------------


def test_the_timer_runs_each_periodic_job_when_due(jobs_app, in_process, frozen_clock):
    register_sweeps(jobs_app)
    timer = jobs.sweep_timer(jobs_app)
    t0 = frozen_clock.now().replace(minute=0, second=0, microsecond=0)
    frozen_clock.freeze(t0)

    assert timer.run_due() == ["core.periodic_job.five_minutely"]
    frozen_clock.advance(seconds=299)
    assert timer.run_due() == []
    frozen_clock.advance(seconds=1)
    assert timer.run_due() == ["core.periodic_job.five_minutely"]
    frozen_clock.freeze(t0.replace(minute=59, second=59))
    assert timer.run_due() == ["core.periodic_job.five_minutely"]
    frozen_clock.advance(seconds=1)
    assert timer.run_due() == ["core.periodic_job.hourly"]

    assert effects(jobs_app) == ["five-minutely"] * 3 + ["hourly"]
    assert job_count(jobs_app, f"{__name__}.sweep_hourly", "default", "succeeded") == 1


def test_the_timer_thread_runs_sweeps_until_stopped(settings, in_process, tmp_path):
    from dataclasses import replace

    app = build_app(replace(settings, run_sweeps_in_process=True, sweep_interval_seconds=1))
    with app.extensions["vectis.db"].engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {EFFECTS} (note VARCHAR(100) NOT NULL)"))
        conn.execute(text(f"DELETE FROM {EFFECTS}"))
    register_sweeps(app)
    try:
        timer = jobs.start_sweep_timer(app)
        deadline = time.monotonic() + 5
        while not effects(app) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert effects(app) == ["five-minutely"]
        assert timer.running
    finally:
        jobs.stop_sweep_timer(app)
        with app.extensions["vectis.db"].engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {EFFECTS}"))
        app.extensions["vectis.db"].dispose()
    assert not timer.running


def test_the_timer_does_not_start_when_switched_off(jobs_app):
    assert jobs_app.config["VECTIS"].run_sweeps_in_process is False
    assert jobs.start_sweep_timer(jobs_app) is None


# -- Redis: RQ workers and cron ---------------------------------------------------------------


def test_a_job_enqueued_after_commit_is_run_by_a_worker(jobs_app, with_redis):
    database = jobs_app.extensions["vectis.db"]
    with jobs_app.app_context():
        with database.transaction() as session:
            jobs.enqueue(record, "refunded", queue=jobs.REFUNDS, session=session, job_id="refund-7")
            queued_inside = Queue("refunds", connection=jobs.get_dispatcher().connection).count
        queue = jobs.get_dispatcher().queue(jobs.REFUNDS)
        assert (queued_inside, queue.count, queue.job_ids) == (0, 1, ["refund-7"])
        assert effects(jobs_app) == []

        worker = build_worker(jobs_app, [jobs.REFUNDS], worker_class=VectisSimpleWorker)
        assert worker.work(burst=True) is True

    assert effects(jobs_app) == ["refunded"]
    assert queue.count == 0
    assert job_count(jobs_app, RECORD, "refunds", "enqueued") == 1
    assert job_count(jobs_app, RECORD, "refunds", "succeeded") == 1


def test_a_forking_worker_runs_jobs_on_its_own_database_pool(jobs_app, with_redis):
    with jobs_app.app_context():
        effects(jobs_app)  # the parent holds a pooled connection, as after create_app's probe
        jobs.enqueue(record, "forked")
        jobs.enqueue(explode)
        worker = build_worker(jobs_app, worker_class=VectisWorker)
        worker.work(burst=True)
    assert effects(jobs_app) == ["forked"]
    assert job_count(jobs_app, RECORD, "default", "succeeded") == 1
    assert job_count(jobs_app, f"{__name__}.explode", "default", "failed") == 1


def test_a_rolled_back_transaction_enqueues_nothing(jobs_app, with_redis):
    database = jobs_app.extensions["vectis.db"]
    with jobs_app.app_context(), pytest.raises(RuntimeError, match="refused"):
        with database.transaction() as session:
            jobs.enqueue(record, "placed", session=session)
            raise RuntimeError("refused")
    assert jobs.get_dispatcher(jobs_app).queue(jobs.DEFAULT).count == 0
    assert job_count(jobs_app, RECORD, "default", "enqueued") == 0


def test_periodic_jobs_are_handed_to_the_rq_cron_scheduler(jobs_app, with_redis):
    register_sweeps(jobs_app)
    scheduler = build_cron_scheduler(jobs_app, name="test-cron")
    held = [(j.name, j.func_name, j.queue_name, j.interval, j.cron) for j in scheduler.get_jobs()]
    assert held == [
        ("core.periodic_job.five_minutely", f"{__name__}.sweep_every_five_minutes", "sweeps", 300, None),
        ("core.periodic_job.hourly", f"{__name__}.sweep_hourly", "default", None, "0 * * * *"),
    ]
    # An interval job is due at once (RQ's rule, and the timer's): one tick enqueues it, only it.
    enqueued = scheduler.enqueue_jobs()
    assert [j.name for j in enqueued] == ["core.periodic_job.five_minutely"]
    dispatcher = jobs.get_dispatcher(jobs_app)
    assert (dispatcher.queue(jobs.SWEEPS).count, dispatcher.queue(jobs.DEFAULT).count) == (1, 0)


def test_the_timer_never_starts_with_redis(settings, with_redis):
    from dataclasses import replace

    app = build_app(replace(settings, run_sweeps_in_process=True))
    try:
        assert jobs.start_sweep_timer(app) is None
    finally:
        app.extensions["vectis.db"].dispose()


def test_vectis_worker_burst_runs_the_queues_it_is_given(jobs_app, with_redis, monkeypatch):
    monkeypatch.setattr(jobs_cli, "_load_app", lambda: jobs_app)
    with jobs_app.app_context():
        jobs.enqueue(record, "published", queue=jobs.EVENTS)
        jobs.enqueue(record, "left for another worker", queue=jobs.REFUNDS)
    result = CliRunner().invoke(jobs_cli.worker_command, ["--burst", "--queue", "events"])
    assert result.exit_code == 0, result.output
    assert effects(jobs_app) == ["published"]
    assert jobs.get_dispatcher(jobs_app).queue(jobs.REFUNDS).count == 1
