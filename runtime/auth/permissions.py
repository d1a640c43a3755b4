"""Permissions, checked in one place: :func:`require`."""
from __future__ import annotations

from dataclasses import dataclass, field

from runtime.errors import Forbidden, Unauthenticated

#: Every permission the core knows. Packs and later domains add theirs to this set.
PERMISSIONS: dict[str, str] = {
    "definitions.read": "Read definitions, their history and validation results.",
    "definitions.publish": "Publish and roll back definitions.",
    "users.manage": "Create users and assign roles.",
    "channels.manage": "Create and update channels and set exchange rates.",
    "orders.ship": "Mark orders shipped (the `ship` transition of the order machine).",
    "orders.cancel": "Cancel placed orders (the `cancel` transition of the order machine).",
    "payments.capture": "Capture authorised payments (the `capture` transitions of payment_transaction).",
    "payments.void": "Void authorised payments (the `void` transition of payment_transaction).",
    "payments.refund": "Refund captured payments (the `refund` transitions of payment_transaction).",
    "refunds.approve": "Approve, reject and retry refund requests (the refund_request machine).",
}


@dataclass(frozen=True)
class Actor:
    """Who is calling: a signed-in user, or anonymous (``user_id`` None)."""

    user_id: int | None = None
    email: str = ""
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def label(self) -> str:
        """How the actor is recorded in history rows (author, actor)."""
        return self.email or "anonymous"

    def has(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions


ANONYMOUS = Actor()


def require(actor: Actor, permission: str) -> None:
    """Raise :class:`Unauthenticated` or :class:`Forbidden` unless ``actor`` holds ``permission``."""
    if permission not in PERMISSIONS:
        raise ValueError(f"permission: unknown permission {permission!r}")
    if not actor.authenticated:
        raise Unauthenticated("sign in first: this operation needs a bearer token")
    if not actor.has(permission):
        raise Forbidden(f"permission {permission!r} is required")
