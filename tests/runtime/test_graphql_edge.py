"""Issue 12, items 1–6 and the one place for faults: hostile GraphQL requests get a client error
with a code and a message naming the place, and change nothing."""
from __future__ import annotations

import json
import logging
import time

import pytest
from graphql import parse, validate

from runtime.auth.models import User
from runtime.carts.models import Cart
from runtime.graphql import limits, schema, view
from runtime.graphql.edge import MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_STRING_LENGTH
from tests.runtime.helpers import gql, signed_in
from tests.runtime.test_carts_api import rows, store


def raw_post(client, body: str):
    return client.post("/graphql", data=body, content_type="application/json")


def only_error(response) -> dict:
    [error] = response.get_json()["errors"]
    return error


# 1. nesting


@pytest.mark.parametrize("nested", ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000])
def test_a_body_nested_1000_levels_is_a_json_400(client, nested):
    response = raw_post(client, '{"query": "{ server { version } }", "variables": {"v": ' + nested + "}}")

    assert response.status_code == 400
    assert only_error(response) == {"message": f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels",
                                     "extensions": {"code": "BAD_REQUEST"}}


def test_variables_nested_past_the_bound_are_refused_naming_the_place(client):
    variables = {"input": {"lines": []}}
    inner = variables["input"]
    for _ in range(MAX_JSON_DEPTH):
        inner["x"] = {}
        inner = inner["x"]
    response = gql(client, "query($input: JSON) { server { version } }", variables)

    assert response.status_code == 400
    error = only_error(response)
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert error["message"].startswith("variables.input.x.x.") and error["message"].endswith(
        f": nested deeper than {MAX_JSON_DEPTH} levels")


def test_a_body_over_the_size_limit_is_a_json_400(client):
    body = json.dumps({"query": "{ server { version } }", "variables": {"pad": "x" * MAX_BODY_BYTES}})
    response = raw_post(client, body)

    assert response.status_code == 400
    assert only_error(response) == {"message": f"body: {len(body)} bytes; the limit is {MAX_BODY_BYTES}",
                                    "extensions": {"code": "BAD_REQUEST"}}


# 2. operationName


@pytest.mark.parametrize("name, kind", [(5, "int"), (["a"], "list"), ({"a": 1}, "dict")])
def test_a_non_string_operation_name_is_a_400(client, name, kind):
    response = client.post("/graphql", json={"query": "{ server { version } }", "operationName": name})

    assert response.status_code == 400
    assert only_error(response) == {"message": f"operationName: expected a string or null, got {kind}",
                                    "extensions": {"code": "BAD_REQUEST"}}


def test_non_object_variables_and_a_non_string_query_are_400(client):
    assert only_error(client.post("/graphql", json={"query": "{ server { version } }", "variables": [1]})) == {
        "message": "variables: expected an object or null, got list", "extensions": {"code": "BAD_REQUEST"}}
    assert only_error(client.post("/graphql", json={"query": 5})) == {
        "message": "query: expected the operation text as a string", "extensions": {"code": "BAD_REQUEST"}}


# 3. variable coercion

PAGE = "query Page($n: Int) { products(first: $n) { totalCount } }"


@pytest.mark.parametrize("value, message", [
    ("x", "Variable '$n' has invalid value: Int cannot represent non-integer value: 'x'"),
    (2**31, "Variable '$n' has invalid value: Int cannot represent non 32-bit signed integer value: 2147483648"),
])
def test_a_variable_of_the_wrong_type_is_bad_user_input_with_graphql_cores_message(client, value, message):
    response = gql(client, PAGE, {"n": value})

    assert response.status_code == 400
    error = only_error(response)
    assert (error["message"], error["extensions"]) == (message, {"code": "BAD_USER_INPUT"})


def test_a_missing_required_variable_and_an_unknown_input_field_are_bad_user_input(app, client):
    missing = only_error(gql(client, "query($slug: String!) { product(slug: $slug) { name } }"))
    assert (missing["message"], missing["extensions"]) == (
        "Variable '$slug' has invalid value: Expected a value of non-null type 'String!' to be provided.",
        {"code": "BAD_USER_INPUT"})

    create = "mutation($input: CreateCartInput!) { createCart(input: $input) { cart { id } errors { code } } }"
    unknown = gql(client, create, {"input": {"lines": [], "colour": "red"}})
    assert unknown.status_code == 400
    error = only_error(unknown)
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"] == ("Variable '$input' has invalid value: Expected value of type 'CreateCartInput' not to "
                                "include unknown field 'colour', found: {'colour': 'red', 'lines': []}.")
    assert rows(app, Cart) == []


# 4. explicit null where a default exists


@pytest.mark.parametrize("query, path", [
    ("{ products(first: null) { totalCount edges { node { name } } } }", "products"),
    ("{ orders(first: null, inventoryRiskOnly: null) { totalCount } }", "orders"),
    ("{ customers(first: null) { totalCount } }", "customers"),
    ("{ accounts(first: null) { totalCount } }", "accounts"),
    ("{ reservations(first: null) { totalCount } }", "reservations"),
    ("{ channels(includeInactive: null) { slug } }", "channels"),
])
def test_null_for_an_argument_with_a_default_means_the_default(app, client, query, path):
    admin = signed_in(app, client, "admin")

    response = gql(client, query, token=admin)

    assert response.status_code == 200
    body = response.get_json()
    assert "errors" not in body
    assert body["data"][path] in ({"totalCount": 0}, {"totalCount": 0, "edges": []}, [])


def test_null_for_a_defaulted_argument_given_as_a_variable_means_the_default_too(app, client):
    admin = signed_in(app, client, "admin")

    response = gql(client, "query($n: Int) { customers(first: $n) { totalCount } }", {"n": None}, token=admin)

    assert response.get_json() == {"data": {"customers": {"totalCount": 0}}}


def test_null_for_price_quantity_and_for_defaulted_input_fields_means_the_default(app, client):
    ids = store(app)
    admin = signed_in(app, client, "admin")
    headers = {"Authorization": f"Bearer {admin}", "X-Channel-Slug": "web"}

    def ask(query):
        return client.post("/graphql", json={"query": query}, headers=headers).get_json()

    priced = {"quantity": 1, "unitPrice": {"amount": "9.00"}}
    assert ask('{ price(variantId: "%d", quantity: null) { quantity unitPrice { amount } } }' % ids["mug"]) == {
        "data": {"price": priced}}
    assert ask('{ variant(id: "%d") { price(quantity: null) { quantity unitPrice { amount } } } }' % ids["mug"]) == {
        "data": {"variant": {"price": priced}}}
    created = ask('mutation { createChannel(input: {slug: "b2b", name: "B", commerceMode: B2B, defaultCurrency: "EUR", '
                  'currencies: ["EUR"], isActive: null, isDefault: null, timeZone: null, captureMode: null}) {'
                  ' channel { isActive isDefault timeZone captureMode } errors { code } } }')
    assert created == {"data": {"createChannel": {"errors": [], "channel": {
        "isActive": True, "isDefault": False, "timeZone": "UTC", "captureMode": "AUTHORIZE_AND_CAPTURE"}}}}


# 5. fragment bombs and document bounds


def doubling(levels: int) -> str:
    fragments = "".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(levels))
    return f"query Bomb {{ ...F0 }}\n{fragments}fragment F{levels} on Query {{ server {{ version }} }}\n"


def test_a_27_level_fragment_bomb_is_too_costly_after_linear_work(app, client, monkeypatch):
    walked = []
    measure = limits.Measure.selection_set
    monkeypatch.setattr(limits.Measure, "selection_set", lambda self, s: walked.append(1) or measure(self, s))
    query = doubling(27)
    assert len(query) < 1200

    started = time.perf_counter()
    response = gql(client, query)

    assert time.perf_counter() - started < 10  # a guard against a hang only; the work is counted below
    assert response.status_code == 400
    assert only_error(response)["extensions"] == {"code": "QUERY_TOO_COSTLY", "maxCost": 5000}
    # each of the 29 selection sets once per rule (depth and cost share one memo): 2^27 without it
    assert len(walked) <= 2 * 30


def test_the_depth_rule_alone_memoises_fragments(app, monkeypatch):
    walked = []
    measure = limits.Measure.selection_set
    monkeypatch.setattr(limits.Measure, "selection_set", lambda self, s: walked.append(1) or measure(self, s))
    built = app.extensions["vectis.graphql_schema"]

    errors = validate(built, parse(doubling(40)), [limits.depth_limit(10, 5000)])

    assert errors == []  # 40 levels of fragments add no depth: the only field is server { version }
    assert len(walked) == 44  # the operation, 41 fragments, server { } and the leaf version: once each


def test_too_many_tokens_and_too_long_a_document_are_refused(client):
    many = "{ " + " ".join(["server { version }"] * 2600) + " }"
    error = only_error(gql(client, many))
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert error["message"] == "Syntax Error: Document contains more than 10000 tokens. Parsing aborted."

    long = "{ server { version } }" + " " * 100_000
    response = gql(client, long)
    assert response.status_code == 400
    assert only_error(response) == {"message": "query: 100022 characters; the limit is 100000",
                                    "extensions": {"code": "BAD_REQUEST"}}


# 6. strings: NUL, lone surrogates, length

LOGIN = "mutation($email: String!) { login(email: $email, password: \"whatever pass\") { tokens { accessToken } errors { code } } }"
CREATE_CART = "mutation($input: CreateCartInput!) { createCart(input: $input) { cart { id } errors { code } } }"


@pytest.mark.parametrize("value, problem", [
    ("a\ud800b@example.test", "contains a lone UTF-16 surrogate (U+D800) at position 1"),
    ("a\udfffb@example.test", "contains a lone UTF-16 surrogate (U+DFFF) at position 1"),
    ("a\x00b@example.test", "contains a NUL character (U+0000)"),
    ("a" * (MAX_STRING_LENGTH + 1), f"is {MAX_STRING_LENGTH + 1} characters long; the limit is {MAX_STRING_LENGTH}"),
])
def test_a_bad_string_variable_is_refused_naming_the_variable_and_nothing_changes(app, client, value, problem):
    body = json.dumps({"query": LOGIN, "variables": {"email": value}})  # json.dumps escapes the surrogate as \ud800

    response = raw_post(client, body)

    assert response.status_code == 400
    assert only_error(response) == {"message": f"variables.email: {problem}", "extensions": {"code": "BAD_USER_INPUT"}}


def test_a_bad_string_inside_an_input_object_and_a_list_names_its_path(app, client):
    nested = gql(client, CREATE_CART, {"input": {"email": "x\x00@example.test", "lines": []}})
    assert only_error(nested)["message"] == "variables.input.email: contains a NUL character (U+0000)"

    listed = gql(client, CREATE_CART, {"input": {"lines": [{"sku": "ok", "quantity": 1}, {"sku": "\ud83d", "quantity": 1}]}})
    assert only_error(listed) == {"message": "variables.input.lines.1.sku: contains a lone UTF-16 surrogate (U+D83D) "
                                             "at position 0", "extensions": {"code": "BAD_USER_INPUT"}}
    assert rows(app, Cart) == []


def test_a_nul_in_an_inline_literal_is_refused_naming_field_and_argument(app, client):
    response = gql(client, 'mutation { createCart(input: {email: "a\\u0000b@example.test", lines: []}) { cart { id } } }')

    assert response.status_code == 400
    error = only_error(response)
    assert (error["message"], error["extensions"]) == ("createCart.input.email: contains a NUL character (U+0000)",
                                                       {"code": "BAD_USER_INPUT"})
    assert rows(app, Cart) == []


def test_an_escaped_lone_surrogate_in_a_literal_is_a_syntax_error(client):
    error = only_error(gql(client, '{ product(slug: "a\\ud800b") { name } }'))

    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert error["message"] == "Syntax Error: Invalid Unicode escape sequence: '\\ud800'."


def test_a_login_with_a_surrogate_writes_nothing_and_a_good_string_still_works(app, client):
    before = len(rows(app, User))
    raw_post(client, json.dumps({"query": LOGIN, "variables": {"email": "\ud800"}}))
    assert len(rows(app, User)) == before
    ok = gql(client, LOGIN, {"email": "nobody@example.test"}).get_json()["data"]["login"]
    assert ok["tokens"] is None and ok["errors"][0]["code"]


# the one place for unexpected faults


def test_a_fault_in_a_resolver_is_internal_logged_with_the_request_id_and_counted(app, client, monkeypatch, caplog):
    def broken(_name):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(schema, "version", broken)
    with caplog.at_level(logging.ERROR, logger="runtime.errors.unexpected"):
        response = client.post("/graphql", json={"query": "{ server { version } }"}, headers={"X-Request-ID": "req-42"})

    assert response.status_code == 200  # executed: the field is null with an error
    error = only_error(response)
    assert (error["message"], error["extensions"], error["path"]) == (
        "internal error", {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}, ["server"])
    assert "secret detail" not in response.get_data(as_text=True)
    [record] = [r for r in caplog.records if r.name == "runtime.errors.unexpected"]
    assert record.getMessage() == "unexpected RuntimeError in resolver (request req-42)"
    assert record.exc_info[1].args == ("secret detail",)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'vectis_unexpected_errors_total{where="resolver"} 1.0' in metrics
    assert 'vectis_graphql_requests_total{operation="anonymous",outcome="error"} 1.0' in metrics


def test_a_fault_outside_resolvers_is_a_json_500_counted_once(app, client, monkeypatch):
    def broken(_context):
        raise KeyError("secret detail")

    monkeypatch.setattr(view, "_actor", broken)
    response = client.post("/graphql", json={"query": "{ server { version } }"}, headers={"X-Request-ID": "req-43"})

    assert response.status_code == 500
    assert response.get_json() == {"errors": [{"message": "internal error",
                                               "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-43"}}]}
    assert 'vectis_unexpected_errors_total{where="request"} 1.0' in client.get("/metrics").get_data(as_text=True)
