"""Bulk removal, save for later and restore of cart lines.

Each call runs in the mutation's one transaction under the cart's row lock. A line id that
cannot be acted on (not a number, not in the cart, named twice) is answered on its own outcome
and the others go ahead; a refusal of the whole change (a cart check, a cart that is not active)
leaves everything as it was. Saved lines leave the cart's lines, so the cart checks release
their stock holds; restoring adds the line back through ``add_lines``, which re-prices it and
runs the caps and holds again under the channel's hold mode.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.carts import lines as cart_lines
from runtime.carts import service as carts
from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.carts.models import Cart, CartLine
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.packaging import service as packaging
from runtime.quick_order.models import CartSavedLine

#: Line ids per call: a cart's worth, the same bound as pasted rows.
IDS_MAX = 500


@dataclass
class Outcome:
    """What happened to one given line id: ``errors`` empty means it was removed (or saved)."""

    line_id: str
    saved: CartSavedLine | None = None
    errors: list[BusinessError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Restored:
    cart: Cart
    line: CartLine
    previous_multiplier: int
    multiplier: int

    @property
    def unit_changed(self) -> bool:
        return self.previous_multiplier != self.multiplier


def _pick(session: Session, actor: Actor, token: str, line_ids: list[Any]) -> tuple[Cart, list[Outcome], list[CartLine],
                                                                                  dict[int, tuple[Outcome, CartLine]]]:
    """The locked cart, an outcome per id, the lines the valid ids name (each once) and both by id."""
    if not isinstance(line_ids, list) or not line_ids:
        raise BusinessError(Code.INVALID_INPUT, "lineIds: give at least one line id", field="lineIds")
    if len(line_ids) > IDS_MAX:
        raise BusinessError(Code.INVALID_INPUT, f"lineIds: at most {IDS_MAX} ids per call, got {len(line_ids)}",
                            field="lineIds")
    cart = carts.load_cart(session, actor, token, lock=True)
    carts.require_active(cart)
    by_id = {line.id: line for line in cart_lines.cart_lines(session, cart)}
    outcomes, picked = [], {}
    for index, given in enumerate(line_ids):
        where = f"lineIds.{index}"
        outcome = Outcome(str(given))
        outcomes.append(outcome)
        try:
            wanted = cart_lines.parse_id(given, where)
        except BusinessError as exc:
            outcome.errors.append(exc)
            continue
        if wanted in picked:
            outcome.errors.append(BusinessError(Code.INVALID_INPUT, f"{where}: line {given!r} is named twice",
                                                field=where))
        elif wanted not in by_id:
            outcome.errors.append(BusinessError(Code.NOT_FOUND, f"{where}: the cart has no line {given!r}", field=where))
        else:
            picked[wanted] = (outcome, by_id[wanted])
    return cart, outcomes, [line for _outcome, line in picked.values()], picked


def bulk_remove(session: Session, actor: Actor, token: str, line_ids: list[Any]) -> tuple[Cart, list[Outcome]]:
    cart, outcomes, lines, _picked = _pick(session, actor, token, line_ids)
    if lines:
        cart = carts.remove_lines(session, actor, cart, lines)
    return cart, outcomes


def bulk_save(session: Session, actor: Actor, token: str, line_ids: list[Any]) -> tuple[Cart, list[Outcome]]:
    """Move the lines to the cart's saved lines (one per variant and package: saving a second box
    adds to the saved box)."""
    cart, outcomes, lines, picked = _pick(session, actor, token, line_ids)
    if not lines:
        return cart, outcomes
    existing = {(row.variant_id, row.package_slug): row for row in saved_lines(session, cart.id)}
    for line_id, (outcome, line) in picked.items():
        row = existing.get((line.variant_id, line.package_slug))
        if row is None or row.package_multiplier != line.package_multiplier:
            row = CartSavedLine(cart_id=cart.id, variant_id=line.variant_id, quantity=0, package_slug=line.package_slug,
                                package_multiplier=line.package_multiplier, created_at=utcnow())
            existing[(line.variant_id, line.package_slug)] = row
        row.quantity += line.quantity
        outcome.saved = row
        session.add(row)
    cart = carts.remove_lines(session, actor, cart, lines)
    session.flush()
    return cart, outcomes


def restore(session: Session, actor: Actor, token: str, saved_id: Any) -> Restored:
    """Put a saved line back into the cart in its package, priced and checked now."""
    cart = carts.load_cart(session, actor, token, lock=True)
    carts.require_active(cart)
    wanted = cart_lines.parse_id(saved_id, "savedLineId")
    row = session.get(CartSavedLine, wanted)
    if row is None or row.cart_id != cart.id:
        raise BusinessError(Code.NOT_FOUND, f"savedLineId: the cart has no saved line {saved_id!r}",
                            field="savedLineId")
    variants = cart_lines.load_variants(session, ids=(row.variant_id,), channel_id=cart.channel_id, at=utcnow())
    if row.variant_id not in variants:
        raise BusinessError(Code.NOT_FOUND, f"savedLineId: variant {row.variant_id} is no longer sold in this channel",
                            field="savedLineId")
    variant, product = variants[row.variant_id]
    ladder = packaging.ladders(session, {product.id}).get(product.id, {}) if row.package_slug else {}
    try:
        multiplier = packaging.multiplier(ladder, row.package_slug, "savedLineId", variant.sku)
    except BusinessError as exc:
        raise BusinessError(Code.UNKNOWN_PACKAGE, exc.message, field="savedLineId") from None
    quantity, package = row.quantity, row.package_slug
    session.delete(row)
    try:
        cart = carts.add_lines(session, actor, token, [{"variant_id": str(row.variant_id), "quantity": quantity,
                                                        "package": package}])
    except (BusinessError, BusinessErrors) as exc:  # the add's fields name its own input: ours is savedLineId
        raise BusinessErrors([_as_ours(error) for error in getattr(exc, "errors", [exc])]) from None
    line = session.exec(select(CartLine).where(CartLine.cart_id == cart.id, CartLine.variant_id == row.variant_id,
                                               CartLine.package_slug == package if package is not None
                                               else CartLine.package_slug.is_(None))).one()
    return Restored(cart, line, row.package_multiplier, multiplier)


def _as_ours(error: BusinessError) -> BusinessError:
    message = error.message
    if error.field and message.startswith(f"{error.field}:"):
        message = "savedLineId:" + message[len(error.field) + 1:]
    return BusinessError(error.code, message, field="savedLineId", **error.params)


def saved_lines(session: Session, cart_id: int) -> list[CartSavedLine]:
    return list(session.exec(select(CartSavedLine).where(CartSavedLine.cart_id == cart_id).order_by(CartSavedLine.id)))
