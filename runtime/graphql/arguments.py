"""One rule for an explicit ``null`` where the schema declares a default: the default applies.

GraphQL passes ``products(first: null)`` to the resolver as ``None`` although ``first`` defaults
to 20, and an input field ``isActive: Boolean = true`` given as ``null`` arrives as ``None`` too.
Rather than each resolver testing for it, :func:`apply_null_defaults` rewrites the schema once
at start-up: a field with such arguments gets its resolver wrapped, and an input type with such
fields gets its ``out_type`` wrapped (graphql-core calls it on every coerced input object, from
variables and literals alike). Fields and inputs without defaults are left untouched (no cost).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema, Undefined, default_field_resolver
from graphql.utilities.coerce_input_value import coerce_default_value


def _defaults(definitions: dict[str, Any]) -> dict[str, Any]:
    """``out_name → default`` of the arguments or input fields with a non-null default."""
    found = {}
    for name, definition in definitions.items():
        default = coerce_default_value(definition)  # an SDL default is kept as a literal until coerced
        if default is not Undefined and default is not None:
            found[definition.out_name or name] = default
    return found


def _filled(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    if any(values.get(key, Undefined) is None for key in defaults):
        values = {**values, **{key: default for key, default in defaults.items() if values.get(key, Undefined) is None}}
    return values


def _resolver(resolve: Callable, defaults: dict[str, Any]) -> Callable:
    @functools.wraps(resolve)
    def resolve_with_defaults(obj, info, **kwargs):
        return resolve(obj, info, **_filled(kwargs, defaults))

    return resolve_with_defaults


def _out_type(out_type: Callable | None, defaults: dict[str, Any]) -> Callable:
    def out_type_with_defaults(value: dict[str, Any]):
        value = _filled(value, defaults)
        return out_type(value) if out_type is not None else value

    return out_type_with_defaults


def apply_null_defaults(schema: GraphQLSchema) -> GraphQLSchema:
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType):
            for field in type_.fields.values():
                defaults = _defaults(field.args)
                if defaults:
                    field.resolve = _resolver(field.resolve or default_field_resolver, defaults)
        elif isinstance(type_, GraphQLInputObjectType):
            defaults = _defaults(type_.fields)
            if defaults:
                type_.out_type = _out_type(type_.out_type, defaults)
    return schema
