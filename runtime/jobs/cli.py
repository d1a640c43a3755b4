"""``vectis worker`` and ``vectis cron``: plain click commands that build the app themselves."""
from __future__ import annotations

import logging

import click
from flask import Flask

from runtime.jobs.dispatcher import get_dispatcher
from runtime.jobs.periodic import periodic_jobs
from runtime.jobs.queues import QUEUES

log = logging.getLogger(__name__)

#: Exit status when there is no Redis, so nothing for the command to do.
EXIT_NO_REDIS = 2
#: Exit status of `vectis worker` when a readiness check fails (see docs/payments.md).
EXIT_NOT_READY = 3


def _load_app() -> Flask:
    """A ConfigError propagates to ``runtime.cli.main``, which prints it as one line and exits 2."""
    from runtime.app import create_app

    return create_app()


def _app_with_redis(command: str, without: str) -> Flask:
    app = _load_app()
    jobs = get_dispatcher(app)
    if jobs.in_process:
        click.echo(f"vectis {command}: VECTIS_REDIS_URL is not set, so {without}; nothing to do.", err=True)
        raise SystemExit(EXIT_NO_REDIS)
    jobs.probe()
    return app


@click.command("worker")
@click.option(
    "--queue", "queues", multiple=True, type=click.Choice(QUEUES),
    help="Queue to work on; repeat for several. Default: all of them.",
)
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then exit.")
@click.option("--metrics-port", type=int, default=None, help="Serve this worker's job metrics on this port.")
def worker_command(queues: tuple[str, ...], burst: bool, metrics_port: int | None) -> None:
    """Run jobs from Redis queues."""
    from runtime.jobs.worker import build_worker

    app = _app_with_redis("worker", "jobs run in-process inside vectis serve")
    _refuse_unless_ready(app)
    if metrics_port:
        from prometheus_client import start_http_server

        from runtime.observability import get_metrics

        start_http_server(metrics_port, registry=get_metrics(app).registry)
    worker = build_worker(app, queues or QUEUES)
    with app.app_context():
        worker.work(burst=burst, logging_level=app.config["VECTIS"].log_level)


def _refuse_unless_ready(app: Flask) -> None:
    """The domains' readiness checks (an enabled payment method without its gateway pack…)."""
    from runtime.observability.health import run_readiness_checks

    failed = {name: result for name, result in run_readiness_checks(app).items() if result.startswith("failed")}
    if failed:
        for name, result in failed.items():
            click.echo(f"vectis worker: not ready ({name}): {result[len('failed: '):]}", err=True)
        raise SystemExit(EXIT_NOT_READY)


@click.command("cron")
def cron_command() -> None:
    """Enqueue periodic jobs on schedule (run exactly one of these per Redis)."""
    from runtime.jobs.worker import build_cron_scheduler

    app = _app_with_redis("cron", "periodic jobs run on the in-process timer of vectis serve")
    if not periodic_jobs(app):
        log.warning("vectis cron: no periodic jobs are registered")
    build_cron_scheduler(app).start()
