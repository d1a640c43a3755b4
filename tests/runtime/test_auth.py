from datetime import timedelta

from tests.runtime.helpers import LOGIN, gql, login, make_user

VIEWER = "{ viewer { email roles permissions } }"
REFRESH = """mutation R($t: String!) { refreshToken(refreshToken: $t) {
  tokens { accessToken refreshToken } errors { code field message } } }"""


def test_login_returns_tokens_that_identify_the_viewer(app, client):
    make_user(app, "merch@example.test", ["merchandiser"])

    token = login(client, "merch@example.test")
    data = gql(client, VIEWER, token=token).get_json()["data"]

    assert data["viewer"] == {
        "email": "merch@example.test",
        "roles": ["merchandiser"],
        "permissions": ["definitions.publish", "definitions.read", "promotions.manage", "promotions.read"],
    }


def test_wrong_password_is_a_payload_error_not_a_top_level_one(app, client):
    make_user(app, "merch@example.test", ["merchandiser"])

    body = gql(client, LOGIN, {"email": "merch@example.test", "password": "wrong password!"}).get_json()

    assert "errors" not in body
    assert body["data"]["login"] == {
        "tokens": None,
        "errors": [{"code": "INVALID_CREDENTIALS", "field": None, "message": "email or password is wrong"}],
    }


def test_anonymous_viewer_is_null(client):
    assert gql(client, VIEWER).get_json() == {"data": {"viewer": None}}


def test_bad_bearer_token_is_a_top_level_unauthenticated_error(client):
    response = gql(client, VIEWER, token="not-a-jwt")

    assert response.status_code == 401
    error = response.get_json()["errors"][0]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert error["message"].startswith("invalid token:")


def test_access_token_expires_on_the_runtime_clock(app, client, frozen_clock):
    make_user(app, "merch@example.test", ["merchandiser"])
    token = login(client, "merch@example.test")

    frozen_clock.advance(seconds=app.config["VECTIS"].access_token_ttl + 1)
    response = gql(client, VIEWER, token=token)

    assert response.status_code == 401
    assert response.get_json()["errors"][0]["message"] == "token expired"


def test_refresh_token_is_single_use(app, client):
    make_user(app, "merch@example.test", ["merchandiser"])
    tokens = gql(client, LOGIN, {"email": "merch@example.test", "password": "correct horse battery"}).get_json()
    refresh = tokens["data"]["login"]["tokens"]["refreshToken"]

    first = gql(client, REFRESH, {"t": refresh}).get_json()["data"]["refreshToken"]
    second = gql(client, REFRESH, {"t": refresh}).get_json()["data"]["refreshToken"]

    assert first["errors"] == [] and first["tokens"]["accessToken"]
    assert second == {
        "tokens": None,
        "errors": [{"code": "INVALID_TOKEN", "field": "refreshToken", "message": "refreshToken: already used or revoked"}],
    }
