"""The Flask application factory."""
from __future__ import annotations

from flask import Flask

from runtime.config import Settings, load_settings
from runtime.db import open_database


def create_app(settings: Settings | None = None, *, probe: bool = True, web: bool = True) -> Flask:
    """Build an app. ``probe`` checks the database (and Redis) answer, raising a one-line ConfigError.

    ``web=False`` leaves out the HTTP layer (the GraphQL schema and the web UIs): the ``vectis``
    commands that check or publish definitions need the registries, and building the schema is
    most of the start-up time."""
    settings = settings or load_settings()
    app = Flask("runtime")
    app.config.update(SECRET_KEY=settings.secret_key, VECTIS=settings, JSON_SORT_KEYS=False)

    database = open_database(settings.database_url)
    if probe:
        database.probe()
    app.extensions["vectis.db"] = database

    from runtime import automations, channels, checkout, events, inventory, jobs, labels, mmoq, observability, orders, packs, promotions, state_machines, tenders
    from runtime import tax
    from runtime import approvals
    from runtime import refunds
    from runtime import quick_order
    from runtime import security
    from runtime import webhooks
    from runtime.webhooks import incoming as incoming_webhooks
    from runtime.definitions import live

    packs.init_app(app)
    jobs.init_app(app)
    state_machines.init_app(app)
    live.init_app(app)
    if web:
        from runtime.graphql import explorer, sdl, view

        view.init_app(app)
        sdl.init_app(app)  # GET /graphql/schema.graphql
        explorer.init_app(app)  # the explorer's vendored assets under /graphql/explorer/
    observability.init_app(app)
    security.init_app(app, probe=probe)  # proxies, rate limits (after observability), secrets key checked
    automations.init_app(app)
    events.init_app(app)
    channels.init_app(app)
    orders.init_app(app)  # orders and payments on their machines
    checkout.init_app(app)  # carts on their machine, the checkout stages
    tenders.init_app(app)  # tender types, the tenders (700) and payment (900) stages, intent reconciliation
    inventory.init_app(app)  # reservations on their machine, the stock cart check, stage and sweep job
    labels.init_app(app)  # the label index job and its after-commit triggers
    webhooks.init_app(app)  # the periodic retry of due webhook deliveries
    incoming_webhooks.init_app(app, web=web)  # POST /webhooks/in/<pack>, settlement webhooks of gateway packs
    mmoq.init_app(app)  # the MMOQ cart check and checkout stage
    promotions.init_app(app)  # the promotion checkout stages, the usage-release effect, the stale metric
    tax.init_app(app)  # the tax checkout stages (400, 820)
    approvals.init_app(app)  # the approvals gate stage (650)
    refunds.init_app(app)  # refund requests on their machine, execution reconciliation
    quick_order.init_app(app)  # the core catalog parser in the cart_parse_provider slot

    if web:
        _mount_web_uis(app)
    return app


#: Entry-point group of the server-rendered UIs mounted on the app (``admin_ui`` at ``/admin``).
WEB_UI_GROUP = "vectis.web_ui"


def _mount_web_uis(app: Flask) -> None:
    """Call each installed UI's ``init_app``: the UIs build on the runtime, so the runtime finds
    them by entry point (``pyproject.toml``) rather than importing them."""
    from importlib.metadata import entry_points

    for entry in sorted(entry_points(group=WEB_UI_GROUP), key=lambda e: e.name):
        entry.load()(app)

