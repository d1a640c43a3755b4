"""The executable schema, merged at start-up from every domain module's ``schema.graphql`` and
the ``graphql`` slot of loaded packs.

A domain module is a package holding ``schema.graphql`` (which ``extend type Query`` /
``extend type Mutation``) and ``resolvers.py`` exposing ``bindables``.
"""
from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ariadne import ObjectType, ScalarType, make_executable_schema
from graphql import GraphQLSchema

from runtime.graphql.arguments import apply_null_defaults
from runtime.packs.registry import Registry

#: Domain modules whose SDL and resolvers make up the core schema, in merge order.
CORE_MODULES = (
    "runtime.auth",
    "runtime.definitions",
    "runtime.state_machines",
    "runtime.channels",
    "runtime.catalog",
    "runtime.orders",
    "runtime.payments",
    "runtime.pricing",
    "runtime.carts",
    "runtime.checkout",
    "runtime.accounts",
    "runtime.labels",
    "runtime.packaging",
    "runtime.mmoq",
    "runtime.inventory",
    "runtime.promotions",
    "runtime.tenders",
    "runtime.tax",
    "runtime.approvals",
    "runtime.refunds",
    "runtime.quick_order",
    "runtime.audit",
    "runtime.webhooks",
)

BASE_SDL = Path(__file__).with_name("base.graphql")

datetime_scalar = ScalarType("DateTime", serializer=lambda value: value.isoformat())
json_scalar = ScalarType("JSON")
query = ObjectType("Query")


@query.field("server")
def resolve_server(*_):
    try:
        return {"version": version("vectis")}
    except PackageNotFoundError:  # running from a checkout that was not installed
        return {"version": "0+unknown"}


def module_parts(module: str) -> tuple[str, list]:
    package = importlib.import_module(module)
    sdl_path = Path(package.__file__).with_name("schema.graphql")
    resolvers = importlib.import_module(f"{module}.resolvers")
    return sdl_path.read_text(), list(resolvers.bindables)


def _make(type_defs: list[str], bindables: list) -> GraphQLSchema:
    # camelCase in the schema, snake_case in Python: fields, dict keys and arguments alike.
    return make_executable_schema(type_defs, *bindables, convert_names_case=True)


def build_schema(registry: Registry, failures: dict[str, str] | None = None) -> GraphQLSchema:
    """Core modules, then packs' SDL. A pack whose SDL or bindables break the schema is reported
    in ``failures`` (pack name → one line), removed from the registry, and left out."""
    type_defs = [BASE_SDL.read_text()]
    bindables: list = [datetime_scalar, json_scalar, query]
    for module in CORE_MODULES:
        sdl, module_bindables = module_parts(module)
        type_defs.append(sdl)
        bindables.extend(module_bindables)
    accepted: list = []
    for entry in registry.entries("graphql"):
        candidate = [*accepted, entry]
        try:
            _make(type_defs + [e.value.sdl for e in candidate], bindables + [b for e in candidate for b in e.value.bindables])
        except Exception as exc:  # any schema or binding error disables the pack, not the app
            message = f"{entry.key}: GraphQL schema: {str(exc).strip().splitlines()[0]}"
            if failures is not None:
                failures[entry.pack] = message
            registry.remove_pack(entry.pack)
            accepted = [e for e in accepted if e.pack != entry.pack]
            continue
        accepted = candidate
    return apply_null_defaults(
        _make(type_defs + [e.value.sdl for e in accepted], bindables + [b for e in accepted for b in e.value.bindables]))
