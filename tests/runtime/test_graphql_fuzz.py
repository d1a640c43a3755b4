"""Property-based fuzzing of the whole GraphQL schema (issue 12): every query and mutation that
``hypothesis-graphql`` builds from the live schema — valid ones, and ones with one schema
violation — sent anonymously and as an admin, on every backend. Whatever comes in: no 5xx, no
``INTERNAL_SERVER_ERROR``, no traceback text, and every error carries a code.

Bounded (a few dozen examples per case, no deadline) so the whole file adds well under a minute.
"""
from __future__ import annotations

import json
from datetime import timezone

import graphql
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis_graphql import Mode, mutations, queries

from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import store

EXAMPLES = 25

#: Operations whose variables the JSON fuzz fills: strings, numbers, inputs, lists and scalars.
WITH_VARIABLES = [
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { errors { code } } }",
    "mutation($i: CreateCartInput!) { createCart(input: $i) { cart { id itemCount } errors { code } } }",
    "query($n: Int, $f: ProductFilter) { products(first: $n, filter: $f) { totalCount } }",
    "query($id: ID!, $q: Int) { price(variantId: $id, quantity: $q) { quantity } }",
    "query($s: String!) { product(slug: $s) { name } }",
]
#: Any JSON: every code point (lone surrogates and NUL included), big and negative numbers, nesting.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec=None), max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)

SCALARS = {
    "DateTime": st.datetimes(timezones=st.sampled_from([timezone.utc, None])).map(
        lambda moment: graphql.StringValueNode(value=moment.isoformat())),
    "JSON": st.one_of(st.text(max_size=20).map(lambda text: graphql.StringValueNode(value=text)),
                      st.integers(-10, 10).map(lambda n: graphql.IntValueNode(value=str(n))),
                      st.just(graphql.NullValueNode())),
}


def check(response, document: str = "") -> None:
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text
    assert "Traceback" not in text and 'File "' not in text, text
    body = response.get_json()
    assert isinstance(body, dict), text
    for error in body.get("errors", []):
        code = (error.get("extensions") or {}).get("code")
        assert code, error
        assert code != "INTERNAL_SERVER_ERROR", (error, document)


def fuzz(app, client, strategy, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}", "X-Channel-Slug": "web"} if token else {"X-Channel-Slug": "web"}

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(document=strategy)
    def run(document: str) -> None:
        check(client.post("/graphql", json={"query": document}, headers=headers), document)

    run()


def test_fuzzed_operations_never_fault_anonymous_or_as_admin(app, client):
    """Queries and mutations, valid and with one violation each, over a small store (a channel,
    products, prices) so that fuzzed operations reach past NOT_FOUND."""
    store(app)
    schema = app.extensions["vectis.graphql_schema"]
    operations = st.one_of([build(schema, custom_scalars=SCALARS, mode=mode)
                            for build in (queries, mutations) for mode in (Mode.POSITIVE, Mode.NEGATIVE)])
    fuzz(app, client, operations, None)
    fuzz(app, client, operations, signed_in(app, client, "admin"))


def test_fuzzed_variables_never_fault(app, client):
    store(app)

    @settings(max_examples=EXAMPLES * 2, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(query=st.sampled_from(WITH_VARIABLES), variables=st.dictionaries(
        st.sampled_from(["e", "p", "i", "n", "f", "id", "q", "s"]), JSON, max_size=4))
    def run(query: str, variables: dict) -> None:
        body = json.dumps({"query": query, "variables": variables})  # escapes lone surrogates as \udXXX
        check(client.post("/graphql", data=body, content_type="application/json",
                          headers={"X-Channel-Slug": "web"}), f"{query} {variables!r}")

    run()
