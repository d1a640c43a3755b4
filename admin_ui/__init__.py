"""The merchandiser's workbench: a Flask blueprint at ``/admin`` with server-rendered pages.

Sign-in uses the runtime's users and a signed session cookie (httpOnly, SameSite=Lax, limited to
``/admin``); every POST carries the session's CSRF token; permissions are the runtime's
(``definitions.read`` to look, ``definitions.publish`` to publish, ``users.manage`` for users),
checked on the server whatever the page shows.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")

#: How long a sign-in lasts without a new one.
SESSION_LIFETIME = timedelta(hours=12)


def init_app(app: Flask) -> None:
    from admin_ui import approvals, definitions, refund_approvals, security, users  # noqa: F401  (routes register on import)

    settings = app.config["VECTIS"]
    app.config.update(
        SESSION_COOKIE_NAME="vectis_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/admin",
        SESSION_COOKIE_SECURE=settings.admin_cookie_secure,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.register_blueprint(bp)
