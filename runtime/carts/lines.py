"""Cart lines: reading line inputs, merging them by variant and package, and re-pricing every
line at once.

Every change of a cart's lines re-prices ALL its lines in one ``resolve_prices`` call (volume
tiers depend on the quantity, and a later price list may have started), so a cart never holds
a price computed under other conditions than its current content. A variant is priced at the
base units of all its lines together (a box of 12 and 6 loose count 18 for volume tiers); a
line's unit price is that base unit price × its package's multiplier.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.carts.models import Cart, CartLine
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import Money
from runtime.packaging import service as packaging
from runtime.pricing.types import Price, PriceContext


#: Most base units on one cart line (quantity × the package's multiplier).
MAX_LINE_BASE_UNITS = 1_000_000
#: Most base units in one cart, every line together. Both keep quantities, ``itemCount`` and
#: order lines far inside a 32-bit integer column on either database.
MAX_CART_BASE_UNITS = 5_000_000


@dataclass(frozen=True)
class LineRequest:
    """One ``CartLineInput``, resolved to a variant: ``field`` names it in errors (``lines.2``)."""

    field: str
    variant_id: int
    quantity: int
    #: The package slug given (None: base units) and its multiplier in the product's ladder.
    package: str | None = None
    multiplier: int = 1

    @property
    def base_quantity(self) -> int:
        return self.quantity * self.multiplier


def parse_id(value: Any, field: str) -> int:
    """A database id given as a decimal string, or NOT_FOUND naming ``field``."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 18:
        raise BusinessError(Code.NOT_FOUND, f"{field}: no such id {value!r}", field=field)
    return int(text)


def check_quantity(quantity: Any, field: str) -> BusinessError | None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        return BusinessError(Code.INVALID_QUANTITY, f"{field}: expected a whole number of at least 1, got {quantity!r}",
                             field=field)
    if quantity > MAX_LINE_BASE_UNITS:
        return BusinessError(Code.INVALID_QUANTITY, f"{field}: at most {MAX_LINE_BASE_UNITS} per line, got {quantity}",
                             field=field, max=MAX_LINE_BASE_UNITS)
    return None


def check_base_units(lines: list[CartLine], fields: dict[int, str]) -> None:
    """Every line within :data:`MAX_LINE_BASE_UNITS` and the cart within :data:`MAX_CART_BASE_UNITS`,
    counted in base units, or INVALID_QUANTITY errors naming the input (``fields``: variant → input)."""
    problems = []
    for line in lines:
        if line.base_quantity > MAX_LINE_BASE_UNITS:
            field = fields.get(line.variant_id, "lines").removesuffix(".variantId")
            field = f"{field}.quantity" if field.startswith(("lines.", "input.lines.")) else field
            problems.append(BusinessError(
                Code.INVALID_QUANTITY, f"{field}: {line.quantity} × {line.package_multiplier} is {line.base_quantity} "
                f"base units; a line holds at most {MAX_LINE_BASE_UNITS}", field=field, max=MAX_LINE_BASE_UNITS))
    total = sum(line.base_quantity for line in lines)
    if not problems and total > MAX_CART_BASE_UNITS:
        problems.append(BusinessError(Code.INVALID_QUANTITY, f"lines: the cart would hold {total} base units; "
                                      f"a cart holds at most {MAX_CART_BASE_UNITS}", field="lines",
                                      max=MAX_CART_BASE_UNITS))
    if problems:
        raise BusinessErrors(problems)


def resolve_line_inputs(session: Session, cart: Cart, inputs: list[dict], prefix: str,
                        extra_ids: set[int]) -> tuple[list[LineRequest], dict[int, tuple]]:
    """Check every input (all problems at once) and load the variants they name together with
    ``extra_ids`` (the cart's current lines) in one catalog query."""
    problems: list[BusinessError] = []
    wanted_ids: set[int] = set(extra_ids)
    wanted_skus: set[str] = set()
    parsed: list[tuple[str, int | None, str | None, int, str | None]] = []
    for index, line in enumerate(inputs):
        field = f"{prefix}.{index}"
        variant_id, sku = line.get("variant_id"), line.get("sku")
        if (variant_id is None) == (sku is None):
            problems.append(BusinessError(Code.INVALID_INPUT, f"{field}: give either variantId or sku, exactly one",
                                          field=field))
            continue
        quantity_problem = check_quantity(line.get("quantity"), f"{field}.quantity")
        if quantity_problem:
            problems.append(quantity_problem)
        if variant_id is not None:
            try:
                found_id = parse_id(variant_id, f"{field}.variantId")
            except BusinessError as exc:
                problems.append(exc)
                continue
            wanted_ids.add(found_id)
            parsed.append((field, found_id, None, line.get("quantity"), line.get("package")))
        else:
            wanted_skus.add(sku)
            parsed.append((field, None, sku, line.get("quantity"), line.get("package")))
    if problems:
        raise BusinessErrors(problems)
    variants = load_variants(session, ids=tuple(wanted_ids), skus=tuple(wanted_skus), channel_id=cart.channel_id,
                             at=utcnow()) if (wanted_ids or wanted_skus) else {}
    by_sku = {variant.sku: variant_id for variant_id, (variant, _product) in variants.items()}
    ladders = _ladders(session, variants, [package for *_rest, package in parsed])
    requests = []
    for field, variant_id, sku, quantity, package in parsed:
        found = variant_id if variant_id in variants else by_sku.get(sku) if sku is not None else None
        if found is None:
            what = f"{field}.variantId" if sku is None else f"{field}.sku"
            shown = variant_id if sku is None else repr(sku)
            problems.append(BusinessError(Code.NOT_FOUND, f"{what}: no variant {shown} is sold in this channel",
                                          field=what))
            continue
        variant, product = variants[found]
        try:
            multiplier = packaging.multiplier(ladders.get(product.id, {}), package, f"{field}.package", variant.sku)
        except BusinessError as exc:
            problems.append(BusinessError(Code.UNKNOWN_PACKAGE, exc.message, field=exc.field))
            continue
        requests.append(LineRequest(field, found, quantity, package, multiplier))
    if problems:
        raise BusinessErrors(problems)
    return requests, variants


def _ladders(session: Session, variants: dict[int, tuple], packages: list[str | None]) -> dict[int, dict[str, int]]:
    """The ladders of the variants' products, read only when some input names a package."""
    if not any(package is not None for package in packages):
        return {}
    return packaging.ladders(session, {product.id for _variant, product in variants.values()})


def load_variants(session: Session, **kwargs: Any) -> dict[int, tuple]:
    """The catalog's one-query variant loader (visible in the channel, active only)."""
    try:
        from runtime.catalog.service import load_variants as load
    except ImportError:  # the catalog keeps its read helpers in ``reads``
        from runtime.catalog.reads import load_variants as load
    return load(session, **kwargs)


def cart_lines(session: Session, cart: Cart) -> list[CartLine]:
    return list(session.exec(select(CartLine).where(CartLine.cart_id == cart.id).order_by(CartLine.id)))


def reprice(session: Session, cart: Cart, lines: list[CartLine], variants: dict[int, tuple],
            context: PriceContext, fields: dict[int, str]) -> dict[int, Price]:
    """Price every line at its quantity (one ``resolve_prices`` call), write the prices and the
    cart's totals. ``fields`` names each variant's input for a NO_PRICE error."""
    from runtime.pricing.service import resolve_prices

    problems = []
    for line in lines:
        if line.variant_id not in variants:
            field = fields.get(line.variant_id, "lines")
            problems.append(BusinessError(Code.NOT_FOUND, f"{field}: variant {line.variant_id} is no longer sold in "
                                          "this channel; remove the line", field=field))
    if problems:
        raise BusinessErrors(problems)
    check_base_units(lines, fields)
    base = base_quantities(lines)
    prices = resolve_prices(session, context, [(variants[variant_id][0], quantity)
                                               for variant_id, quantity in base.items()]) if lines else {}
    for line in lines:
        price = prices.get(line.variant_id)
        if price is None:
            field = fields.get(line.variant_id, "lines")
            problems.append(BusinessError(
                Code.NO_PRICE, f"{field}: variant {variants[line.variant_id][0].sku!r} has no price in {context.currency} "
                "for this buyer and channel", field=field))
            continue
        apply_price(line, line_price(line, price))
    if problems:
        raise BusinessErrors(problems)
    totals(cart, lines)
    return prices


def base_quantities(lines: list[CartLine]) -> dict[int, int]:
    """Base units per variant over every line (any package), in the lines' order."""
    found: dict[int, int] = {}
    for line in lines:
        found[line.variant_id] = found.get(line.variant_id, 0) + line.base_quantity
    return found


def line_price(line: CartLine, price: Price) -> Price:
    """The variant's base unit ``price`` as the line's: per package, at the line's quantity."""
    if line.package_multiplier == 1 and price.quantity == line.quantity:
        return price
    return replace(price, quantity=line.quantity, unit_price=price.unit_price * line.package_multiplier)


def apply_price(line: CartLine, price: Price) -> bool:
    """Write ``price`` on ``line``; True when anything the buyer sees changed."""
    before = (line.unit_price, line.price_level, line.price_list_slug)
    line.unit_price = price.unit_price.amount
    line.line_total = price.line_total.amount
    line.price_level = price.level.value if hasattr(price.level, "value") else str(price.level)
    line.price_list_slug = price.price_list_slug
    return before != (line.unit_price, line.price_level, line.price_list_slug)


def totals(cart: Cart, lines: list[CartLine]) -> None:
    subtotal = sum((Money(line.line_total, cart.currency) for line in lines), Money.zero(cart.currency))
    cart.item_count = sum(line.quantity for line in lines)
    cart.subtotal = subtotal.amount
    cart.total = (subtotal + Money(cart.shipping_total or Decimal(0), cart.currency)).amount


def merge(cart: Cart, lines: list[CartLine], requests: list[LineRequest]) -> tuple[list[CartLine], dict[int, str]]:
    """Add each request's quantity to the line of its variant and package (a new line if none):
    two requests for one box count together. Returns every line and the input field per variant."""
    by_key = {(line.variant_id, line.package_slug): line for line in lines}
    fields: dict[int, str] = {}
    for request in requests:
        fields.setdefault(request.variant_id, f"{request.field}.variantId")
        line = by_key.get((request.variant_id, request.package))
        if line is None:
            line = by_key[(request.variant_id, request.package)] = CartLine(
                cart_id=cart.id, variant_id=request.variant_id, quantity=0, package_slug=request.package,
                package_multiplier=request.multiplier, unit_price=Decimal(0), line_total=Decimal(0),
                price_level="BASE", created_at=utcnow())
            lines.append(line)
        line.quantity += request.quantity
    return lines, fields


def price_context(session: Session, actor: Actor, cart: Cart) -> PriceContext:
    """Who the cart prices for: its owner (the buyer, or the location a staff member buys for)."""
    group = None
    if actor.user_id is not None and actor.user_id == cart.user_id:
        group = actor.customer_group_id
    elif cart.account_id is not None:
        from runtime.accounts.models import Account

        group = session.exec(select(Account.customer_group_id).where(Account.id == cart.account_id)).first()
    elif cart.customer_id is not None:
        from runtime.accounts.models import Customer

        group = session.exec(select(Customer.customer_group_id).where(Customer.id == cart.customer_id)).first()
    return PriceContext(currency=cart.currency, at=utcnow(), channel_id=cart.channel_id, customer_group_id=group,
                        account_id=cart.account_id, location_id=cart.location_id)
