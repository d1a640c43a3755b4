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


#: Built schemas by the packs' GraphQL contributions they merged. Building one parses about 650
#: SDL definitions (half a second); every app of a process with the same packs shares the result.
#: The bindables are kept in the key itself, so the ids compared stay theirs.
_built: dict[tuple, tuple[GraphQLSchema, dict[str, str]]] = {}


def _contribution_key(entries: list) -> tuple:
    return tuple((e.pack, e.key, e.value.sdl, tuple(e.value.bindables)) for e in entries)


def build_schema(registry: Registry, failures: dict[str, str] | None = None) -> GraphQLSchema:
    """Core modules, then packs' SDL. A pack whose SDL or bindables break the schema is reported
    in ``failures`` (pack name → one line), removed from the registry, and left out.

    The schema is shared by every app of the process built with the same packs: treat it as
    read-only after start-up (wrappers applied to it must be idempotent, as the audit one is)."""
    entries = registry.entries("graphql")
    key = _contribution_key(entries)
    cached = _built.get(key)
    if cached is None:
        cached = _built[key] = _build(entries)
    schema, refused = cached
    for pack, message in refused.items():
        if failures is not None:
            failures[pack] = message
        registry.remove_pack(pack)
    return schema


def _build(entries: list) -> tuple[GraphQLSchema, dict[str, str]]:
    type_defs = [BASE_SDL.read_text()]
    bindables: list = [datetime_scalar, json_scalar, query]
    for module in CORE_MODULES:
        sdl, module_bindables = module_parts(module)
        type_defs.append(sdl)
        bindables.extend(module_bindables)
    accepted: list = []
    refused: dict[str, str] = {}
    for entry in entries:
        if entry.pack in refused:
            continue
        candidate = [*accepted, entry]
        try:
            _make(type_defs + [e.value.sdl for e in candidate], bindables + [b for e in candidate for b in e.value.bindables])
        except Exception as exc:  # any schema or binding error disables the pack, not the app
            refused[entry.pack] = f"{entry.key}: GraphQL schema: {str(exc).strip().splitlines()[0]}"
            accepted = [e for e in accepted if e.pack != entry.pack]
            continue
        accepted = candidate
    return apply_null_defaults(
        _make(type_defs + [e.value.sdl for e in accepted], bindables + [b for e in accepted for b in e.value.bindables])), refused
