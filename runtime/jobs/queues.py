"""The queues jobs run on, one per concern. ``vectis worker`` listens to all of them by default."""
from __future__ import annotations

DEFAULT = "default"
"""Work with no queue of its own (mail, exports, anything short)."""

SWEEPS = "sweeps"
"""Periodic sweeps: state-machine timers, expiries. Periodic jobs run here unless they say otherwise."""

REFUNDS = "refunds"
"""Refund execution against payment gateways; kept apart so a slow gateway never delays sweeps."""

EVENTS = "events"
"""Outbox publishing, automations and webhook fan-out."""

#: Every queue, in the order a worker polls them (earlier first).
QUEUES: tuple[str, ...] = (DEFAULT, SWEEPS, REFUNDS, EVENTS)
