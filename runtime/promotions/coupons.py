"""Coupon codes: applied to a cart (case-insensitive), refused as data with a distinct code each;
generated in bulk for a promotion (unique, listed, exported as CSV)."""
from __future__ import annotations

import csv
import io
import re
import secrets
import uuid
from enum import Enum
from typing import Any

from flask import Flask
from rules.promotion import Promotion
from rules.promotion_engine import CONDITIONS_FAILED, SCHEDULE_CLOSED
from sqlalchemy import delete, select
from sqlmodel import Session

from runtime.auth.permissions import Actor
from runtime.carts import lines as cart_lines
from runtime.carts import service as carts
from runtime.carts.models import Cart
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.events import emit
from runtime.promotions import service, usage
from runtime.promotions.live import STALE, live_promotions
from runtime.promotions.models import CartCoupon, PromotionCoupon, PromotionUsageCounter

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
#: Characters a generated code draws from (no 0/O, 1/I/L: codes are read aloud and typed).
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
DEFAULT_PATTERN = "########"
GENERATE_MAX = 10_000


class PromotionErrorCode(str, Enum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CART_NOT_ACTIVE = "CART_NOT_ACTIVE"
    COUPON_NOT_FOUND = "COUPON_NOT_FOUND"
    COUPON_NOT_STARTED = "COUPON_NOT_STARTED"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_USAGE_LIMIT_REACHED = "COUPON_USAGE_LIMIT_REACHED"
    COUPON_CUSTOMER_LIMIT_REACHED = "COUPON_CUSTOMER_LIMIT_REACHED"
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE"
    COUPON_NOT_APPLIED = "COUPON_NOT_APPLIED"
    PROMOTION_WITHOUT_COUPON = "PROMOTION_WITHOUT_COUPON"


Code = PromotionErrorCode


def normalize(code: Any, field: str = "code") -> str:
    value = code.strip().upper() if isinstance(code, str) else ""
    if not CODE.match(value):
        raise BusinessError(Code.INVALID_INPUT, f"{field}: expected a coupon code of 2 to 40 letters, digits, '-' or "
                                                f"'_', got {code!r}", field=field)
    return value


def _owner(session: Session, app: Flask, code: str) -> Promotion | None:
    live = live_promotions(app)
    static = next((p for p in live.promotions.promotions if code in p.codes), None)
    if static is not None:
        return static
    name = session.execute(select(PromotionCoupon.promotion_name).where(PromotionCoupon.code == code)).scalar_one_or_none()
    return live.promotions.by_name(name) if name else None


def _load(session: Session, actor: Actor, cart_id: str) -> Cart:
    cart = carts.load_cart(session, actor, cart_id, lock=True)
    if cart.state != "active":
        raise BusinessError(Code.CART_NOT_ACTIVE, f"cartId: the cart is {cart.state}, only an active cart can change",
                            field="cartId")
    return cart


def apply_coupon(session: Session, app: Flask, actor: Actor, cart_id: str, raw_code: Any) -> Cart:
    """Add a code to the cart when it unlocks a promotion that applies to it now."""
    code = normalize(raw_code)
    cart = _load(session, actor, cart_id)
    applied = service.cart_codes(session, cart.id)
    if code in applied:
        return cart
    promotion = _owner(session, app, code)
    if promotion is None:
        raise BusinessError(Code.COUPON_NOT_FOUND, f"code: no coupon {code}", field="code")
    lines = cart_lines.cart_lines(session, cart)
    priced = service.price(session, app, channel=service.channel_of(session, cart), currency=cart.currency,
                           lines=service.priced_lines(lines), buyer=service.buyer_of(cart),
                           coupon_codes=[*applied, code], shipping=cart.shipping_total, cart_id=str(cart.id))
    outcome = priced.result.outcome(promotion.name)
    if not outcome.applied:
        raise _refusal(code, promotion, outcome, priced)
    session.add(CartCoupon(cart_id=cart.id, code=code))
    return _touched(session, cart, "coupon_applied")


def _refusal(code: str, promotion: Promotion, outcome, priced) -> BusinessError:
    if outcome.reason == SCHEDULE_CLOSED:
        if promotion.starts_at is not None and _before_start(promotion, priced.at, priced.zone):
            return BusinessError(Code.COUPON_NOT_STARTED, f"code: coupon {code} is not valid yet", field="code")
        return BusinessError(Code.COUPON_EXPIRED, f"code: coupon {code} has expired", field="code")
    if outcome.reason == usage.USAGE_LIMIT_REACHED:
        if "per customer" in outcome.detail:
            return BusinessError(Code.COUPON_CUSTOMER_LIMIT_REACHED,
                                 f"code: coupon {code} was already used as often as one customer may", field="code")
        return BusinessError(Code.COUPON_USAGE_LIMIT_REACHED, f"code: coupon {code} reached its usage limit", field="code")
    conditions = [{"condition": f.condition, "actual": _shown(f.actual)} for f in outcome.failures]
    if outcome.reason == CONDITIONS_FAILED:
        why = "; ".join(f"{c['condition']} (now {c['actual']})" for c in conditions)
        return BusinessError(Code.COUPON_NOT_APPLICABLE, f"code: coupon {code} does not apply to this cart: {why}",
                             field="code", conditions=conditions)
    if outcome.reason == STALE:
        return BusinessError(Code.COUPON_NOT_APPLICABLE, f"code: coupon {code} cannot be used at the moment",
                             field="code", conditions=[])
    return BusinessError(Code.COUPON_NOT_APPLICABLE, f"code: coupon {code} does not apply to this cart "
                         f"({_buyer_reason(outcome.reason)})", field="code", conditions=conditions)


def _before_start(promotion: Promotion, now, zone: str) -> bool:
    """Whether ``now`` is before the schedule opens (rather than after it closed)."""
    probe = Promotion(promotion.name, promotion.phase, promotion.action, starts_at=promotion.starts_at)
    return not probe.active_at(now, zone)


def _buyer_reason(reason: str | None) -> str:
    return {"NO_TARGET": "no item in the cart qualifies", "OUT_OF_SCOPE": "not offered to this buyer or channel",
            "NO_PRICE_IN_CURRENCY": "not offered in this currency", "LOST_STACK_GROUP": "a better offer applies",
            "EXCLUDED": "another offer cannot be combined with it", "STOPPED": "another offer cannot be combined with it",
            }.get(reason or "", "nothing left to discount")


def _shown(value: Any) -> Any:
    text = repr(value)
    return "MISSING" if text == "MISSING" else (format(value, "f") if hasattr(value, "as_tuple") else value)


def _touched(session: Session, cart: Cart, change: str) -> Cart:
    """Bump the cart's version and emit ``cart.updated``, as every cart change does."""
    cart.version += 1
    cart.updated_at = utcnow()
    session.add(cart)
    session.flush()
    ids = {name: str(getattr(cart, name)) for name in ("account_id", "customer_id", "location_id")
           if getattr(cart, name) is not None}
    emit(session, "cart.updated", {"cart_id": str(cart.id), "channel_id": str(cart.channel_id), **ids, "change": change,
                                   "subtotal": format(cart.subtotal, "f"), "currency": cart.currency,
                                   "lines": cart.item_count, "version": cart.version}, key=f"cart:{cart.id}")
    return cart


def remove_coupon(session: Session, actor: Actor, cart_id: str, raw_code: Any) -> Cart:
    code = normalize(raw_code)
    cart = _load(session, actor, cart_id)
    done = session.execute(delete(CartCoupon).where(CartCoupon.cart_id == cart.id, CartCoupon.code == code)).rowcount
    if not done:
        raise BusinessError(Code.COUPON_NOT_APPLIED, f"code: coupon {code} is not applied to this cart", field="code")
    return _touched(session, cart, "coupon_removed")


def _promotion_with_coupon(app: Flask, name: Any) -> Promotion:
    promotion = live_promotions(app).promotions.by_name(str(name))
    if promotion is None:
        raise BusinessError(Code.NOT_FOUND, f"promotion: no live promotion {name!r}", field="promotion")
    if not promotion.requires_coupon:
        raise BusinessError(Code.PROMOTION_WITHOUT_COUPON, f"promotion: {name} has no coupon block; add "
                            "'coupon: {}' to its definition to give it codes", field="promotion")
    return promotion


def generate(session: Session, app: Flask, actor: Actor, name: Any, count: Any, *, prefix: Any = None,
             pattern: Any = None) -> tuple[str, list[str]]:
    """``count`` new unique codes for promotion ``name``: ``prefix`` + ``pattern`` (``#`` is a random
    character). Returns (batch id, codes)."""
    promotion = _promotion_with_coupon(app, name)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= GENERATE_MAX:
        raise BusinessError(Code.INVALID_INPUT, f"count: expected 1 to {GENERATE_MAX}, got {count!r}", field="count")
    prefix = (prefix or "").strip().upper()
    pattern = (pattern or DEFAULT_PATTERN).strip().upper()
    if not re.fullmatch(r"[A-Z0-9_-]{0,16}", prefix):
        raise BusinessError(Code.INVALID_INPUT, f"prefix: expected up to 16 letters, digits, '-' or '_', got {prefix!r}",
                            field="prefix")
    randoms = pattern.count("#")
    if randoms < 4 or not re.fullmatch(r"[A-Z0-9_#-]+", pattern) or len(prefix + pattern) > 40 or \
            len(ALPHABET) ** randoms < count * 100:
        raise BusinessError(Code.INVALID_INPUT, "pattern: expected letters, digits, '-' and at least 4 '#' (a random "
                            f"character; enough of them for {count} codes), at most 40 characters with the prefix, "
                            f"got {pattern!r}", field="pattern")
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {prefix + "".join(secrets.choice(ALPHABET) if c == "#" else c for c in pattern)
                  for _ in range(count - len(codes))}
        taken = set(session.execute(select(PromotionCoupon.code).where(PromotionCoupon.code.in_(sorted(wanted)))).scalars())
        statics = {code for p in live_promotions(app).promotions.promotions for code in p.codes}
        codes |= wanted - taken - statics
    batch = uuid.uuid4().hex[:12]
    ordered = sorted(codes)
    session.add_all([PromotionCoupon(code=code, promotion_name=promotion.name, batch=batch, created_by=actor.email)
                     for code in ordered])
    session.flush()
    return batch, ordered


def list_codes(session: Session, app: Flask, name: Any, *, first: int,
               after: str | None = None) -> tuple[list[dict], int, bool]:
    """A page of a promotion's codes (listed in the definition, then generated, each in code order)
    after the code ``after``, with uses so far; the total count; whether more follow."""
    promotion = _promotion_with_coupon(app, name)
    rows = [{"code": code, "batch": None, "created_at": None} for code in sorted(promotion.codes)]
    rows += [{"code": c.code, "batch": c.batch, "created_at": c.created_at} for c in session.execute(
        select(PromotionCoupon).where(PromotionCoupon.promotion_name == promotion.name)
        .order_by(PromotionCoupon.code)).scalars()]
    start = next((i + 1 for i, row in enumerate(rows) if row["code"] == after), 0) if after else 0
    page = rows[start:start + first]
    uses = dict(session.execute(select(PromotionUsageCounter.key, PromotionUsageCounter.used).where(
        PromotionUsageCounter.key.in_([f"code:{promotion.name}:{row['code']}" for row in page]))).all()) if page else {}
    for row in page:
        row["uses"] = uses.get(f"code:{promotion.name}:{row['code']}", 0)
    return page, len(rows), start + first < len(rows)


def export_csv(session: Session, app: Flask, name: Any) -> str:
    """Every code of the promotion as CSV: ``code,batch,created_at,uses``."""
    rows, _total, _more = list_codes(session, app, name, first=GENERATE_MAX * 1000)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "batch", "created_at", "uses"])
    for row in rows:
        writer.writerow([row["code"], row["batch"] or "", row["created_at"].isoformat() if row["created_at"] else "",
                         row["uses"]])
    return out.getvalue()

