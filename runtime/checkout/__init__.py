"""Checkout: the staged pipeline behind placeOrder (and adminCreateOrder).

:func:`init_app` wires carts and checkout into an app: the ``cart`` state machine on the
``cart`` table, and the core stages in the ``checkout_stage`` slot.
"""
from __future__ import annotations

from flask import Flask

from runtime.checkout.pipeline import Checkout, Stage, register_stage, stages

__all__ = ["Checkout", "Stage", "init_app", "register_stage", "stages"]


def init_app(app: Flask) -> None:
    from runtime.carts.models import Cart
    from runtime.checkout.stages import register_core_stages
    from runtime.state_machines import bind

    bind(app, Cart, machine="cart")
    register_core_stages(app)
