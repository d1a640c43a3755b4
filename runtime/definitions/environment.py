"""The rules :class:`~rules.environment.Environment` built from the runtime's registries."""
from __future__ import annotations

from rules.environment import Environment

from runtime.auth.permissions import PERMISSIONS
from runtime.packs.registry import Registry


def build_environment(registry: Registry) -> Environment:
    """Names definitions may use: registered effect actions and predicate functions, known permissions."""
    return Environment(
        effects=registry.names("effect_action"),
        predicate_functions={e.key: e.value for e in registry.entries("predicate_function")},
        permissions=frozenset(PERMISSIONS),
    )
