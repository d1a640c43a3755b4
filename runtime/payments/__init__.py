"""Payments: the channel's gateway at checkout, staff captures, voids and refunds, saved methods."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Bind payment rows to the ``payment_transaction`` machine."""
    from runtime.payments.models import PaymentTransaction
    from runtime.state_machines import bind

    bind(app, PaymentTransaction, machine="payment_transaction")
