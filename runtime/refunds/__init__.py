"""Refunds (issue 16): refund requests on the ``refund_request`` machine, approved by someone other
than the requester through the generic approvals core, then executed exactly once per tender by
the ``execute_refund`` job on the ``refunds`` queue. See ``docs/refunds.md``.

The service API (for GraphQL and the admin inbox) is :mod:`runtime.refunds.service`; execution
and reconciliation :mod:`runtime.refunds.execution`; the fraud-review flag
:mod:`runtime.refunds.review`.

:func:`init_app` binds ``RefundRequest`` to its machine, registers the ``ReconcileRefunds``
periodic job and the effects ``core.expire_refund_approval`` (the machine's ``expire``) and
``core.flag_refund_review`` (the ``repeated_refunds`` automation).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from runtime.jobs import REFUNDS, register_periodic_job
    from runtime.payments.service import REFUND_RESERVATIONS
    from runtime.refunds.plan import reserved_on_payment
    from runtime.refunds.execution import RECONCILE_INTERVAL_SECONDS, expire_effect, reconcile_refunds
    from runtime.refunds.models import RefundRequest
    from runtime.refunds.review import flag_effect
    from runtime.refunds.service import MACHINE
    from runtime.state_machines import Effect, bind
    from runtime.state_machines.effects import EFFECT_ACTION

    bind(app, RefundRequest, machine=MACHINE, to_fact=fact)
    if reserved_on_payment not in REFUND_RESERVATIONS:  # a direct refundPayment leaves approved refunds their room
        REFUND_RESERVATIONS.append(reserved_on_payment)
    registry = app.extensions["vectis.registry"]
    register_periodic_job(registry, "ReconcileRefunds", reconcile_refunds, interval=RECONCILE_INTERVAL_SECONDS,
                          queue=REFUNDS,
                          description="Resume refund requests stuck in executing past their lease (or approved without a job)")
    registry.register("core", EFFECT_ACTION, "expire_refund_approval", Effect(expire_effect, in_transaction=True),
                      label="Close the approval of a refund request nobody decided in time (the refund machine's expire)")
    registry.register("core", EFFECT_ACTION, "flag_refund_review", Effect(flag_effect, in_transaction=True),
                      label="Flag the buyer for refund review and pause their refund self-service (automations)")


def fact(request) -> dict:
    """The ``refund_request`` fact guards read (``schemas/facts/refund_request.schema.json``)."""
    return {"id": str(request.id), "order_id": str(request.order_id), "state": request.state,
            "currency": request.currency, "amount": float(request.amount), "reason": request.reason,
            "attempts": request.attempts, "approvals": request.approvals}
