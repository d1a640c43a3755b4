"""Payments: the channel's gateway at checkout, staff captures, voids and refunds, saved methods."""
from __future__ import annotations

from flask import Flask


#: When the daily authorisation-expiry sweep runs (UTC).
EXPIRY_SWEEP_CRON = "30 3 * * *"


def init_app(app: Flask) -> None:
    """Bind payment rows to the ``payment_transaction`` machine; its expiry is the
    ``VoidExpiringCardAuths`` job's (which voids at the gateway), not the generic timer sweep's."""
    from runtime.jobs import register_periodic_job
    from runtime.payments.expiry import void_expiring_card_auths
    from runtime.payments.models import PaymentTransaction
    from runtime.payments.readiness import register_readiness
    from runtime.state_machines import bind
    from runtime.state_machines.sweep import sweep_separately

    bind(app, PaymentTransaction, machine="payment_transaction")
    sweep_separately(app, "payment_transaction")
    register_readiness(app)
    register_periodic_job(app.extensions["vectis.registry"], "VoidExpiringCardAuths", void_expiring_card_auths,
                          cron=EXPIRY_SWEEP_CRON,
                          description="Void at the gateway card authorisations past their gateway's expiry window")
