"""Approvals (issue 15): B2B carts approved by others before they are placed, through routes
declared as ``approval_route`` definitions. See ``docs/approvals.md``.

:func:`init_app` registers the ``approvals`` checkout stage (:mod:`runtime.approvals.gate`): at
placeOrder a cart a route selects must carry an approved request for its current version, and a
grand total that drifted beyond the route's tolerance refuses placement and sends the cart back
for approval; and the ``core.expire_approval`` effect of the cart machine's ``expire_approval``
timer (through the generic sweep), which expires the pending request with the cart; the marker
stages around the tenders (699/701) and inventory (849/851) stages, which tell a payment or stock
refusal of an approved cart from any other; and the ``ApprovalQuorumCheck`` periodic job
(:mod:`runtime.approvals.quorum`).
"""
from __future__ import annotations

from flask import Flask

#: How often pending requests are checked for tiers that can no longer reach their quorum.
QUORUM_CHECK_SECONDS = 900
#: How often tier timeouts are applied (a timeout is honoured within this much).
TIMEOUT_SECONDS = 300


def init_app(app: Flask) -> None:
    from runtime.approvals.carts import expire_effect
    from runtime.approvals.gate import (AFTER_STOCK, AFTER_TENDERS, BEFORE_STOCK, BEFORE_TENDERS, GATE_POSITION,
                                        after_stock, after_tenders, before_stock, before_tenders, gate)
    from runtime.approvals.quorum import check_pending
    from runtime.approvals.timeouts import run_timeouts
    from runtime.jobs import register_periodic_job
    from runtime.checkout.pipeline import Stage, register_stage
    from runtime.state_machines import Effect
    from runtime.state_machines.effects import EFFECT_ACTION

    registry = app.extensions["vectis.registry"]
    register_periodic_job(registry, "ApprovalQuorumCheck", check_pending, interval=QUORUM_CHECK_SECONDS,
                          description="Flag pending approvals whose tier can no longer reach its quorum")
    register_periodic_job(registry, "ApprovalTierTimeouts", run_timeouts, interval=TIMEOUT_SECONDS,
                          description="Expire or escalate approval tiers nobody decided within their timeout")
    registry.register("core", EFFECT_ACTION, "expire_approval", Effect(expire_effect, in_transaction=True),
                      label="Expire the cart's pending approval request (the cart machine's expire_approval timer)")
    register_stage(app, Stage("approvals", GATE_POSITION, gate,
                              "A cart an approval route selects needs an approved request; refuse a price drift."))
    register_stage(app, Stage("approvals_before_tenders", BEFORE_TENDERS, before_tenders,
                              "Mark that an approved cart's placement reached the tenders stage."))
    register_stage(app, Stage("approvals_after_tenders", AFTER_TENDERS, after_tenders,
                              "Mark that it passed it (a refusal between the two is the payment phase's fault)."))
    register_stage(app, Stage("approvals_before_stock", BEFORE_STOCK, before_stock,
                              "Mark that an approved cart's placement reached the inventory stage."))
    register_stage(app, Stage("approvals_after_stock", AFTER_STOCK, after_stock,
                              "Mark that it passed it (a refusal between the two blocks the cart for inventory)."))
