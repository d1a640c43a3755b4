"""The rules :class:`~rules.environment.Environment` built from the runtime's registries."""
from __future__ import annotations

from rules.environment import Environment
from rules.facts import default_catalog

from runtime.auth.permissions import PERMISSIONS
from runtime.auth.service import role_names
from runtime.packs.registry import Registry
from runtime.promotions.arithmetic import MONEY

#: Names that belong to the core rather than to a pack.
CORE = "core"


def build_environment(registry: Registry) -> Environment:
    """Names definitions may use: registered effect actions, predicate functions and fact fields
    (each ``<pack>.<name>``: Entry.definition_name), known permissions, and which packs are installed (a name of any
    other pack is reported as stale)."""
    fields = [(e.pack, e.value["fact"], e.name, e.value["schema"])
              for e in registry.entries("fact_field")]
    packs = {e.pack for slot in registry.slots for e in registry.entries(slot)}
    return Environment(
        effects={e.definition_name for e in registry.entries("effect_action")},
        predicate_functions={e.definition_name: e.value
                             for e in registry.entries("predicate_function")},
        permissions=frozenset(PERMISSIONS),
        facts=default_catalog().with_pack_fields(fields),
        packs=frozenset(packs | {CORE}),
        money=MONEY,
        roles=frozenset(role_names()),
        tender_types=frozenset(e.name for e in registry.entries("tender_type")) if "tender_type" in registry.slots else None,
    )
