"""Standard Webhooks signatures (https://www.standardwebhooks.com/): the secret is
``whsec_<base64 key>``; the signature is ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``;
several space-separated signatures are sent while a rotated secret overlaps."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "whsec_"
#: Bytes of a generated key (the spec asks for 24 to 64).
KEY_BYTES = 32
#: Seconds a receiver accepts between the ``webhook-timestamp`` and its clock.
TOLERANCE_SECONDS = 300


class SignatureInvalid(ValueError):
    """The signature, timestamp or headers of a webhook do not verify; the message says which."""


def generate_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets_)


def verify(secrets_: Iterable[str], headers, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> str:
    """The ``webhook-id`` of a webhook any of ``secrets_`` signed within ``tolerance`` seconds of
    ``now``, else :class:`SignatureInvalid`."""
    msg_id, stamp, header = (headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not msg_id or not stamp or not header:
        raise SignatureInvalid("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureInvalid("webhook-timestamp: not an integer") from None
    if abs(now - timestamp) > tolerance:
        raise SignatureInvalid(f"webhook-timestamp: more than {tolerance} seconds from now")
    sent = [part.partition(",")[2] for part in header.split() if part.startswith("v1,")]
    for secret in secrets_:
        expected = sign(secret, msg_id, timestamp, body).partition(",")[2]
        if any(hmac.compare_digest(expected, candidate) for candidate in sent):
            return msg_id
    raise SignatureInvalid("webhook-signature: no signature matches")
