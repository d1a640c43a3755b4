"""Serving the app for development and the demo (production runs a WSGI server on ``runtime.wsgi:app``)."""
from __future__ import annotations

import click
from flask import Flask
from werkzeug.serving import run_simple


def serve(app: Flask, host: str, port: int) -> None:
    from runtime.jobs import start_sweep_timer
    from runtime.observability.address import start_metrics_server

    settings = app.config["VECTIS"]
    if not settings.redis_url and settings.run_sweeps_in_process:
        start_sweep_timer(app)
        click.echo(f"no Redis configured: jobs run in-process, sweeps every {settings.sweep_interval_seconds}s")
    if start_metrics_server(app) is not None:  # VECTIS_METRICS_ADDRESS: /metrics there, not on the app
        click.echo(f"metrics on http://{settings.metrics_address}/metrics")
    click.echo(f"Vectis on http://{host}:{port}/graphql (GraphQL explorer in a browser)")
    run_simple(host, port, app, threaded=True, use_reloader=False)
