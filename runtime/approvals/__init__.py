"""Approvals (issue 15): B2B carts approved by others before they are placed, through routes
declared as ``approval_route`` definitions. See ``docs/approvals.md``.

:func:`init_app` registers the ``approvals`` checkout stage (:mod:`runtime.approvals.gate`): at
placeOrder a cart a route selects must carry an approved request for its current version, and a
grand total that drifted beyond the route's tolerance refuses placement and sends the cart back
for approval.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from runtime.approvals.gate import GATE_POSITION, gate
    from runtime.checkout.pipeline import Stage, register_stage

    register_stage(app, Stage("approvals", GATE_POSITION, gate,
                              "A cart an approval route selects needs an approved request; refuse a price drift."))
