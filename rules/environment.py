"""What semantic validation needs to know about the world outside the rules library.

The runtime builds one :class:`Environment` from its registries (effect actions, predicate
functions, permissions, currencies) and passes it in; ``rules`` never imports the runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rules.facts import FactCatalog, default_catalog

PredicateFunction = Callable[[Mapping[str, Any]], bool]


def _names(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


@dataclass(frozen=True)
class Environment:
    """Names a definition may refer to.

    ``effects``: effect action names (``core.effect.notify``); an unknown one is an error.
    ``predicate_functions``: named predicate functions (``$fn`` in a predicate), name → callable
    (or ``None`` when only the name is known: validation passes, evaluation raises).
    ``permissions``: known permission names, or ``None`` to accept any.
    ``currencies``: known ISO currency codes, or ``None`` to accept any.
    ``facts``: the fact schemas predicates type-check against, pack fields included
    (:meth:`~rules.facts.FactCatalog.with_pack_fields`).
    ``packs``: the installed packs' names, or ``None`` to infer them from the functions and fields;
    a ``<pack>.<name>`` naming another pack is reported as stale ("not installed").
    ``tender_types``: tender type names a tender cascade may use, or ``None`` to accept any.
    ``roles``: user role names an approval route may name, or ``None`` to accept any.
    ``money``: the runtime's money arithmetic (rounding to a currency's minor unit, splitting with
    ``Money.allocate``: :class:`rules.promotion_actions.MoneyOps`) promotion examples compute with.
    """

    effects: frozenset[str] = frozenset()
    predicate_functions: Mapping[str, PredicateFunction | None] = field(
        default_factory=lambda: MappingProxyType({})
    )
    permissions: frozenset[str] | None = None
    currencies: frozenset[str] | None = None
    facts: FactCatalog = field(default_factory=default_catalog)
    packs: frozenset[str] | None = None
    money: Any = None
    tender_types: frozenset[str] | None = None
    roles: frozenset[str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "effects", frozenset(self.effects))
        functions = self.predicate_functions
        if not isinstance(functions, Mapping):
            functions = {name: None for name in functions}
        object.__setattr__(self, "predicate_functions", MappingProxyType(dict(functions)))
        object.__setattr__(self, "permissions", _names(self.permissions))
        object.__setattr__(self, "currencies", _names(self.currencies))
        object.__setattr__(self, "packs", _names(self.packs))
        object.__setattr__(self, "tender_types", _names(self.tender_types))
        object.__setattr__(self, "roles", _names(self.roles))
