"""The secrets a pack's gateway signs its webhooks with, stored sealed with the master key.

Adding a secret rotates: the pack's secrets active until then stay accepted for an overlap window
(they get ``expires_at``), so the gateway can switch to the new one at its own pace; an overlap of
0 retires them at once. Every active secret is tried when a webhook is verified.
"""
from __future__ import annotations

import base64
import binascii
from datetime import timedelta

from sqlmodel import Session, or_, select

from runtime.clock import utcnow
from runtime.errors import ConfigError
from runtime.security.secrets import SecretBox
from runtime.webhooks.incoming_models import IncomingWebhookSecret
from runtime.webhooks.signing import PREFIX, generate_secret
from runtime.webhooks.subscriptions import MAX_OVERLAP_SECONDS

#: How long the previous secrets stay accepted after a new one is added, unless told otherwise.
DEFAULT_OVERLAP_SECONDS = 24 * 3600


def check_secret(secret: str) -> str:
    """A Standard Webhooks secret: ``whsec_`` and base64 of 24 to 64 bytes (the spec's range)."""
    secret = (secret or "").strip()
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not secret.startswith(PREFIX) or not 24 <= len(key) <= 64:
        # Never echo the value: it is (a mistyped) secret.
        raise ConfigError(f"secret: expected {PREFIX} followed by base64 of 24 to 64 bytes, as the gateway shows it")
    return secret


def add_secret(session: Session, box: SecretBox, pack: str, *, secret: str | None = None,
               overlap_seconds: int = DEFAULT_OVERLAP_SECONDS, by: str = "") -> tuple[IncomingWebhookSecret, str]:
    """Store ``secret`` (or a new one) for ``pack``; the pack's other active secrets expire after
    ``overlap_seconds``. Returns the row and the secret (shown once)."""
    if not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        raise ConfigError(f"--overlap: expected 0 to {MAX_OVERLAP_SECONDS} seconds, got {overlap_seconds}")
    secret = check_secret(secret) if secret is not None else generate_secret()
    now = utcnow()
    until = now + timedelta(seconds=overlap_seconds)
    for row in _active(session, pack, now, lock=True):
        row.expires_at = min(row.expires_at, until) if row.expires_at is not None else until
        session.add(row)
    added = IncomingWebhookSecret(pack=pack, secret={"value": box.seal(secret)}, created_at=now, created_by=by[:320])
    session.add(added)
    session.flush()
    return added, secret


def retire_secret(session: Session, pack: str, secret_id: int) -> IncomingWebhookSecret:
    """Stop accepting one secret now (it leaked)."""
    row = session.get(IncomingWebhookSecret, secret_id, with_for_update=True)
    if row is None or row.pack != pack:
        raise ConfigError(f"SECRET_ID: pack {pack!r} has no webhook secret {secret_id}")
    row.expires_at = utcnow()
    session.add(row)
    return row


def list_secrets(session: Session, pack: str) -> list[IncomingWebhookSecret]:
    return list(session.exec(select(IncomingWebhookSecret).where(IncomingWebhookSecret.pack == pack)
                             .order_by(IncomingWebhookSecret.id)))


def active_secrets(session: Session, box: SecretBox, pack: str) -> list[str]:
    """The secrets a webhook of ``pack`` may be signed with now, newest first."""
    rows = sorted(_active(session, pack, utcnow()), key=lambda row: row.id, reverse=True)
    return [box.open(row.secret["value"], f"incoming_webhook_secret {row.id} secret.value") for row in rows]


def _active(session: Session, pack: str, now, *, lock: bool = False) -> list[IncomingWebhookSecret]:
    query = select(IncomingWebhookSecret).where(
        IncomingWebhookSecret.pack == pack,
        or_(IncomingWebhookSecret.expires_at.is_(None), IncomingWebhookSecret.expires_at > now))
    return list(session.exec(query.with_for_update() if lock else query))
