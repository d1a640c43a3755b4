"""API keys for machine callers (an ERP pushing stock): ``vk_<prefix>_<secret>``.

Only the SHA-256 of the key is stored — a key carries 256 random bits, so a fast hash is as good
as a slow one here — and the key is shown once, at creation. The prefix finds the row; the hash
is compared in constant time. A key acts with exactly its scopes (permissions its creator held).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from runtime.accounts.errors import AccountErrorCode as Code
from runtime.accounts.models import ApiKey
from runtime.accounts.ownership import not_found
from runtime.auth.permissions import PERMISSIONS, Actor
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors, Unauthenticated

KEY_PREFIX = "vk"
NAME_MAX = 200
#: ``last_used_at`` is written at most this often per key: one UPDATE a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, actor: Actor, name: str, scopes: list[str],
                   expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key and its plaintext (shown once). Every scope must be a permission ``actor`` holds."""
    problems = []
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        problems.append(BusinessError(Code.INVALID_NAME, f"name: expected 1 to {NAME_MAX} characters", field="name"))
    if not scopes:
        problems.append(BusinessError(Code.INVALID_SCOPE, "scopes: list at least one permission", field="scopes"))
    for i, scope in enumerate(scopes):
        if scope not in PERMISSIONS:
            problems.append(BusinessError(Code.INVALID_SCOPE, f"scopes.{i}: unknown permission {scope!r}", field=f"scopes.{i}"))
        elif not actor.has(scope):
            problems.append(BusinessError(Code.INVALID_SCOPE, f"scopes.{i}: you do not hold {scope!r}", field=f"scopes.{i}"))
    if expires_at is not None and expires_at <= utcnow():
        problems.append(BusinessError(Code.INVALID_EXPIRY, "expiresAt: must be in the future", field="expiresAt"))
    if problems:
        raise BusinessErrors(problems)
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(prefix=prefix, key_hash=_hash(key), name=name, scopes=list(dict.fromkeys(scopes)),
                 created_by=actor.label, created_at=utcnow(), expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, key


def revoke_api_key(session: Session, key_id: int | str) -> ApiKey:
    """Revoke a key (revoking a revoked key keeps its first revocation time)."""
    try:
        row = session.get(ApiKey, int(key_id))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise not_found("API key", "id", key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
    return row


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(ApiKey.id)).all())


def authenticate_api_key(session: Session, key: str) -> Actor:
    """The actor of a valid key; :class:`Unauthenticated` for unknown, revoked or expired keys.

    Writes ``last_used_at`` when it is a minute old or more (the caller commits).
    """
    scheme, _, rest = key.strip().partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_PREFIX or not prefix or not secret:
        raise Unauthenticated("X-Api-Key: expected 'vk_<prefix>_<secret>'")
    row = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if row is None or not hmac.compare_digest(row.key_hash, _hash(key.strip())):
        raise Unauthenticated("X-Api-Key: unknown API key")
    now = utcnow()
    if row.revoked_at is not None:
        raise Unauthenticated("X-Api-Key: the API key is revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("X-Api-Key: the API key expired")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        stale = now - LAST_USED_RESOLUTION
        session.execute(update(ApiKey).where(ApiKey.id == row.id)
                        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= stale))
                        .values(last_used_at=now))
    return Actor(email=f"api-key:{row.name}", permissions=frozenset(row.scopes), api_key_id=row.id)
