"""Users, roles and sign-in. Password hashes use Werkzeug's scrypt (Flask's own dependency)."""
from __future__ import annotations

import functools
from enum import Enum
from pathlib import Path

import yaml
from sqlalchemy import bindparam
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from runtime.auth.models import RefreshToken, Role, User, UserRole
from runtime.auth.permissions import PERMISSIONS, Actor
from runtime.auth.tokens import TokenPair, decode, issue_pair
from runtime.clock import utcnow
from runtime.config import Settings
from runtime.errors import BusinessError, Unauthenticated

ROLES_FILE = Path(__file__).with_name("roles.yaml")
MIN_PASSWORD_LENGTH = 10


class AuthErrorCode(str, Enum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    UNKNOWN_ROLE = "UNKNOWN_ROLE"


def role_names(path: Path = ROLES_FILE) -> list[str]:
    """The roles ``roles.yaml`` declares (what an approval route may name)."""
    return list(yaml.safe_load(path.read_text()))


def seed_roles(session: Session, path: Path = ROLES_FILE) -> list[str]:
    """Create or update the roles declared in ``roles.yaml``; returns their names."""
    declared = yaml.safe_load(path.read_text())
    for name, spec in declared.items():
        unknown = [p for p in spec["permissions"] if p != "*" and p not in PERMISSIONS]
        if unknown:
            raise ValueError(f"{path}: role {name}: unknown permissions {unknown}")
        role = session.get(Role, name) or Role(name=name)
        role.description = spec.get("description", "")
        role.permissions = list(spec["permissions"])
        session.add(role)
    session.flush()
    return list(declared)


def create_user(session: Session, email: str, password: str, roles: list[str], display_name: str = "") -> User:
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BusinessError(
            AuthErrorCode.PASSWORD_TOO_SHORT,
            f"password: use at least {MIN_PASSWORD_LENGTH} characters",
            field="password",
        )
    if session.exec(select(User).where(User.email == email)).first():
        raise BusinessError(AuthErrorCode.EMAIL_TAKEN, f"email: {email} already has an account", field="email")
    for role in roles:
        if session.get(Role, role) is None:
            raise BusinessError(AuthErrorCode.UNKNOWN_ROLE, f"roles: unknown role {role!r}", field="roles")
    user = User(email=email, display_name=display_name, password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    for role in roles:
        session.add(UserRole(user_id=user.id, role_name=role))
    session.flush()
    return user


@functools.cache
def _actor_statement():
    """Built once: every authenticated request runs it, and building a five-join select costs
    more than running it."""
    from runtime.accounts.models import Account, Customer, Employee  # accounts builds on auth

    return (
        select(User.email, User.is_active, Role.name, Role.permissions,
               Customer.id, Customer.customer_group_id,
               Employee.id, Employee.account_id, Employee.location_id, Employee.is_active,
               Account.customer_group_id, Account.is_active)
        .select_from(User)
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .outerjoin(Role, Role.name == UserRole.role_name)
        .outerjoin(Customer, Customer.user_id == User.id)
        .outerjoin(Employee, Employee.user_id == User.id)
        .outerjoin(Account, Account.id == Employee.account_id)
        .where(User.id == bindparam("user_id"))
    )


def actor_for(session: Session, user_id: int) -> Actor | None:
    """The actor of a user, in one statement: the user, its roles, and its buyer identity.

    ``None`` when the user is unknown or disabled, or is an employee whose employee row or
    account is disabled (such an employee cannot act at all, not even as staff).
    """
    rows = session.execute(_actor_statement(), {"user_id": user_id}).all()
    if not rows or not rows[0][1]:
        return None
    (email, _active, _role, _perms, customer_id, customer_group, employee_id, account_id, location_id,
     employee_active, account_group, account_active) = rows[0]
    if employee_id is not None and not (employee_active and account_active):
        return None
    roles = frozenset(r[2] for r in rows if r[2] is not None)
    permissions = frozenset(p for r in rows if r[3] for p in r[3])
    return Actor(
        user_id, email, roles, permissions,
        customer_id=customer_id, employee_id=employee_id, account_id=account_id, location_id=location_id,
        customer_group_id=account_group if employee_id is not None else customer_group,
    )


def _issue(session: Session, settings: Settings, user_id: int) -> TokenPair:
    pair = issue_pair(settings.secret_key, user_id, settings.access_token_ttl, settings.refresh_token_ttl)
    session.add(RefreshToken(jti=pair.refresh_jti, user_id=user_id, expires_at=pair.refresh_expires_at))
    return pair


def login(session: Session, settings: Settings, email: str, password: str) -> TokenPair:
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    # Hash even when the user is unknown, so timing does not reveal which emails exist.
    stored = user.password_hash if user else generate_password_hash("not-a-password")
    if not check_password_hash(stored, password) or user is None or not user.is_active:
        raise BusinessError(AuthErrorCode.INVALID_CREDENTIALS, "email or password is wrong")
    if actor_for(session, user.id) is None:  # a disabled employee or B2B account
        raise BusinessError(AuthErrorCode.INVALID_CREDENTIALS, "email: the account is disabled", field="email")
    return _issue(session, settings, user.id)


def refresh(session: Session, settings: Settings, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the old refresh token can never be used again."""
    try:
        claims = decode(settings.secret_key, refresh_token, "refresh")
    except Unauthenticated as exc:
        raise BusinessError(AuthErrorCode.INVALID_TOKEN, f"refreshToken: {exc}", field="refreshToken") from None
    row = session.exec(select(RefreshToken).where(RefreshToken.jti == claims["jti"]).with_for_update()).first()
    if row is None or row.revoked_at is not None:
        raise BusinessError(AuthErrorCode.INVALID_TOKEN, "refreshToken: already used or revoked", field="refreshToken")
    row.revoked_at = utcnow()
    session.add(row)
    if actor_for(session, row.user_id) is None:
        raise BusinessError(AuthErrorCode.INVALID_TOKEN, "refreshToken: the account is disabled", field="refreshToken")
    return _issue(session, settings, row.user_id)


def authenticate_bearer(session: Session, settings: Settings, token: str) -> Actor:
    claims = decode(settings.secret_key, token, "access")
    actor = actor_for(session, int(claims["sub"]))
    if actor is None:
        raise Unauthenticated("invalid token: the user no longer exists or the account is disabled")
    return actor
