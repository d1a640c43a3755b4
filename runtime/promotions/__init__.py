"""Promotions: the live ``promotion`` definitions applied to carts and orders. See ``docs/promotions.md``.

:func:`init_app` registers the checkout stages (200, 310, 810), the ``core.release_promotion_usage``
effect (the order machine's ``cancel`` lists it) and the ``vectis_promotion_stale`` metric.
The package itself imports nothing: the definitions environment imports
:mod:`runtime.promotions.arithmetic` early, before carts and checkout exist (as ``inventory``
and ``checkout`` do, the wiring imports sit in ``init_app``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the definitions CLI imports runtime.promotions.arithmetic without Flask
    from flask import Flask


def init_app(app: Flask) -> None:
    from runtime.checkout.pipeline import register_stage
    from runtime.promotions.live import init_metrics
    from runtime.promotions.stage import STAGES
    from runtime.promotions.usage import release_on_cancel
    from runtime.state_machines import Effect
    from runtime.state_machines.effects import EFFECT_ACTION

    for stage in STAGES:
        register_stage(app, stage)
    app.extensions["vectis.registry"].register(
        "core", EFFECT_ACTION, "release_promotion_usage", Effect(release_on_cancel, in_transaction=True),
        label="Give back the promotion and coupon usage an order counted (on its cancel)")
    init_metrics(app)
