"""The Flask application factory."""
from __future__ import annotations

from flask import Flask

from runtime.config import Settings, load_settings
from runtime.db import open_database


def create_app(settings: Settings | None = None, *, probe: bool = True) -> Flask:
    """Build an app. ``probe`` checks the database (and Redis) answer, raising a one-line ConfigError."""
    settings = settings or load_settings()
    app = Flask("runtime")
    app.config.update(SECRET_KEY=settings.secret_key, VECTIS=settings, JSON_SORT_KEYS=False)

    database = open_database(settings.database_url)
    if probe:
        database.probe()
    app.extensions["vectis.db"] = database

    from runtime import automations, channels, checkout, events, inventory, jobs, labels, mmoq, observability, orders, packs, state_machines
    from runtime.definitions import live
    from runtime.graphql import view

    packs.init_app(app)
    jobs.init_app(app)
    state_machines.init_app(app)
    live.init_app(app)
    view.init_app(app)
    observability.init_app(app)
    automations.init_app(app)
    events.init_app(app)
    channels.init_app(app)
    orders.init_app(app)  # orders and payments on their machines
    checkout.init_app(app)  # carts on their machine, the checkout stages
    inventory.init_app(app)  # reservations on their machine, the stock cart check, stage and sweep job
    labels.init_app(app)  # the label index job and its after-commit triggers
    mmoq.init_app(app)  # the MMOQ cart check and checkout stage

    import admin_ui  # the app factory is where the admin blueprint is mounted; runtime code never imports it

    admin_ui.init_app(app)
    return app

