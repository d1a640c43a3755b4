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
    "orders.modify": "Change the lines of any authorised, uncaptured order (modifyOrder); buyers may change their own where the channel lets them.",
    "payments.capture": "Capture authorised payments (the `capture` transitions of payment_transaction).",
    "payments.void": "Void authorised payments (the `void` transition of payment_transaction).",
    "payments.refund": "Refund captured payments (the `refund` transitions of payment_transaction).",
    "payments.tenders.manage": "Issue store credit, set accounts' net terms and generate gift cards.",
    "payments.tenders.recurate": "Replace the failed, voided or expired tenders of an order (recurateCascade).",
    "orders.review_fraud": "Release or reject orders held for a gateway's fraud review.",
    "approvals.decide": "Approve or reject carts as an approver an approval route names (own account only, or staff).",
    "approvals.alerts": "Read approval alerts (a tier that can no longer reach its quorum): a B2B account admin its own account's, staff every account's.",
    "refunds.approve": "Approve, reject and retry refund requests (the refund_request machine).",
    "refunds.request": "Submit refund requests for any order (submitRefundForApproval); buyers may for their own.",
    "catalog.manage": "Create and change categories, brands, attributes, products, variants and visibility.",
    "pricing.manage": "Create and change price lists and their entries.",
    "accounts.manage": "Create and change B2B accounts, locations, employees and customer groups.",
    "customers.read": "Read every customer, account and their addresses.",
    "orders.read": "Read every order (staff), not only one's own.",
    "orders.create": "Create orders for a buyer (adminCreateOrder).",
    "orders.place": "Place orders from one's own carts (a B2B employee needs it; a guest's cart token is enough).",
    "api_keys.manage": "Create and revoke API keys.",
    "inventory.read": "Read warehouses, stock levels and reservations.",
    "inventory.manage": "Manage warehouses, stock, tracking and backorder policies; clear a product's reservations.",
    "stock.push": "Push stock levels from an external system (an ERP's API key scope: pushExternalStock).",
    "promotions.read": "Read promotion explains, stale promotions and coupon codes (staff).",
    "promotions.manage": "Generate and export promotion coupon codes.",
    "audit.read": "Read the audit log of staff and API-key mutations.",
    "webhooks.manage": "Create, rotate and deactivate webhook subscriptions and read their delivery log.",
}


@dataclass(frozen=True)
class Actor:
    """Who is calling: a signed-in user, an API key, or anonymous (``user_id`` None).

    A buyer carries the ids that select prices and own objects: a B2C customer its
    ``customer_id`` (and group), a B2B employee its ``employee_id``, ``account_id`` and
    ``location_id`` (and the account's group). Staff have none of them.
    """

    user_id: int | None = None
    email: str = ""
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = field(default_factory=frozenset)
    customer_id: int | None = None
    employee_id: int | None = None
    account_id: int | None = None
    location_id: int | None = None
    customer_group_id: int | None = None
    #: Set when the caller authenticated with an API key (its id); ``user_id`` is then None.
    api_key_id: int | None = None

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None or self.api_key_id is not None

    @property
    def is_buyer(self) -> bool:
        return self.customer_id is not None or self.employee_id is not None

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
