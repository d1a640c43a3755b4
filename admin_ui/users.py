"""The users page (``users.manage``, admins only): every staff and buyer login with its roles,
and changing a user's roles."""
from __future__ import annotations

from enum import Enum

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import delete
from sqlmodel import Session, select

from admin_ui import bp
from admin_ui.security import actor, database, requires
from runtime.auth.models import Role, User, UserRole
from runtime.errors import BusinessError

MANAGE = "users.manage"


class UserErrorCode(str, Enum):
    UNKNOWN_ROLE = "UNKNOWN_ROLE"
    NOT_FOUND = "NOT_FOUND"
    LAST_ADMIN = "LAST_ADMIN"


def users_with_roles(session: Session) -> list[tuple[User, list[str]]]:
    roles: dict[int, list[str]] = {}
    for user_id, role in session.exec(select(UserRole.user_id, UserRole.role_name).order_by(UserRole.role_name)):
        roles.setdefault(user_id, []).append(role)
    return [(user, roles.get(user.id, [])) for user in session.exec(select(User).order_by(User.email))]


def set_roles(session: Session, user_id: int, roles: list[str]) -> None:
    """Replace a user's roles. Refuses unknown roles, and taking ``admin`` from the last admin
    (the admin rows are locked, so two admins demoting each other cannot both succeed)."""
    if session.get(User, user_id) is None:
        raise BusinessError(UserErrorCode.NOT_FOUND, f"user: no user {user_id}", field="user")
    known = set(session.exec(select(Role.name)))
    unknown = sorted(set(roles) - known)
    if unknown:
        raise BusinessError(UserErrorCode.UNKNOWN_ROLE, f"roles: unknown role(s) {', '.join(unknown)}", field="roles")
    admins = set(session.exec(select(UserRole.user_id).where(UserRole.role_name == "admin").with_for_update()))
    if user_id in admins and "admin" not in roles and admins == {user_id}:
        raise BusinessError(UserErrorCode.LAST_ADMIN, "roles: this is the last admin; make another admin first",
                            field="roles")
    session.exec(delete(UserRole).where(UserRole.user_id == user_id))
    for role in sorted(set(roles)):
        session.add(UserRole(user_id=user_id, role_name=role))
    session.flush()


@bp.get("/users")
@requires(MANAGE)
def users_page():
    with database().session() as s:
        rows = users_with_roles(s)
        roles = list(s.exec(select(Role).order_by(Role.name)))
    return render_template("admin/users.html", rows=rows, roles=roles)


@bp.post("/users/<int:user_id>/roles")
@requires(MANAGE)
def change_roles(user_id: int):
    wanted = request.form.getlist("roles")
    try:
        database().run(lambda s: set_roles(s, user_id, wanted))
    except BusinessError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Roles saved by {actor().label}.")
    return redirect(url_for("admin.users_page"))
