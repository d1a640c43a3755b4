"""Sign-in, the CSRF token and permission checks of the admin pages (one place for all of them)."""
from __future__ import annotations

import functools
import hmac
import secrets

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from sqlmodel import select

from admin_ui import bp
from runtime.auth.models import User
from runtime.auth.permissions import ANONYMOUS, Actor
from runtime.auth.service import AuthErrorCode, actor_for
from runtime.errors import BusinessError
from werkzeug.security import check_password_hash, generate_password_hash

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
#: Checked against when the e-mail is unknown, so timing does not tell which e-mails exist.
_NO_USER_HASH = generate_password_hash("not-a-password")


def database():
    return current_app.extensions["vectis.db"]


def csrf_token() -> str:
    """The session's token, made on first use; every form renders it as a hidden field."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


@bp.app_context_processor
def _template_globals():
    return {"csrf_token": csrf_token, "actor": g.get("admin_actor", ANONYMOUS)}


@bp.before_request
def _load_actor_and_check_csrf():
    g.admin_actor = ANONYMOUS
    user_id = session.get("user_id")
    if user_id is not None:
        with database().session() as s:
            # Read on every request: a disabled user or a changed role takes effect at once.
            g.admin_actor = actor_for(s, user_id) or ANONYMOUS
        if not g.admin_actor.authenticated:
            session.pop("user_id", None)
    if request.method == "POST":
        sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        expected = session.get(CSRF_FIELD)
        if not expected or not hmac.compare_digest(sent, expected):
            abort(400, description="the form's CSRF token is missing or does not match this session; reload the page")


def actor() -> Actor:
    return g.admin_actor


def requires(permission: str):
    """A view for actors holding ``permission``: anonymous → sign-in page, others → 403."""
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            who = actor()
            if not who.authenticated:
                if request.method == "GET":
                    return redirect(url_for("admin.login_page", next=request.full_path))
                abort(401)
            if not who.has(permission):
                abort(403, description=f"permission {permission!r} is required")
            return view(*args, **kwargs)
        return wrapped
    return decorate


@bp.app_errorhandler(400)
@bp.app_errorhandler(401)
@bp.app_errorhandler(403)
def _refused(error):
    if not request.path.startswith("/admin"):
        return error
    return render_template("admin/error.html", error=error), error.code


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("admin.index")


@bp.get("/login")
def login_page():
    csrf_token()
    return render_template("admin/login.html", next=request.args.get("next", ""), email="")


def authenticate(s, email: str, password: str) -> int:
    """The user id for these credentials (the same checks as the GraphQL ``login``, without
    issuing tokens: the admin keeps only the user id in its signed cookie)."""
    user = s.exec(select(User).where(User.email == email.strip().lower())).first()
    if not check_password_hash(user.password_hash if user else _NO_USER_HASH, password) or user is None \
            or not user.is_active or actor_for(s, user.id) is None:
        raise BusinessError(AuthErrorCode.INVALID_CREDENTIALS, "email or password is wrong")
    return user.id


@bp.post("/login")
def login_submit():
    email = request.form.get("email", "")
    with database().session() as s:
        try:
            user_id = authenticate(s, email, request.form.get("password", ""))
        except BusinessError as exc:
            return render_template("admin/login.html", error=exc.message, email=email,
                                   next=request.form.get("next", "")), 401
    session.clear()  # a new session (and CSRF token) at sign-in: no fixation
    session.permanent = True
    session["user_id"] = user_id
    csrf_token()
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    session.clear()
    flash("Signed out.")
    return redirect(url_for("admin.login_page"))


@bp.get("/")
@requires("definitions.read")
def index():
    return redirect(url_for("admin.definitions_index"))
