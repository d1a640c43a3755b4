"""``promotion``: (a) a sample cart — SKUs and quantities, a channel, a buyer, coupon codes and a
shipping amount — priced line by line with the live promotions and with the live promotions
where this draft replaces its live revision; (b) the simulation against placed orders
(:mod:`admin_ui.previews.promotion_history`).

Both sides are priced the same way, through :func:`runtime.promotions.service.price` with an
explicit promotion set: stale live promotions are blocked on both sides, usage limits are not
counted (a preview has no order to count them for). Nothing is written.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rules.promotion import Promotion
from rules.promotion_engine import Outcome, PromotionSet
from sqlalchemy import select
from sqlmodel import Session

from admin_ui.previews import promotion_history
from admin_ui.previews.mmoq_cap import parse_rows
from runtime.accounts.models import Account, Customer
from runtime.auth.models import User
from runtime.catalog.models import Product, ProductVariant
from runtime.channels.models import Channel
from runtime.channels.service import default_channel
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.money import AmountError, Money, parse_decimal
from runtime.pricing.service import resolve_prices
from runtime.pricing.types import PriceContext
from runtime.promotions import service
from runtime.promotions.coupons import normalize
from runtime.promotions.facts import Buyer, PricedLine
from runtime.promotions.live import REFERENCE_COLUMNS, STALE, live_promotions

#: A sample cart has at most this many rows (a preview, not a bulk import).
SAMPLE_MAX_LINES = 100


def draft_set(live: PromotionSet, draft: Promotion) -> PromotionSet:
    """The live promotions with ``draft`` in place of its live revision (or added)."""
    return PromotionSet([p for p in live.promotions if p.name != draft.name] + [draft])


def unresolved(session: Session, app, promotion: Promotion) -> str | None:
    """Why ``promotion`` would be stale once live (a reference that does not resolve), or None."""
    problems = []
    for kind, names in sorted(promotion.references.items()):
        if kind == "functions":
            known = {e.definition_name for e in app.extensions["vectis.registry"].entries("predicate_function")}
            missing = names - known
        else:
            column = REFERENCE_COLUMNS[kind]
            missing = names - set(session.execute(select(column).where(column.in_(sorted(names)))).scalars())
        if missing:
            problems.append(f"{kind} {', '.join(sorted(missing))} no longer resolve")
    return "; ".join(problems) or None


def preview(app, session: Session, draft: Promotion, live: Promotion | None, form) -> dict[str, Any]:
    current = live_promotions(app)
    # The live side as it applies now: stale promotions blocked. The draft is judged on its own.
    blocked = {name: why for name, why in current.blocked().items() if name != draft.name}
    stale = unresolved(session, app, draft)
    draft_blocked = {**blocked, **({draft.name: (STALE, stale)} if stale else {})}
    sets = {"live": (current.promotions, blocked), "draft": (draft_set(current.promotions, draft), draft_blocked)}
    shown: dict[str, Any] = {"name": draft.name, "phase": draft.phase, "has_live": live is not None,
                             "stale": stale, "cart": None, "history": None, "money": money}
    if form.get("cart_rows", "").strip():
        shown["cart"] = sample_cart(session, app, form, sets, draft.name)
    if form.get("simulate_days", "").strip():
        shown["history"] = promotion_history.simulate(session, app, form, sets, draft.name)
    return shown


# ---- (a) the sample cart ---------------------------------------------------------------------

def _channel(session: Session, slug: str) -> Channel | None:
    if slug:
        return session.execute(select(Channel).where(Channel.slug == slug)).scalar_one_or_none()
    return default_channel(session)


def _buyer(session: Session, who: str) -> tuple[Buyer, int | None] | str:
    """``who``: a customer's e-mail or a B2B account's slug → (buyer, customer group id), or why not."""
    if not who:
        return Buyer(), None
    if "@" in who:
        row = session.execute(select(Customer.id, Customer.customer_group_id).join(User, User.id == Customer.user_id)
                              .where(User.email == who.lower())).first()
        return (Buyer(customer_id=row[0], email=who.lower()), row[1]) if row else f"buyer: no customer with e-mail {who!r}"
    row = session.execute(select(Account.id, Account.customer_group_id).where(Account.slug == who)).first()
    return (Buyer(account_id=row[0]), row[1]) if row else f"buyer: no customer e-mail or B2B account slug {who!r}"


def _codes(text: str) -> list[str] | str:
    try:
        return [normalize(code, "coupons") for code in re.split(r"[\s,;]+", text.strip()) if code]
    except BusinessError as exc:
        return exc.message


def _shipping(text: str) -> Decimal | str:
    try:
        amount = parse_decimal(text.strip() or "0", "shipping")
    except AmountError as exc:
        return str(exc)
    return amount if amount >= 0 else f"shipping: expected 0 or more, got {text.strip()!r}"


def _inputs(session: Session, form) -> dict[str, Any]:
    """The form read and checked: every problem at once, each starting with its field."""
    channel_slug, who = form.get("channel", "").strip(), form.get("buyer", "").strip()
    found: dict[str, Any] = {"channel": _channel(session, channel_slug), "buyer": _buyer(session, who),
                             "codes": _codes(form.get("coupons", "")), "shipping": _shipping(form.get("shipping", "")),
                             "rows": parse_rows(form.get("cart_rows", ""))}
    problems = [value for key in ("buyer", "codes", "shipping") if isinstance(value := found[key], str)]
    if found["channel"] is None:
        problems.insert(0, f"channel: no channel {channel_slug!r}" if channel_slug else "channel: the store has no default channel")
    if len(found["rows"]) > SAMPLE_MAX_LINES:
        problems.append(f"cart_rows: at most {SAMPLE_MAX_LINES} lines in a sample cart, got {len(found['rows'])}")
    found["problems"] = problems
    return found


def sample_cart(session: Session, app, form, sets, name: str) -> dict[str, Any]:
    given = _inputs(session, form)
    if given["problems"]:
        return {"problems": given["problems"]}
    channel, (buyer, group_id), rows = given["channel"], given["buyer"], given["rows"]
    currency = channel.default_currency
    skus = sorted({row.sku for row in rows if row.error is None})
    variants = {v.sku: (v, p) for v, p in session.execute(
        select(ProductVariant, Product).join(Product, Product.id == ProductVariant.product_id)
        .where(ProductVariant.sku.in_(skus)))} if skus else {}
    context = PriceContext(currency, utcnow(), channel.id, group_id, buyer.account_id)
    wanted = [(variants[row.sku][0], row.quantity) for row in rows if row.error is None and row.sku in variants]
    prices = resolve_prices(session, context, wanted) if wanted else {}
    lines, shown = [], []
    for row in rows:
        entry: dict[str, Any] = {"line": str(row.line), "sku": row.sku, "quantity": row.quantity}
        variant = variants.get(row.sku, (None, None))[0]
        if row.error is None and variant is None:
            row_error = f"line {row.line}: no variant with SKU {row.sku!r}"
        elif row.error is None and variant.id not in prices:
            row_error = f"line {row.line}: {row.sku} has no price in {currency} in channel {channel.slug}"
        else:
            row_error = row.error
        if row_error:
            shown.append({**entry, "error": row_error})
            continue
        unit = prices[variant.id].unit_price.amount
        lines.append(PricedLine(str(row.line), variant.id, row.quantity, unit))
        shown.append({**entry, "name": variants[row.sku][1].name, "unit_price": unit, "total": unit * row.quantity})
    priced = {side: service.price(session, app, channel=channel, currency=currency, lines=lines, buyer=buyer,
                                  coupon_codes=given["codes"], shipping=given["shipping"], promotions=chosen,
                                  blocked=blocked) if lines else service.empty(currency)
              for side, (chosen, blocked) in sets.items()}
    for entry in shown:
        if "error" not in entry:
            for side, result in priced.items():
                entry[side] = _line(result, entry)
    subtotal = sum((entry["total"] for entry in shown if "error" not in entry), Decimal(0))
    return {"currency": currency, "channel": channel.slug, "codes": given["codes"], "lines": shown,
            "subtotal": subtotal, "shipping": given["shipping"],
            "totals": {side: _totals(result, subtotal, given["shipping"]) for side, result in priced.items()},
            "outcome": {side: _outcome(result, name) for side, result in priced.items()},
            "others": _others(priced, name)}


def _line(priced: service.Priced, entry: dict[str, Any]) -> dict[str, Any]:
    found = priced.result.line_discounts(entry["line"])
    discount = sum((amount for _o, amount in found), Decimal(0))
    return {"discount": discount, "net": entry["total"] - discount,
            "by": [{"promotion": o.name, "phase": o.phase, "amount": amount} for o, amount in found]}


def _totals(priced: service.Priced, subtotal: Decimal, shipping: Decimal) -> dict[str, Decimal]:
    lines = priced.total - priced.shipping_discount
    return {"lines": lines, "shipping": priced.shipping_discount, "discount": priced.total,
            "total": subtotal - lines + shipping - priced.shipping_discount}


def _outcome(priced: service.Priced, name: str) -> dict[str, Any] | None:
    found: Outcome | None = next((o for o in priced.result.outcomes if o.name == name), None)
    if found is None:
        return None
    return {"applied": found.applied, "amount": found.amount, "reason": found.reason, "detail": found.detail,
            "coupon": found.coupon,
            "failures": [{"condition": f.condition, "actual": f.actual} for f in found.failures]}


def _others(priced: dict[str, service.Priced], name: str) -> list[dict[str, Any]]:
    """The other promotions whose outcome the draft changes (a stack group lost, a stop, …)."""
    before = {o.name: o for o in priced["live"].result.outcomes}
    changed = []
    for after in priced["draft"].result.outcomes:
        was = before.get(after.name)
        if after.name == name or was is None or (was.applied, was.amount) == (after.applied, after.amount):
            continue
        changed.append({"promotion": after.name, "live": was.amount if was.applied else was.reason,
                        "draft": after.amount if after.applied else after.reason})
    return changed


def money(amount: Decimal, currency: str) -> str:
    """An amount as the preview shows it: rounded to the currency."""
    return format(Money(amount, currency).amount, "f")
