"""The checkout pipeline: an ordered list of stages, each a registered step.

A stage is ``Stage(name, position, run)``; ``run(checkout)`` reads and changes one mutable
:class:`Checkout` (the locked cart, its lines, the money totals, the order draft…) inside the
placeOrder transaction, and refuses by raising a :class:`~runtime.errors.BusinessError`, which
rolls the whole checkout back. Stages run by ascending ``position`` (then name). The core's:

====  ==============  =====================================================================
100   pricing         re-price every line; a changed price is applied and noted
200   (promotions)    reserved for the promotions issue
300   shipping        quote again; the chosen method must still be offered
400   tax             tax per line and on shipping (``runtime.tax``), after promotions
800   order           build the :class:`OrderDraft` and create the order
900   payment         authorize (and capture) through the channel's gateway
====  ==============  =====================================================================

A pack adds a stage with ``context.register("checkout_stage", name, Stage(...), label=...)``
(the ``checkout_stage`` slot); core code uses :func:`register_stage`. Nothing else changes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlmodel import Session

from runtime.auth.permissions import Actor
from runtime.carts.models import Cart, CartLine
from runtime.channels.models import Channel
from runtime.money import Money
from runtime.packs.registry import Entry, Registry, Slot

#: The registry slot holding :class:`Stage` values.
CHECKOUT_STAGE = "checkout_stage"


@dataclass
class Checkout:
    """Everything a stage may read or change, for one placeOrder."""

    session: Session
    cart: Cart
    lines: list[CartLine]
    channel: Channel
    actor: Actor
    base_currency: str
    idempotency_key: str
    #: Who placed it when not the buyer (``adminCreateOrder``: the staff member's e-mail).
    created_by: str | None = None
    #: ``variant_id → (ProductVariant, Product)``, loaded by the pricing stage.
    variants: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    #: ``variant_id → Price`` at the line's quantity, set by the pricing stage.
    prices: dict[int, Any] = field(default_factory=dict)
    price_context: Any = None
    shipping_total: Money | None = None
    discount_total: Money | None = None
    tax_total: Money | None = None
    #: Prices include the tax (stage 400 on a tax-inclusive channel): the total does not add it.
    tax_included: bool = False
    draft: Any = None
    order: Any = None
    payment: Any = None
    #: Each stage's notes, keyed by stage name; saved on the order (``Order.pipeline``).
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def money(self, amount: Decimal | int | str) -> Money:
        return Money(Decimal(amount), self.cart.currency)

    @property
    def subtotal(self) -> Money:
        return sum((self.money(line.line_total) for line in self.lines), Money.zero(self.cart.currency))

    @property
    def total(self) -> Money:
        tax = self.money(0) if self.tax_included else (self.tax_total or self.money(0))
        total = self.subtotal + (self.shipping_total or self.money(0)) + tax
        return total - (self.discount_total or self.money(0))

    def note(self, stage: str, **values: Any) -> None:
        self.notes.setdefault(stage, {}).update(values)


@dataclass(frozen=True)
class Stage:
    name: str
    position: int
    run: Callable[[Checkout], None]
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.position, int) or isinstance(self.position, bool):
            raise TypeError(f"position: expected a whole number, got {self.position!r}")
        if not callable(self.run):
            raise TypeError(f"run: expected a function of the checkout, got {type(self.run).__name__}")


def _check(value: Any) -> None:
    if not isinstance(value, Stage):
        raise TypeError(f"expected a runtime.checkout.Stage(name, position, run), got {type(value).__name__}")


STAGE_SLOT = Slot(CHECKOUT_STAGE, "A step of placeOrder: Stage(name, position, run(checkout)), run by position.", _check)


def declare_slot(registry: Registry | None) -> None:
    """Declare the ``checkout_stage`` slot on ``registry`` unless it already is."""
    if registry is not None and CHECKOUT_STAGE not in registry.slots:
        registry.declare_slot(STAGE_SLOT)


def register_stage(target: Flask | Registry, stage: Stage, *, pack: str = "core") -> Entry:
    """The one way to add a stage: ``<pack>.checkout_stage.<name>`` in the app's registry."""
    registry = target.extensions["vectis.registry"] if isinstance(target, Flask) else target
    declare_slot(registry)
    return registry.register(pack, CHECKOUT_STAGE, stage.name, stage, label=stage.description or stage.name)


def stages(app: Flask) -> list[Stage]:
    """Every registered stage in running order."""
    registry: Registry = app.extensions["vectis.registry"]
    found = [entry.value for entry in registry.entries(CHECKOUT_STAGE)] if CHECKOUT_STAGE in registry.slots else []
    return sorted(found, key=lambda stage: (stage.position, stage.name))


def run_stages(checkout: Checkout, pipeline: list[Stage]) -> Checkout:
    for stage in pipeline:
        stage.run(checkout)
    return checkout
