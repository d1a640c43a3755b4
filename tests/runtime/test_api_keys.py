"""API keys: created with scopes the creator holds, shown once, stored hashed, used with X-Api-Key."""
from __future__ import annotations

import hashlib

import pytest

from sqlmodel import select

from runtime.accounts.models import ApiKey
from tests.runtime.helpers import gql, signed_in

CREATE = """mutation C($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  apiKey { id name prefix scopes createdBy expiresAt revokedAt lastUsedAt } key errors { code field message } } }"""
REVOKE = "mutation R($id: ID!) { revokeApiKey(id: $id) { apiKey { id revokedAt } errors { code field message } } }"
KEYS = "{ apiKeys { name scopes revokedAt lastUsedAt } }"
VIEWER = "{ viewer { email permissions } }"
GROUP = """mutation { createCustomerGroup(input: {slug: "erp", name: "ERP"}) { customerGroup { slug } errors { code } } }"""
CHANNEL = """mutation { createChannel(input: {slug: "web", name: "Web", commerceMode: B2C, defaultCurrency: "EUR"}) {
  channel { slug } errors { code } } }"""


def with_key(client, query, key, token=None):
    headers = {"X-Api-Key": key, **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.post("/graphql", json={"query": query}, headers=headers)


def keys(app):
    with app.extensions["vectis.db"].session() as session:
        return session.exec(select(ApiKey).order_by(ApiKey.id)).all()


def create(client, token, **input):
    return gql(client, CREATE, {"input": {"name": "ERP", "scopes": ["accounts.manage"], **input}}, token).get_json()


def test_a_key_is_shown_once_stored_hashed_and_acts_with_its_scopes(app, client, frozen_clock):
    admin = signed_in(app, client, "admin")

    created = create(client, admin)["data"]["createApiKey"]
    key = created["key"]
    viewer = with_key(client, VIEWER, key).get_json()
    allowed = with_key(client, GROUP, key).get_json()
    outside = with_key(client, CHANNEL, key).get_json()
    listed = gql(client, KEYS, token=admin).get_json()["data"]["apiKeys"]

    prefix = created["apiKey"]["prefix"]
    assert created["errors"] == [] and key.startswith(f"vk_{prefix}_") and len(key) > 50
    assert created["apiKey"] | {"id": None, "prefix": None} == {
        "id": None, "name": "ERP", "prefix": None, "scopes": ["accounts.manage"], "createdBy": "admin@example.test",
        "expiresAt": None, "revokedAt": None, "lastUsedAt": None}
    [row] = keys(app)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in (row.key_hash, row.prefix)
    assert viewer == {"data": {"viewer": {"email": "api-key:ERP", "permissions": ["accounts.manage"]}}}
    assert allowed["data"]["createCustomerGroup"] == {"customerGroup": {"slug": "erp"}, "errors": []}
    assert outside["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert outside["errors"][0]["message"] == "permission 'channels.manage' is required"
    assert listed == [{"name": "ERP", "scopes": ["accounts.manage"], "revokedAt": None,
                       "lastUsedAt": "2026-01-15T12:00:00+00:00"}]
    assert "key" not in str(listed)


def test_last_used_is_written_at_most_once_a_minute(app, client, frozen_clock):
    admin = signed_in(app, client, "admin")
    key = create(client, admin)["data"]["createApiKey"]["key"]

    with_key(client, GROUP, key)
    frozen_clock.advance(seconds=59)
    with_key(client, GROUP, key)
    first = keys(app)[0].last_used_at
    frozen_clock.advance(seconds=1)
    with_key(client, GROUP, key)

    assert first.isoformat() == "2026-01-15T12:00:00+00:00"
    assert keys(app)[0].last_used_at.isoformat() == "2026-01-15T12:01:00+00:00"


def test_revoked_expired_and_unknown_keys_are_unauthenticated(app, client, frozen_clock):
    admin = signed_in(app, client, "admin")
    revoked = create(client, admin)["data"]["createApiKey"]
    expiring = create(client, admin, name="Short", expiresAt="2026-01-15T13:00:00+00:00")["data"]["createApiKey"]

    answer = gql(client, REVOKE, {"id": revoked["apiKey"]["id"]}, admin).get_json()["data"]["revokeApiKey"]
    assert with_key(client, GROUP, expiring["key"]).status_code == 200
    frozen_clock.advance(hours=1)
    responses = {
        "revoked": with_key(client, GROUP, revoked["key"]),
        "expired": with_key(client, GROUP, expiring["key"]),
        "unknown": with_key(client, GROUP, revoked["key"][:-4] + "abcd"),
        "malformed": with_key(client, GROUP, "secret"),
        "both": with_key(client, GROUP, expiring["key"], token=admin),
    }

    assert answer == {"apiKey": {"id": revoked["apiKey"]["id"], "revokedAt": "2026-01-15T12:00:00+00:00"}, "errors": []}
    assert {k: (r.status_code, r.get_json()["errors"][0]["extensions"]["code"], r.get_json()["errors"][0]["message"])
            for k, r in responses.items()} == {
        "revoked": (401, "UNAUTHENTICATED", "X-Api-Key: the API key is revoked"),
        "expired": (401, "UNAUTHENTICATED", "X-Api-Key: the API key expired"),
        "unknown": (401, "UNAUTHENTICATED", "X-Api-Key: unknown API key"),
        "malformed": (401, "UNAUTHENTICATED", "X-Api-Key: expected 'vk_<prefix>_<secret>'"),
        "both": (401, "UNAUTHENTICATED", "send either Authorization or X-Api-Key, not both"),
    }


def test_scopes_must_be_known_permissions_the_creator_holds(app, client, frozen_clock):
    admin = signed_in(app, client, "admin")
    refused = create(client, admin, name=" ", scopes=["accounts.manage", "everything"],
                     expiresAt="2026-01-15T12:00:00+00:00")["data"]["createApiKey"]
    unknown = gql(client, REVOKE, {"id": "42"}, admin).get_json()["data"]["revokeApiKey"]

    assert refused == {"apiKey": None, "key": None, "errors": [
        {"code": "INVALID_NAME", "field": "name", "message": "name: expected 1 to 200 characters"},
        {"code": "INVALID_SCOPE", "field": "scopes.1", "message": "scopes.1: unknown permission 'everything'"},
        {"code": "INVALID_EXPIRY", "field": "expiresAt", "message": "expiresAt: must be in the future"},
    ]}
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": "id", "message": "id: no API key 42"}]
    assert keys(app) == []


def test_a_key_cannot_grant_what_its_creator_lacks_and_management_needs_the_permission(app, client, database):
    from runtime.accounts.api_keys import create_api_key
    from runtime.auth.permissions import Actor
    from runtime.errors import BusinessErrors

    sales = signed_in(app, client, "sales")
    manager = Actor(user_id=1, email="keys@example.test", permissions=frozenset({"api_keys.manage"}))
    with pytest.raises(BusinessErrors) as refused:
        database.run(lambda s: create_api_key(s, manager, "ERP", ["orders.read"], None))
    assert [e.as_dict() for e in refused.value.errors] == [
        {"code": "INVALID_SCOPE", "field": "scopes.0", "message": "scopes.0: you do not hold 'orders.read'"}]

    forbidden = [create(client, sales), gql(client, KEYS, token=sales).get_json(),
                 gql(client, REVOKE, {"id": "1"}, sales).get_json()]

    assert [f["errors"][0]["message"] for f in forbidden] == ["permission 'api_keys.manage' is required"] * 3
    assert keys(app) == []
