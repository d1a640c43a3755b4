"""Secrets at rest: Fernet under ``VECTIS_SECRETS_MASTER_KEY``, older keys readable during a
rotation through ``VECTIS_SECRETS_MASTER_KEY_ROTATING_FROM`` (MultiFernet).

A secret is stored inside a JSON column as ``{"$secret": "<Fernet token>"}``. Which fields of a
provider's configuration are secrets is data: the top-level properties its ``config_schema``
marks ``"writeOnly": true`` (JSON Schema's own word for a value that is written, never read back).
"""
from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from runtime.errors import ConfigError

PRIMARY_ENV = "VECTIS_SECRETS_MASTER_KEY"
ROTATING_ENV = "VECTIS_SECRETS_MASTER_KEY_ROTATING_FROM"
#: The key of the one-entry object holding a sealed value.
SEALED = "$secret"


class SecretUnreadable(ConfigError):
    """A stored secret none of the configured keys opens: the operator's to fix, one line."""


def _fernet(env: str, key: str) -> Fernet:
    try:
        return Fernet(key.strip().encode())
    except (ValueError, TypeError):
        # Never echo the value: it is (a mistyped) key.
        raise ConfigError(f"{env}: not a Fernet key (32 bytes in URL-safe base64, 44 characters; "
                          f"make one with `vectis secrets generate-key`)") from None


class SecretBox:
    """Seals with the primary key; opens with the primary key or any of the rotating ones."""

    def __init__(self, primary: str, rotating_from: tuple[str, ...] = ()):
        if not primary.strip():
            raise ConfigError(f"{PRIMARY_ENV}: not set")
        self._primary = _fernet(PRIMARY_ENV, primary)
        self._all = MultiFernet([self._primary, *(_fernet(ROTATING_ENV, k) for k in rotating_from)])

    def seal(self, plaintext: str) -> dict[str, str]:
        return {SEALED: self._primary.encrypt(plaintext.encode()).decode()}

    def open(self, sealed: dict[str, str], where: str = "a stored secret") -> str:
        try:
            return self._all.decrypt(sealed[SEALED].encode()).decode()
        except (InvalidToken, ValueError, TypeError):
            raise SecretUnreadable(
                f"{PRIMARY_ENV}: {where} cannot be decrypted with this key"
                f" (wrong key? during a rotation put the old key in {ROTATING_ENV})") from None

    def is_current(self, sealed: dict[str, str]) -> bool:
        """Sealed under the primary key (a rotation leaves it alone)."""
        try:
            self._primary.decrypt(sealed[SEALED].encode())
            return True
        except (InvalidToken, ValueError, TypeError):
            return False

    def reseal(self, sealed: dict[str, str], where: str = "a stored secret") -> dict[str, str]:
        """The same secret under the primary key."""
        self.open(sealed, where)  # the readable error, not InvalidToken
        return {SEALED: self._all.rotate(sealed[SEALED].encode()).decode()}


def box_from_settings(settings) -> SecretBox:
    rotating = tuple(k for k in settings.secrets_master_key_rotating_from.split(",") if k.strip())
    return SecretBox(settings.secrets_master_key, rotating)


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SEALED} and isinstance(value[SEALED], str)


def secret_fields(schema: dict[str, Any] | None) -> frozenset[str]:
    """The configuration fields a JSON Schema marks ``writeOnly``."""
    properties = (schema or {}).get("properties") or {}
    return frozenset(name for name, spec in properties.items() if isinstance(spec, dict) and spec.get("writeOnly") is True)


def seal_config(box: SecretBox, schema: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with its secret fields sealed (an already sealed value, sent back unchanged, is kept)."""
    fields = secret_fields(schema)
    return {name: box.seal(value) if name in fields and isinstance(value, str) else value
            for name, value in config.items()}


def open_config(box: SecretBox, config: dict[str, Any], where: str = "config") -> dict[str, Any]:
    """``config`` with every sealed value opened, for the provider that uses it."""
    return {name: box.open(value, f"{where}.{name}") if is_sealed(value) else value for name, value in config.items()}
