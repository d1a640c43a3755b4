"""Sign-in, the session cookie, CSRF and permissions: hidden in the pages and refused by the server."""
from __future__ import annotations

from tests.admin_ui.helpers import CHEAP, PASSWORD, SALE, publish, revisions, sign_in, token_of
from tests.runtime.helpers import make_user


def test_pages_need_a_sign_in_and_the_cookie_is_httponly_samesite(app, client):
    response = client.get("/admin/definitions")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login?next=")
    cookie = client.get("/admin/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/admin" in cookie


def test_wrong_password_is_refused_and_signs_nobody_in(app, client):
    make_user(app, "merch@example.test", ["merchandiser"], PASSWORD)
    token = token_of(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/login", data={"email": "merch@example.test", "password": "nope-nope-nope",
                                                 "csrf_token": token})
    assert response.status_code == 401
    assert "email or password is wrong" in response.get_data(as_text=True)
    assert client.get("/admin/definitions").status_code == 302


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app, client):
    publish(app, SALE)
    sign_in(app, client, "merchandiser")
    form = {"source": CHEAP, "note": "cheaper", "action": "publish", "base_revision": "1"}
    response = client.post("/admin/definitions/label/sale", data=form)
    assert response.status_code == 400
    assert "CSRF token" in response.get_data(as_text=True)
    wrong = client.post("/admin/definitions/label/sale", data={**form, "csrf_token": "forged"})
    assert wrong.status_code == 400
    assert revisions(app, "label", "sale") == [(1, "someone@example.test", "test", True)]


def test_login_itself_needs_the_token(app, client):
    make_user(app, "merch@example.test", ["merchandiser"], PASSWORD)
    response = client.post("/admin/login", data={"email": "merch@example.test", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/definitions").status_code == 302


def test_a_viewer_reads_but_cannot_publish_hidden_and_refused(app, client):
    publish(app, SALE)
    token = sign_in(app, client, "viewer")
    page = client.get("/admin/definitions/label/sale").get_data(as_text=True)
    assert 'value="publish"' not in page and 'value="save"' not in page
    assert "publishing needs the merchandiser role" in page
    assert "Roll back" not in client.get("/admin/definitions/label/sale/history").get_data(as_text=True)
    form = {"source": CHEAP, "note": "cheaper", "action": "publish", "base_revision": "1", "csrf_token": token}
    assert client.post("/admin/definitions/label/sale", data=form).status_code == 403
    assert client.post("/admin/definitions/label/sale", data={**form, "action": "save"}).status_code == 403
    rollback = client.post("/admin/definitions/label/sale/rollback", data={"revision": "1", "csrf_token": token})
    assert rollback.status_code == 403
    assert revisions(app, "label", "sale") == [(1, "someone@example.test", "test", True)]
    # validating is reading: allowed
    assert client.post("/admin/definitions/label/sale", data={**form, "action": "validate"}).status_code == 200


def test_only_admins_manage_users(app, client):
    sign_in(app, client, "merchandiser")
    assert 'href="/admin/users"' not in client.get("/admin/definitions").get_data(as_text=True)
    assert client.get("/admin/users").status_code == 403


def test_an_admin_changes_roles_and_cannot_demote_the_last_admin(app, client):
    token = sign_in(app, client, "admin")
    make_user(app, "v@example.test", ["viewer"], PASSWORD)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "v@example.test" in page
    from runtime.auth.models import User, UserRole
    from sqlmodel import select

    with app.extensions["vectis.db"].session() as s:
        ids = {u.email: u.id for u in s.exec(select(User))}
    client.post(f"/admin/users/{ids['v@example.test']}/roles", data={"roles": ["merchandiser"], "csrf_token": token})
    refused = client.post(f"/admin/users/{ids['admin@example.test']}/roles",
                          data={"roles": ["viewer"], "csrf_token": token}, follow_redirects=True)
    assert "this is the last admin" in refused.get_data(as_text=True)
    unknown = client.post(f"/admin/users/{ids['v@example.test']}/roles",
                          data={"roles": ["wizard"], "csrf_token": token}, follow_redirects=True)
    assert "unknown role(s) wizard" in unknown.get_data(as_text=True)
    with app.extensions["vectis.db"].session() as s:
        roles = sorted((r.user_id, r.role_name) for r in s.exec(select(UserRole)))
    assert roles == sorted([(ids["admin@example.test"], "admin"), (ids["v@example.test"], "merchandiser")])


def test_a_role_change_takes_effect_on_the_next_request(app, client):
    publish(app, SALE)
    token = sign_in(app, client, "merchandiser")
    from runtime.auth.models import UserRole
    from sqlalchemy import update

    app.extensions["vectis.db"].run(lambda s: s.exec(update(UserRole).values(role_name="viewer")))
    form = {"source": CHEAP, "note": "x", "action": "publish", "base_revision": "1", "csrf_token": token}
    assert client.post("/admin/definitions/label/sale", data=form).status_code == 403
