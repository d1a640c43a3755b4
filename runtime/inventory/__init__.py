"""Inventory: warehouses, stock levels, reservations on the declared ``reservation`` machine.

:func:`init_app` binds reservations to their machine and registers, in the app's registry, the
``core.release_stock`` effect, the ``inventory`` cart check (500) and checkout stage (850), and
the ``ExpireStaleReservations`` periodic job. See ``docs/inventory.md``.
"""
from __future__ import annotations

from flask import Flask, current_app

#: How often ``ExpireStaleReservations`` runs: a hold outlives its timer by at most this long.
EXPIRE_INTERVAL_SECONDS = 60
#: Positions in the cart checks and the checkout pipeline (packaging caps use 100 and 150).
CART_CHECK_POSITION = 500
CHECKOUT_STAGE_POSITION = 850


def init_app(app: Flask) -> None:
    from runtime.carts.checks import CartCheck, register_check
    from runtime.checkout.pipeline import Stage, register_stage
    from runtime.inventory.holds import check_cart, place, release_stock
    from runtime.inventory.models import Reservation
    from runtime.jobs import register_periodic_job
    from runtime.state_machines import Effect, bind
    from runtime.state_machines.effects import EFFECT_ACTION
    from runtime.state_machines.sweep import sweep_separately

    bind(app, Reservation, machine="reservation", entity_type="reservation")
    registry = app.extensions["vectis.registry"]
    registry.register("core", EFFECT_ACTION, "release_stock", Effect(release_stock, in_transaction=True),
                      label="Give a reservation's units back to stock (fulfil: they leave on-hand); "
                            "on an order's ship or cancel, fulfil or release its reservations")
    register_check(app, CartCheck("inventory", CART_CHECK_POSITION, check_cart,
                                  "Stock holds follow the cart's lines (channels holding at add-to-cart)."))
    register_stage(app, Stage("inventory", CHECKOUT_STAGE_POSITION, place,
                              "Re-validate stock in the transaction; hold what is missing and confirm it."))
    sweep_separately(app, "reservation")
    register_periodic_job(registry, "ExpireStaleReservations", expire_stale_reservations,
                          interval=EXPIRE_INTERVAL_SECONDS,
                          description="Expire stock holds past their timer; each returns its units once")


def expire_stale_reservations() -> None:
    """The periodic job: the generic timer sweep, for the ``reservation`` machine only."""
    from runtime.state_machines.sweep import sweep_timers

    sweep_timers(current_app, machines=("reservation",))
