"""Orders: placed from an order draft, moved by the declared ``order`` state machine."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Bind orders to the ``order`` machine (history rows name them ``order``, as the machine's
    ``entity``), and payment rows to ``payment_transaction`` (one start-up line for both)."""
    from runtime import payments
    from runtime.orders.models import Order
    from runtime.state_machines import bind

    bind(app, Order, machine="order", entity_type="order")
    payments.init_app(app)
