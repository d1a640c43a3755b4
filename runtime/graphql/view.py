"""``/graphql``: the explorer on GET, execution on POST."""
from __future__ import annotations

import logging
import time

from ariadne import graphql_sync
from flask import Blueprint, Flask, current_app, jsonify, request
from graphql import GraphQLError
from werkzeug.exceptions import HTTPException

from runtime.audit.recorder import audit_mutations
from runtime.auth.permissions import ANONYMOUS, Actor
from runtime.auth.service import authenticate_bearer
from runtime.errors import AuthError, RequestError
from runtime.graphql.context import Context
from runtime.graphql.documents import DocumentCache
from runtime.graphql.edge import BadUserInput, read_request
from runtime.graphql.explorer import page as explorer_page
from runtime.graphql.schema import build_schema
from runtime.observability import observe_graphql, report_unexpected
from runtime.security.ratelimit import limit_graphql

#: Ariadne logs every error it formats, refusals included; faults are logged once, with the
#: request id, by :func:`report_unexpected` instead, so this logger keeps nothing.
error_log = logging.getLogger("runtime.graphql.errors")
error_log.addFilter(lambda record: False)
blueprint = Blueprint("graphql", __name__)


def init_app(app: Flask) -> None:
    failures = app.extensions.setdefault("vectis.pack_failures", {})
    schema = app.extensions["vectis.graphql_schema"] = build_schema(app.extensions["vectis.registry"], failures)
    app.extensions["vectis.graphql_documents"] = DocumentCache(schema)
    audit_mutations(schema)  # one audit row per staff or API-key mutation, in its transaction
    for name in failures:  # a pack refused here is disabled like one that failed to load
        app.extensions.get("vectis.packs", {}).pop(name, None)
    app.register_blueprint(blueprint)


def format_error(error: GraphQLError, debug: bool = False) -> dict:
    """Request errors (auth, channel…) carry ``extensions.code``; unexpected failures never leak a traceback."""
    formatted = error.formatted
    original = error.original_error
    if isinstance(original, RequestError):
        formatted["extensions"] = {"code": original.code}
    elif original is not None and error.path is None:
        # Not from a resolver: coercing a variable (a string for an Int, 2**31, an unknown input
        # field) failed on the caller's value. graphql-core's message says which and why.
        formatted["extensions"] = {"code": BadUserInput.code}
    elif original is not None:
        formatted.update(report_unexpected(original, "resolver"))
    elif "extensions" not in formatted or "code" not in formatted.get("extensions", {}):
        formatted.setdefault("extensions", {})["code"] = "GRAPHQL_VALIDATION_FAILED"
    return formatted


def _actor(context: Context) -> Actor:
    """A bearer token (users) or an ``X-Api-Key`` (machine callers), never both; none is anonymous."""
    header = request.headers.get("Authorization", "")
    api_key = request.headers.get("X-Api-Key", "")
    if header and api_key:
        raise AuthError("send either Authorization or X-Api-Key, not both")
    database = current_app.extensions["vectis.db"]
    if api_key:
        from runtime.accounts.api_keys import authenticate_api_key

        # A transaction, since a key's last_used_at is written (at most once a minute).
        return database.run(lambda session: authenticate_api_key(session, api_key))
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("Authorization: expected 'Bearer <token>'")
    with context.reads() as session:
        return authenticate_bearer(session, current_app.config["VECTIS"], token.strip())


@blueprint.get("/graphql")
def explore():
    return explorer_page()  # GraphiQL from the package's vendored assets, no CDN


@blueprint.post("/graphql")
def execute():
    try:
        data = read_request(request)
    except RequestError as exc:
        _observe(None, 0.0, "invalid")
        return jsonify({"errors": [{"message": str(exc), "extensions": {"code": exc.code}}]}), 400
    context = Context(current_app._get_current_object(), ANONYMOUS, request)
    try:
        return _execute(data, context)
    finally:
        context.close_reads()


def _execute(data: dict, context: Context):
    try:
        context.actor = _actor(context)
    except AuthError as exc:
        return jsonify({"errors": [{"message": str(exc), "extensions": {"code": exc.code}}]}), 401
    limited = limit_graphql(data, context.actor)  # per-operation and per-caller rate limits: a 429
    if limited is not None:
        return limited
    settings = current_app.config["VECTIS"]
    parser, validator = current_app.extensions["vectis.graphql_documents"].hooks(
        settings.graphql_max_depth, settings.graphql_max_cost)
    started = time.perf_counter()
    _success, result = graphql_sync(
        current_app.extensions["vectis.graphql_schema"],
        data,
        context_value=context,
        query_parser=parser,
        query_validator=validator,
        error_formatter=format_error,
        debug=current_app.debug,
        logger=error_log,
    )
    _observe(data.get("operationName"), time.perf_counter() - started, _outcome(result, context))
    # Executed operations answer 200 even with field errors; unparsable or invalid ones 400, as
    # are variables that could not be coerced (no data, and no error from a resolver).
    executed = result.get("data") is not None or any("path" in e for e in result.get("errors", []))
    return jsonify(result), 200 if executed else 400


@blueprint.errorhandler(Exception)
def unexpected(error: Exception):
    """Anything the GraphQL layer did not turn into an answer: a JSON 500, logged and counted."""
    if isinstance(error, HTTPException):
        return error
    return jsonify({"errors": [report_unexpected(error, "request")]}), 500


def _outcome(result: dict, context: Context) -> str:
    """``ok``, ``business_error`` (refused in a payload), ``auth_error``, ``invalid`` (not executed) or ``error``."""
    if result.get("data") is None and not any("path" in e for e in result.get("errors", [])):
        return "invalid"
    codes = {e.get("extensions", {}).get("code") for e in result.get("errors", [])}
    if "INTERNAL_SERVER_ERROR" in codes:
        return "error"
    if codes & {"UNAUTHENTICATED", "FORBIDDEN"}:
        return "auth_error"
    if codes:
        return "error"
    return "business_error" if context.refusals else "ok"


def _observe(operation: str | None, seconds: float, outcome: str) -> None:
    observe_graphql(operation, seconds, outcome)
