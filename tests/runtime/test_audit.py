"""Audit log (issue 18): one append-only row per staff or API-key mutation, in the mutation's
transaction; refusals recorded with their codes; none for buyers; never a secret; read by admins."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from runtime.accounts.models import CustomerGroup
from runtime.audit import recorder
from runtime.audit.models import AuditEntry, AuditLogAppendOnly
from runtime.auth.service import seed_roles
from runtime.channels.models import Channel
from tests.conftest import make_settings
from tests.runtime.helpers import gql, make_user, login, signed_in

GROUP = """mutation NewGroup($input: CreateCustomerGroupInput!) { createCustomerGroup(input: $input) {
  customerGroup { slug } errors { code field message } } }"""
CHANNEL = """mutation { createChannel(input: {slug: "web", name: "Web", commerceMode: B2C, defaultCurrency: "EUR"}) {
  channel { slug } errors { code } } }"""
REGISTER = """mutation R($input: RegisterCustomerInput!) { registerCustomer(input: $input) {
  tokens { accessToken } errors { code } } }"""
ADDRESS = """mutation A($input: AddressInput!) { addAddress(input: $input) { address { id } errors { code field } } }"""
CREATE_KEY = """mutation K($input: CreateApiKeyInput!) { createApiKey(input: $input) { key errors { code } } }"""
SET_PROVIDER = """mutation Configure($config: JSON) {
  setChannelProvider(channelSlug: "web", slot: "tax_provider", provider: "http_tax.tax_provider.http", config: $config) {
    errors { code field message } } }"""
LOG = """query Log($filter: AuditLogFilter, $first: Int, $after: String) { auditLog(filter: $filter, first: $first, after: $after) {
  nodes { actorKind userId apiKeyId actorLabel ip operation operationName targetIds outcome errorCodes }
  pageInfo { hasNextPage endCursor } } }"""
PLAINTEXT = "sk_live_PLANTED_9b2e77"


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    return make_settings(database_url, redis_url, tmp_path, secrets_master_key=Fernet.generate_key().decode())


def rows(app) -> list[AuditEntry]:
    with app.extensions["vectis.db"].session() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)).all())


def groups(app) -> list[str]:
    with app.extensions["vectis.db"].session() as session:
        return [g.slug for g in session.exec(select(CustomerGroup).order_by(CustomerGroup.id)).all()]


def test_a_staff_mutation_writes_exactly_one_row_and_a_refusal_records_its_code(app, client):
    admin = signed_in(app, client, "admin")

    created = gql(client, GROUP, {"input": {"slug": "trade", "name": "Trade"}}, admin).get_json()
    [row] = rows(app)
    again = gql(client, GROUP, {"input": {"slug": "trade", "name": "Trade again"}}, admin).get_json()

    assert created["data"]["createCustomerGroup"]["errors"] == []
    assert (row.actor_kind, row.actor_label, row.ip, row.operation, row.operation_name, row.outcome,
            row.error_codes, row.api_key_id) == ("user", "admin@example.test", "127.0.0.1", "createCustomerGroup",
                                                 "NewGroup", "ok", [], None)
    assert row.user_id is not None and row.request_id
    [error] = again["data"]["createCustomerGroup"]["errors"]
    refused = rows(app)[1:]
    assert [(r.operation, r.outcome, r.error_codes) for r in refused] == [("createCustomerGroup", "refused", [error["code"]])]
    assert groups(app) == ["trade"]


def test_a_forbidden_staff_mutation_is_recorded_and_changes_nothing(app, client):
    viewer = signed_in(app, client, "viewer")

    answer = gql(client, CHANNEL, token=viewer).get_json()

    assert answer["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert [(r.operation, r.outcome, r.error_codes, r.actor_label) for r in rows(app)] == [
        ("createChannel", "forbidden", ["FORBIDDEN"], "viewer@example.test")]
    with app.extensions["vectis.db"].session() as session:
        assert session.exec(select(Channel)).all() == []


def test_a_customer_mutation_writes_no_row(app, client):
    app.extensions["vectis.db"].run(seed_roles)
    registered = gql(client, REGISTER, {"input": {"email": "eve@example.test", "password": "correct horse battery",
                                                  "firstName": "Eve", "lastName": "Ito"}}).get_json()
    token = registered["data"]["registerCustomer"]["tokens"]["accessToken"]

    added = gql(client, ADDRESS, {"input": {"firstName": "Eve", "lastName": "Ito", "line1": "Ring 1", "city": "Wien",
                                            "postalCode": "1010", "country": "AT"}}, token).get_json()

    assert added["data"]["addAddress"]["errors"] == [] and added["data"]["addAddress"]["address"]["id"]
    assert rows(app) == []


def test_an_api_key_mutation_is_recorded_as_the_key(app, client):
    admin = signed_in(app, client, "admin")
    key = gql(client, CREATE_KEY, {"input": {"name": "ERP", "scopes": ["accounts.manage"]}}, admin).get_json()[
        "data"]["createApiKey"]["key"]

    answer = client.post("/graphql", json={"query": GROUP, "variables": {"input": {"slug": "erp", "name": "ERP"}}},
                         headers={"X-Api-Key": key}).get_json()

    assert answer["data"]["createCustomerGroup"]["errors"] == []
    created_key, by_key = rows(app)
    assert (created_key.operation, created_key.actor_kind, created_key.outcome) == ("createApiKey", "user", "ok")
    assert (by_key.operation, by_key.actor_kind, by_key.actor_label, by_key.user_id, by_key.outcome) == (
        "createCustomerGroup", "api_key", "api-key:ERP", None, "ok")
    assert by_key.api_key_id is not None
    assert key not in str([r.model_dump() for r in rows(app)])


def test_the_row_commits_with_the_change_or_not_at_all(app, client, monkeypatch):
    admin = signed_in(app, client, "admin")
    entry = recorder.AuditScope.entry

    def failing(scope, outcome, codes=()):
        if outcome == "ok":
            raise RuntimeError("audit store unavailable")
        return entry(scope, outcome, codes)

    monkeypatch.setattr(recorder.AuditScope, "entry", failing)
    answer = gql(client, GROUP, {"input": {"slug": "trade", "name": "Trade"}}, admin).get_json()

    # The change's own transaction could not add its row, so the change rolled back with it.
    assert answer["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert groups(app) == []
    assert [(r.operation, r.outcome) for r in rows(app)] == [("createCustomerGroup", "error")]


def test_rows_never_contain_a_secret(app, client):
    app.extensions["vectis.db"].run(lambda s: s.add(Channel(
        slug="web", name="Web", commerce_mode="HYBRID", default_currency="EUR", currencies=["EUR"],
        capture_mode="AUTHORIZE_AND_CAPTURE", is_default=True)))
    admin = signed_in(app, client, "admin")

    ok = gql(client, SET_PROVIDER, {"config": {"url": "https://tax.example.test/calc", "api_key": PLAINTEXT}},
             admin).get_json()
    bad = gql(client, SET_PROVIDER, {"config": {"url": "ftp://nope", "api_key": PLAINTEXT}}, admin).get_json()

    assert ok["data"]["setChannelProvider"]["errors"] == [] and bad["data"]["setChannelProvider"]["errors"] != []
    assert [r.outcome for r in rows(app)] == ["ok", "refused"]
    with app.extensions["vectis.db"].engine.connect() as conn:
        dumped = [str(tuple(r)) for r in conn.execute(text("SELECT * FROM audit_log"))]
    assert len(dumped) == 2 and not any(PLAINTEXT in row or "sk_live" in row for row in dumped)


def test_admins_read_the_log_newest_first_with_filters_and_pages(app, client):
    admin = signed_in(app, client, "admin")
    for slug in ("a", "b", "c"):
        gql(client, GROUP, {"input": {"slug": slug, "name": slug.upper()}}, admin)
    gql(client, GROUP, {"input": {"slug": "a", "name": "dup"}}, admin)

    first = gql(client, LOG, {"first": 2}, admin).get_json()["data"]["auditLog"]
    rest = gql(client, LOG, {"first": 2, "after": first["pageInfo"]["endCursor"]}, admin).get_json()["data"]["auditLog"]
    refused = gql(client, LOG, {"filter": {"outcome": "REFUSED"}}, admin).get_json()["data"]["auditLog"]["nodes"]
    by_op = gql(client, LOG, {"filter": {"operation": "createChannel"}}, admin).get_json()["data"]["auditLog"]["nodes"]
    bad = gql(client, LOG, {"filter": {"since": "2026-01-01T00:00"}}, admin).get_json()

    assert [n["outcome"] for n in first["nodes"]] == ["REFUSED", "OK"] and first["pageInfo"]["hasNextPage"]
    assert [n["outcome"] for n in rest["nodes"]] == ["OK", "OK"] and not rest["pageInfo"]["hasNextPage"]
    assert first["nodes"][0] | {"userId": None} == {
        "actorKind": "USER", "userId": None, "apiKeyId": None, "actorLabel": "admin@example.test", "ip": "127.0.0.1",
        "operation": "createCustomerGroup", "operationName": "NewGroup", "targetIds": [], "outcome": "REFUSED",
        "errorCodes": refused[0]["errorCodes"]}
    assert len(refused) == 1 and by_op == []
    assert bad["errors"][0]["extensions"] == {"code": "INVALID_FILTER"}
    assert bad["errors"][0]["message"] == "filter.since: expected an ISO-8601 time with a zone, got '2026-01-01T00:00'"


def test_the_log_is_for_admins_and_filters_by_target_id(app, client):
    admin = signed_in(app, client, "admin")
    make_user(app, "sales@example.test", ["sales"])
    sales = login(client, "sales@example.test")
    revoke = "mutation { revokeApiKey(id: \"987\") { errors { code } } }"
    gql(client, revoke, token=admin)

    denied = gql(client, LOG, token=sales).get_json()
    found = gql(client, LOG, {"filter": {"targetId": "987"}}, admin).get_json()["data"]["auditLog"]["nodes"]
    other = gql(client, LOG, {"filter": {"targetId": "98"}}, admin).get_json()["data"]["auditLog"]["nodes"]

    assert denied["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert [(n["operation"], n["targetIds"]) for n in found] == [("revokeApiKey", ["987"])]
    assert other == []


def test_rows_cannot_be_changed(app, client):
    admin = signed_in(app, client, "admin")
    gql(client, GROUP, {"input": {"slug": "trade", "name": "Trade"}}, admin)
    database = app.extensions["vectis.db"]

    def edit(session):
        row = session.exec(select(AuditEntry)).one()
        row.outcome = "refused"

    with pytest.raises(AuditLogAppendOnly):
        database.run(edit)
    with pytest.raises(DBAPIError, match="append-only"):
        with database.engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET outcome = 'refused'"))
    assert [r.outcome for r in rows(app)] == ["ok"]
