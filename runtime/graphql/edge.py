"""The request body at the edge: one parser that bounds size and nesting, and one check for every
string a client sends (variables here, inline literals in :mod:`runtime.graphql.literals`).

Everything refused here is refused before a resolver or the database sees it, with a
``BAD_REQUEST`` (not a GraphQL request) or ``BAD_USER_INPUT`` (a value no field accepts) error
whose message names the place (``variables.input.email``). ``docs/graphql.md`` lists the limits.
"""
from __future__ import annotations

import json
from typing import Any

from runtime.errors import RequestError

#: Largest request body, in bytes (a definition source sent as a variable fits easily).
MAX_BODY_BYTES = 2_000_000
#: Deepest nesting of arrays and objects in the body (``variables`` included).
MAX_JSON_DEPTH = 32
#: Longest string accepted anywhere (a variable, an inline literal), in characters.
MAX_STRING_LENGTH = 200_000
#: Longest operation text, in characters.
MAX_DOCUMENT_CHARS = 100_000


class BadRequest(RequestError):
    """The body is not a GraphQL request this server takes (HTTP 400)."""

    code = "BAD_REQUEST"


class BadUserInput(RequestError):
    """A value in the request that no field accepts (HTTP 400): it never reaches a resolver."""

    code = "BAD_USER_INPUT"


def string_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored or sent on (None when it can): every text column of both
    databases holds UTF-8 without NUL, so lone surrogates and NUL are refused here, once."""
    if len(value) > MAX_STRING_LENGTH:
        return f"is {len(value)} characters long; the limit is {MAX_STRING_LENGTH}"
    if "\x00" in value:
        return "contains a NUL character (U+0000)"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"contains a lone UTF-16 surrogate (U+{ord(value[exc.start]):04X}) at position {exc.start}"
    return None


def read_request(request) -> dict[str, Any]:
    """The GraphQL request of a Flask ``request``: a declared length over the limit is refused
    before the body is read."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise BadRequest(f"body: {declared} bytes; the limit is {MAX_BODY_BYTES}")
    return read_body(request.get_data(cache=False))


def read_body(raw: bytes) -> dict[str, Any]:
    """The GraphQL request in ``raw`` (a JSON object), or :class:`BadRequest` /
    :class:`BadUserInput` naming what is wrong."""
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"body: {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        data = json.loads(raw)
    except RecursionError:  # the decoder's own bound is the interpreter's; ours is lower, below
        raise BadRequest(f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise BadRequest("body: expected a JSON object with 'query'")
    query, operation, variables = data.get("query"), data.get("operationName"), data.get("variables")
    if not isinstance(query, str):
        raise BadRequest("query: expected the operation text as a string")
    if len(query) > MAX_DOCUMENT_CHARS:
        raise BadRequest(f"query: {len(query)} characters; the limit is {MAX_DOCUMENT_CHARS}")
    if operation is not None and not isinstance(operation, str):
        raise BadRequest(f"operationName: expected a string or null, got {type(operation).__name__}")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest(f"variables: expected an object or null, got {type(variables).__name__}")
    for where, text in (("query", query), ("operationName", operation or "")):
        problem = string_problem(text)
        if problem:
            raise BadUserInput(f"{where}: {problem}")
    check_values(variables or {}, "variables")
    if "extensions" in data:
        check_values(data["extensions"], "extensions")
    return data


def check_values(value: Any, where: str) -> None:
    """Walk ``value`` without recursion (the depth is what is being bounded): every object and
    array at most :data:`MAX_JSON_DEPTH` deep, every string (keys too) acceptable."""
    stack: list[tuple[Any, str, int]] = [(value, where, 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            problem = string_problem(item)
            if problem:
                raise BadUserInput(f"{path}: {problem}")
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise BadRequest(f"{path}: nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    problem = string_problem(key)
                    if problem:
                        raise BadUserInput(f"{path}: a key {problem}")
                    stack.append((child, f"{path}.{key}", depth + 1))
            else:
                stack.extend((child, f"{path}.{index}", depth + 1) for index, child in enumerate(item))
