"""Firing one ``reservation`` transition on many reservations with one conditional UPDATE.

The same contract as :func:`runtime.state_machines.fire` and the timer sweep: the live machine
decides (the transition must leave the row's state; a declared guard is checked per row), the row
moves only ``WHERE state = :from`` (a reservation the sweep expired meanwhile is not confirmed:
it can never end both EXPIRED and CONFIRMED), one history row per reservation names the actor
and the revision, and the transition's effects run once for the batch.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import insert, update
from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.inventory.models import Reservation
from runtime.inventory.stock import RESERVATION
from runtime.state_machines.effects import EffectCall, run_effects
from runtime.state_machines.models import StateTransition
from runtime.state_machines.service import live_machine

MACHINE = "reservation"


def move(session: Session, ids: list[int], transition: str, actor_label: str, *,
         values: dict[str, Any] | None = None, context: dict | None = None) -> list[int]:
    """Fire ``transition`` on the reservations ``ids`` that can take it now; returns the ids moved.
    ``values`` are written with the state (``order_id`` on confirm)."""
    if not ids:
        return []
    live = live_machine(current_app, MACHINE)
    machine = live.compiled
    found = machine.transitions[transition]
    now = utcnow()
    moved: list[int] = []
    for source in found.sources:
        allowed = _allowed(session, machine, ids, source, transition)
        if not allowed:
            continue
        rows = session.execute(
            update(Reservation)
            .where(Reservation.id.in_(allowed), Reservation.state == source)
            .values(state=found.target, state_entered_at=now, **(values or {}))
            .returning(Reservation.id)
            .execution_options(synchronize_session=False)).scalars().all()
        if not rows:
            continue
        entity_ids = tuple(str(i) for i in sorted(rows))
        common = dict(machine=machine.name, entity_type=RESERVATION, transition=transition, from_state=source,
                      to_state=found.target, actor=actor_label, revision=live.revision, at=now,
                      context=dict(context or {}))
        session.execute(insert(StateTransition.__table__), [{**common, "entity_id": i} for i in entity_ids])
        call = EffectCall(machine.name, RESERVATION, entity_ids, transition, source, found.target, actor_label,
                          live.revision, dict(context or {}))
        run_effects(session, current_app.extensions["vectis.registry"], found.effects, call)
        moved.extend(rows)
    _refresh(session, moved)
    return sorted(moved)


def _allowed(session: Session, machine, ids: list[int], source: str, transition: str) -> list[int]:
    """``ids`` whose fact passes the transition's guard (all of them when it declares none)."""
    if machine.transitions[transition].guard is None:
        return list(ids)
    from runtime.state_machines.bindings import bindings

    rows = session.exec(select(Reservation).where(Reservation.id.in_(ids), Reservation.state == source)).all()
    binding = bindings(current_app).for_entity(rows[0]) if rows else None
    return [row.id for row in rows if not machine.can_fire(source, transition, binding.fact(row), None)]


def _refresh(session: Session, ids: list[int]) -> None:
    """Reservations this session holds must not show their old state."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Reservation) and obj.id in ids:
            session.expire(obj)
