"""Cart checks: registered steps that run inside every cart mutation that changes lines.

A check is ``CartCheck(name, position, run)``; ``run(change)`` sees the cart (locked), all its
lines after the change, and who made it, inside the mutation's transaction. It refuses by raising
a :class:`~runtime.errors.BusinessError` (or ``BusinessErrors``), which rolls the mutation back
(a code outside ``CheckoutErrorCode`` is answered as ``CHECKOUT_FAILED`` with its message),
or it writes what it must in the same transaction (a stock hold taken at add-to-cart). Checks run
by ascending ``position`` (then name), after the lines are merged and re-priced and before the
cart's ``cart.updated`` event.

A pack adds one with ``context.register("cart_check", name, CartCheck(...))``; core code uses
:func:`register_check`, the same shape as the checkout pipeline's stages.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlmodel import Session

from runtime.auth.permissions import Actor
from runtime.carts.errors import CheckoutErrorCode, as_checkout_errors
from runtime.carts.models import Cart, CartLine
from runtime.errors import BusinessError, BusinessErrors
from runtime.packs.registry import Entry, Registry, Slot

CART_CHECK = "cart_check"


@dataclass
class CartChange:
    """One line change of one cart: ``change`` is ``created``, ``line_added``, ``line_updated`` or
    ``line_removed``; ``lines`` are every line of the cart after it."""

    session: Session
    actor: Actor
    cart: Cart
    lines: list[CartLine]
    change: str
    #: The variants whose lines this change added or changed (None: all of them); a check may
    #: limit itself to these, so a rule published later does not block an unrelated change.
    variant_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class CartCheck:
    name: str
    position: int
    run: Callable[[CartChange], None]
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.position, int) or isinstance(self.position, bool):
            raise TypeError(f"position: expected a whole number, got {self.position!r}")
        if not callable(self.run):
            raise TypeError(f"run: expected a function of the cart change, got {type(self.run).__name__}")


def _check(value: Any) -> None:
    if not isinstance(value, CartCheck):
        raise TypeError(f"expected a runtime.carts.checks.CartCheck(name, position, run), got {type(value).__name__}")


CHECK_SLOT = Slot(CART_CHECK, "A step of every cart line change: CartCheck(name, position, run(change)).", _check)


def declare_slot(registry: Registry | None) -> None:
    if registry is not None and CART_CHECK not in registry.slots:
        registry.declare_slot(CHECK_SLOT)


def register_check(target: Flask | Registry, check: CartCheck, *, pack: str = "core") -> Entry:
    """The one way to add a check: ``<pack>.cart_check.<name>`` in the app's registry."""
    registry = target.extensions["vectis.registry"] if isinstance(target, Flask) else target
    declare_slot(registry)
    return registry.register(pack, CART_CHECK, check.name, check, label=check.description or check.name)


def checks(app: Flask) -> list[CartCheck]:
    registry: Registry = app.extensions["vectis.registry"]
    found = [entry.value for entry in registry.entries(CART_CHECK)] if CART_CHECK in registry.slots else []
    return sorted(found, key=lambda check: (check.position, check.name))


def run_checks(change: CartChange) -> None:
    """Every registered check on ``change`` (none outside an app context: a script's carts)."""
    if not has_app_context():
        return
    for check in checks(current_app):
        try:
            check.run(change)
        except (BusinessError, BusinessErrors) as exc:
            raise as_checkout_errors(exc, CheckoutErrorCode.CHECKOUT_FAILED) from None
