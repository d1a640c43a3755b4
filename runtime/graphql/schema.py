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

from runtime.packs.registry import Registry

#: Domain modules whose SDL and resolvers make up the core schema, in merge order.
CORE_MODULES = ("runtime.auth", "runtime.definitions")

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


def build_schema(registry: Registry) -> GraphQLSchema:
    type_defs = [BASE_SDL.read_text()]
    bindables: list = [datetime_scalar, json_scalar, query]
    for module in CORE_MODULES:
        sdl, module_bindables = module_parts(module)
        type_defs.append(sdl)
        bindables.extend(module_bindables)
    for entry in registry.entries("graphql"):
        type_defs.append(entry.value.sdl)
        bindables.extend(entry.value.bindables)
    # camelCase in the schema, snake_case in Python: fields, dict keys and arguments alike.
    return make_executable_schema(type_defs, *bindables, convert_names_case=True)
