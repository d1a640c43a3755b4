"""Effects: what a transition does besides changing the state, as named entries of the registry.

An effect is an :class:`Effect` registered in the ``effect_action`` slot; a definition lists it
under ``effects`` as ``<pack>.<name>``, like every name a pack provides to definitions. It is called with one
:class:`EffectCall` per fire — or per batch of entities the timer sweep moved together, so an
effect can act on many ids with one query. ``in_transaction`` effects run inside the firing
transaction (and can make it fail); the others are queued as jobs that run after commit, because
the outside world (a gateway, an e-mail) must never hear of a change that was rolled back.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app
from sqlmodel import Session

from runtime.jobs import DEFAULT, enqueue
from runtime.packs.registry import Registry

#: The registry slot effects are registered in.
EFFECT_ACTION = "effect_action"


@dataclass(frozen=True)
class EffectCall:
    """What an effect is told: which entities moved, how, by whom, under which revision."""

    machine: str
    entity_type: str
    entity_ids: tuple[str, ...]
    transition: str
    from_state: str
    to_state: str
    actor: str
    revision: int
    context: dict[str, Any] = field(default_factory=dict)
    #: The firing transaction's session, for ``in_transaction`` effects; ``None`` after commit.
    session: Session | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Effect:
    """The value of an ``effect_action`` entry. ``func`` must be idempotent: jobs run at least once."""

    func: Callable[[EffectCall], None]
    in_transaction: bool = False

    def __call__(self, call: EffectCall) -> None:
        self.func(call)


def check_effect(value: Any) -> None:
    """The ``effect_action`` slot's check."""
    if not isinstance(value, Effect):
        raise TypeError(f"expected a runtime.state_machines.effects.Effect(func, in_transaction=...), "
                        f"got {type(value).__name__}")


def run_effects(session: Session, registry: Registry, keys: tuple[str, ...], call: EffectCall) -> None:
    """Run in-transaction effects now and queue the others for after the commit, in listed order."""
    for key in keys:
        effect = _effect(registry, key)
        if effect.in_transaction:
            effect(replace(call, session=session))
        else:
            enqueue(run_effect_job, key, replace(call, session=None), queue=DEFAULT, session=session)


def run_effect_job(key: str, call: EffectCall) -> None:
    """The job an after-commit effect runs in (on a worker, or in-process without Redis)."""
    _effect(current_app.extensions["vectis.registry"], key)(call)


def _effect(registry: Registry, name: str) -> Effect:
    entry = next((e for e in registry.entries(EFFECT_ACTION) if e.definition_name == name), None)
    if entry is None:
        # A live definition names only registered effects; a pack removed since is a stale name.
        raise LookupError(f"effect action {name!r} is not registered (was its pack removed?)")
    check_effect(entry.value)
    return entry.value
