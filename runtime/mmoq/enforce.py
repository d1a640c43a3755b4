"""Enforcement: a cart's lines against the caps in force, cart-aggregate (every line of a variant,
any package, in base units). Used by the cart check (add-to-cart), the checkout stage
(placeOrder) and ``cartBulkLookup``; a violation is data (:class:`ViolationDetail`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from flask import Flask
from rules.mmoq_limits import (ABOVE_30D_MAX, ABOVE_BACKORDER_MAX, ABOVE_MAX, BELOW_MIN, NOT_INCREMENT, Resolved,
                               Violation, violations)
from sqlmodel import Session

from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.mmoq import window
from runtime.mmoq.caps import fallback, live_caps, resolve_caps
from runtime.mmoq.facts import Customer

_SAY = {
    BELOW_MIN: "at least {limit} units per order, {requested} requested",
    NOT_INCREMENT: "only in multiples of {limit} units, {requested} requested (nearest allowed: {allowed})",
    ABOVE_MAX: "at most {limit} units per order, {requested} requested",
    ABOVE_30D_MAX: "at most {limit} units per customer in 30 days, {requested} requested, {allowed} left",
    ABOVE_BACKORDER_MAX: "at most {limit} units on backorder, {requested} requested, {allowed} can be ordered",
}


@dataclass(frozen=True)
class ViolationDetail:
    """``MmoqViolationDetail``: one limit one variant breaks, in base units, and who set it."""

    code: str
    variant_id: int
    sku: str
    limit_name: str
    limit: int
    requested: int
    allowed: int
    window: str | None
    #: The display unit (a package slug) the limits are shown in, None for base units.
    unit: str | None
    #: The ``mmoq_cap`` definition and revision that set the limit; None: the variant's own field.
    definition: str | None
    revision: int | None

    @classmethod
    def of(cls, violation: Violation, variant_id: int, sku: str, resolved: Resolved) -> ViolationDetail:
        return cls(violation.code, variant_id, sku, violation.name, violation.limit, violation.requested,
                   violation.allowed, violation.window, resolved.display_unit, violation.source.definition,
                   violation.source.revision)

    @property
    def message(self) -> str:
        said = _SAY[self.code].format(limit=self.limit, requested=self.requested, allowed=self.allowed)
        who = (f"mmoq_cap {self.definition} revision {self.revision}" if self.definition
               else "the variant's own limit")
        return f"{self.sku!r}: {said} ({who})"

    def error(self, field: str) -> BusinessError:
        """A refusal carrying this detail as its ``mmoq`` parameter (the payloads' ``violations``)."""
        return BusinessError(self.code, f"{field}: {self.message}", field=field, mmoq=asdict(self))


def refuse(details: list[ViolationDetail], field: str) -> None:
    if details:
        raise BusinessErrors([detail.error(field) for detail in details])


def anything_to_check(app: Flask, variants: dict[int, tuple], base: dict[int, int]) -> bool:
    """False when no cap is live and none of these variants has a limit of its own: then there is
    nothing to enforce, and the buyer need not be looked up (most stores, most carts)."""
    if live_caps(app).caps:
        return True
    return any(value is not None for variant_id in base for value in fallback(variants[variant_id][0]).values())


def check(app: Flask, session: Session, customer: Customer, variants: dict[int, tuple], base: dict[int, int], *,
          cart_id: int | None = None, lock: bool = False) -> list[ViolationDetail]:
    """Violations of ``base`` (``variant_id → base units``) for ``customer``; ``lock`` holds the
    customer's row first (placeOrder) so that concurrent orders count each other in the window."""
    if not base:
        return []
    resolved = resolve_caps(app, {variant_id: variants[variant_id] for variant_id in base}, customer)
    in_window = [v for v in base if resolved[v].value("max_per_customer_30d") is not None]
    ordered: dict[int, int] = {}
    if in_window:
        if lock:
            window.lock_customer(session, customer)
        ordered = window.ordered(session, customer, in_window, window.window_start(utcnow(), customer.time_zone))
    capped = [v for v in base if resolved[v].value("max_backorder_qty") is not None]
    available = _available(session, capped, cart_id) if capped else {}
    found = []
    for variant_id, quantity in base.items():
        for violation in violations(resolved[variant_id], quantity, ordered_30d=ordered.get(variant_id, 0),
                                    available=available.get(variant_id)):
            found.append(ViolationDetail.of(violation, variant_id, variants[variant_id][0].sku, resolved[variant_id]))
    return found


def _available(session: Session, variant_ids: list[int], cart_id: int | None) -> dict[int, int]:
    """Stock this cart may still order of each tracked variant: available plus its own holds."""
    from runtime.inventory.holds import held_for_cart
    from runtime.inventory.levels import available_by_variant

    available = available_by_variant(session, variant_ids)
    if cart_id is not None:
        for hold in held_for_cart(session, cart_id):
            if hold.variant_id in available:
                available[hold.variant_id] += hold.quantity
    return available
