"""The runtime's one error convention.

* :class:`ConfigError` — a setting that cannot be used; shown as one line at start-up.
* :class:`BusinessError` — a run-time refusal returned to the caller as data
  (``errors { code field message }`` in a GraphQL payload). ``code`` is a member of a
  domain's ``…ErrorCode`` enum.
* :class:`RequestError` — the request as a whole cannot be served (who calls, which channel),
  surfaced as a top-level GraphQL error with ``extensions.code``; :class:`AuthError` and its
  subclasses are the authentication and permission failures among them.

Author errors in definitions are the rules engine's (:class:`rules.errors.AuthorError`).
"""
from __future__ import annotations

from enum import Enum
from typing import Any


class VectisError(Exception):
    """Base of every error the runtime raises on purpose."""


class ConfigError(VectisError):
    """A setting is missing, malformed or unreachable. The message is one line for the operator."""


class BusinessError(VectisError):
    """A refusal the caller can act on. Carried to clients as payload data, never as a 500."""

    def __init__(self, code: Enum | str, message: str, *, field: str | None = None, **params: Any):
        super().__init__(message)
        self.code = code.value if isinstance(code, Enum) else code
        self.message = message
        self.field = field
        self.params = params

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "message": self.message, **self.params}


class BusinessErrors(VectisError):
    """Several refusals found together (validators collect every problem before answering)."""

    def __init__(self, errors: list[BusinessError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class RequestError(VectisError):
    code = "BAD_REQUEST"


class AuthError(RequestError):
    code = "UNAUTHENTICATED"


class Unauthenticated(AuthError):
    code = "UNAUTHENTICATED"


class Forbidden(AuthError):
    code = "FORBIDDEN"
