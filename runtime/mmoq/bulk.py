"""``cartBulkLookup`` and ``bulkAddToCart``: rows of SKU, quantity and package (as pasted from a
spreadsheet) resolved to variants, priced and checked against the caps together with the cart's
current lines, each row answered on its own. The lookup writes nothing; the add writes the rows
that passed, through the cart's own ``add_lines`` (so its checks run again)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlmodel import Session

from runtime.auth.permissions import Actor
from runtime.carts import lines as cart_lines
from runtime.carts import service as carts
from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.carts.models import Cart
from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.mmoq import enforce
from runtime.mmoq.facts import customer_of
from runtime.money import Money
from runtime.packaging import service as packaging

#: Rows per call: a pasted sheet, not a catalog import.
ROWS_MAX = 500


@dataclass
class Row:
    """One answered row; ``errors`` and ``violations`` empty means it can be added."""

    index: int
    sku: str
    quantity: Any
    package: str | None
    expected_multiplier: int | None
    variant: Any = None
    multiplier: int | None = None
    package_hint: str | None = None
    unit_price: Money | None = None
    errors: list[BusinessError] = field(default_factory=list)
    violations: list[enforce.ViolationDetail] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.violations

    @property
    def base_quantity(self) -> int | None:
        return self.quantity * self.multiplier if self.multiplier is not None and not self.errors else None

    @property
    def unit_changed(self) -> bool:
        """The sheet assumed another number of base units per package than the ladder has now."""
        return (self.expected_multiplier is not None and self.multiplier is not None
                and self.expected_multiplier != self.multiplier)

    @property
    def line_total(self) -> Money | None:
        return None if self.unit_price is None or self.errors else self.unit_price * self.quantity

    @property
    def line_input(self) -> dict[str, Any]:
        return {"variant_id": str(self.variant.id), "quantity": self.quantity, "package": self.package}


def guest_cart(session: Session, actor: Actor, channel: Channel | None) -> Cart:
    """An unsaved cart of the caller in the request's channel: what a lookup without a cart prices for."""
    if channel is None:
        raise BusinessError(Code.CHANNEL_REQUIRED, "X-Channel-Slug: name the channel to look up in (there is no "
                            "default channel)", field="X-Channel-Slug")
    return Cart(token="", channel_id=channel.id, currency=channel.default_currency, state="active",
                user_id=actor.user_id, customer_id=actor.customer_id, account_id=actor.account_id,
                location_id=actor.location_id)


def lookup(session: Session, actor: Actor, cart: Cart, rows: list[dict[str, Any]]) -> list[Row]:
    """Every row answered: its variant, package, price and violations (caps counted with the
    cart's current lines and the other rows of the same variant)."""
    if len(rows) > ROWS_MAX:
        raise BusinessError(Code.INVALID_INPUT, f"input.rows: at most {ROWS_MAX} rows per call, got {len(rows)}",
                            field="input.rows")
    answered = [Row(index, str(row.get("sku") or "").strip(), row.get("quantity"), row.get("package"),
                    row.get("multiplier")) for index, row in enumerate(rows)]
    current = cart_lines.cart_lines(session, cart) if cart.id is not None else []
    variants = cart_lines.load_variants(session, ids=tuple({line.variant_id for line in current}),
                                        skus=tuple({row.sku for row in answered if row.sku}),
                                        channel_id=cart.channel_id, at=utcnow())
    by_sku = {variant.sku: (variant, product) for variant, product in variants.values()}
    ladders = packaging.ladders(session, {product.id for _variant, product in variants.values()})
    for row in answered:
        _resolve(row, by_sku, ladders)
    base = cart_lines.base_quantities(current)
    for row in answered:
        if row.base_quantity is not None:
            base[row.variant.id] = base.get(row.variant.id, 0) + row.base_quantity
    _price(session, actor, cart, answered, variants, base)
    asked = {row.variant.id for row in answered if row.base_quantity is not None}
    group = cart_lines.price_context(session, actor, cart).customer_group_id
    found = enforce.check(current_app, session, customer_of(session, cart, group), variants,
                          {variant_id: total for variant_id, total in base.items() if variant_id in asked},
                          cart_id=cart.id)
    for row in answered:
        if row.base_quantity is not None:
            row.violations = [detail for detail in found if detail.variant_id == row.variant.id]
    return answered


def _resolve(row: Row, by_sku: dict[str, tuple], ladders: dict[int, dict[str, int]]) -> None:
    where = f"input.rows.{row.index}"
    problem = cart_lines.check_quantity(row.quantity, f"{where}.quantity")
    if problem:
        row.errors.append(problem)
    found = by_sku.get(row.sku)
    if found is None:
        row.errors.append(BusinessError(Code.NOT_FOUND, f"{where}.sku: no variant {row.sku!r} is sold in this channel",
                                        field=f"{where}.sku"))
        return
    row.variant, product = found
    ladder = ladders.get(product.id, {})
    try:
        row.multiplier = packaging.multiplier(ladder, row.package, f"{where}.package", row.sku)
    except BusinessError as exc:
        row.errors.append(BusinessError(Code.UNKNOWN_PACKAGE, exc.message, field=exc.field))
    row.package_hint = row.package if row.package in ladder else _hint(ladder, row.variant.mmoq_display_unit,
                                                                        row.base_quantity)


def _hint(ladder: dict[str, int], display_unit: str | None, base_quantity: int | None) -> str | None:
    """The package to suggest: the variant's display unit, else the largest package the quantity
    fills exactly (24 → box of 12), else none."""
    if display_unit in ladder:
        return display_unit
    fits = [slug for slug, n in ladder.items() if n > 1 and base_quantity and base_quantity % n == 0]
    return max(fits, key=ladder.get) if fits else None


def _price(session: Session, actor: Actor, cart: Cart, rows: list[Row], variants: dict[int, tuple],
           base: dict[int, int]) -> None:
    from runtime.pricing.service import resolve_prices

    wanted = {row.variant.id for row in rows if row.base_quantity is not None}
    if not wanted:
        return
    context = cart_lines.price_context(session, actor, cart)
    prices = resolve_prices(session, context, [(variants[v][0], base[v]) for v in sorted(wanted)])
    for row in rows:
        if row.base_quantity is None:
            continue
        price = prices.get(row.variant.id)
        if price is None:
            row.errors.append(BusinessError(Code.NO_PRICE, f"input.rows.{row.index}.sku: {row.sku!r} has no price in "
                                            f"{cart.currency} for this buyer and channel",
                                            field=f"input.rows.{row.index}.sku"))
            continue
        row.unit_price = price.unit_price * row.multiplier


def add(session: Session, actor: Actor, token: str, rows: list[dict[str, Any]]) -> tuple[Cart, list[Row], list[Row]]:
    """Add the rows that pass (errors and violations of the others answered per row)."""
    cart = carts.load_cart(session, actor, token, lock=True)
    carts.require_active(cart)
    answered = lookup(session, actor, cart, rows)
    passed = [row for row in answered if row.ok]
    if passed:
        cart = carts.add_lines(session, actor, token, [row.line_input for row in passed])
    return cart, passed, [row for row in answered if not row.ok]
