"""Bearer tokens: short-lived JWT access tokens and single-use refresh tokens."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from runtime.clock import utcnow
from runtime.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "vectis"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    refresh_jti: str


def _encode(secret: str, user_id: int, kind: str, jti: str, expires_at: datetime) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "typ": kind, "jti": jti, "iss": ISSUER, "iat": now, "exp": expires_at}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def issue_pair(secret: str, user_id: int, access_ttl: int, refresh_ttl: int) -> TokenPair:
    now = utcnow()
    jti = secrets.token_hex(16)
    access_exp, refresh_exp = now + timedelta(seconds=access_ttl), now + timedelta(seconds=refresh_ttl)
    return TokenPair(
        access_token=_encode(secret, user_id, "access", secrets.token_hex(16), access_exp),
        refresh_token=_encode(secret, user_id, "refresh", jti, refresh_exp),
        access_expires_at=access_exp,
        refresh_expires_at=refresh_exp,
        refresh_jti=jti,
    )


def decode(secret: str, token: str, kind: str) -> dict:
    """Verify signature, expiry (against the runtime clock) and type; raise Unauthenticated otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["sub", "typ", "exp", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from None
    if claims["typ"] != kind:
        raise Unauthenticated(f"invalid token: expected a {kind} token")
    if claims["exp"] <= utcnow().timestamp():
        raise Unauthenticated("token expired")
    return claims
