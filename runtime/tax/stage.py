"""The tax checkout stages, inside placeOrder's transaction:

====  ==========  ===================================================================
400   tax         tax every line (on what is paid after promotions) and shipping
820   tax_lines   after the order exists (800): one order tax line per line and tax
====  ==========  ===================================================================

The cart shows what stage 400 computes: both build their lines with :func:`charge_lines`.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask import current_app
from rules.tax_rule import Classification
from sqlalchemy import insert, select
from sqlmodel import Session

from runtime.accounts.models import Account
from runtime.carts.models import Cart, CartLine
from runtime.checkout.pipeline import Checkout, Stage
from runtime.clock import utcnow
from runtime.orders.models import OrderLine
from runtime.promotions.stage import PRICED
from runtime.tax import service
from runtime.tax.classes import classes
from runtime.tax.models import OrderTaxLine

#: Where stage 400 leaves its quote for stage 820 (the transaction's session info).
QUOTE = "vectis.tax.quote"
GRAMS_PER_KG = Decimal(1000)


def charge_lines(lines: Iterable[CartLine], variants: dict[int, tuple[Any, Any]], priced,
                 classified: dict[str, Classification] | None = None) -> list[service.ChargeLine]:
    """Each cart line at what the buyer pays for it (its total less its discounts), in the class
    the tax rules gave it."""
    out = []
    classified = classified or {}
    for line in lines:
        found = classified.get(str(line.id))
        variant = variants.get(line.variant_id, (None, None))[0]
        discount = priced.line_discount(str(line.id)) if priced is not None else Decimal(0)
        weight = Decimal(variant.weight_grams or 0) * line.quantity / GRAMS_PER_KG if variant is not None else Decimal(0)
        volume = Decimal(str((variant.attributes or {}).get("volume_liters", 0))) * line.quantity \
            if variant is not None else Decimal(0)
        out.append(service.ChargeLine(str(line.id), Decimal(line.line_total) - discount, line.quantity,
                                      found.tax_class if found else "standard", found.excise_category if found else None,
                                      volume, weight, (found.rule or found.excise_rule) if found else None))
    return out


def vat_number(session: Session, cart: Cart) -> str | None:
    account = session.get(Account, cart.account_id) if cart.account_id is not None else None
    return account.tax_id if account is not None else None


def quote_cart(session: Session, cart: Cart, lines: list[CartLine], variants: dict, priced,
               shipping: Decimal | None) -> service.TaxQuote:
    paid_shipping = None if shipping is None else shipping - (priced.shipping_discount if priced is not None else 0)
    address = service.destination(cart.shipping_address, cart.billing_address)
    number = vat_number(session, cart)
    classified = classes(session, current_app, cart, lines, address, number, utcnow())
    return service.quote(session, channel_id=cart.channel_id, currency=cart.currency, address=address,
                         lines=charge_lines(lines, variants, priced, classified), shipping=paid_shipping,
                         vat_number=number)


def tax(checkout: Checkout) -> None:
    """Stage 400: the tax of the locked cart; refuses an address the tables cannot place."""
    priced, _shipping = checkout.session.info.get(PRICED, (None, None))
    shipping = checkout.shipping_total.amount if checkout.shipping_total is not None else None
    quote = quote_cart(checkout.session, checkout.cart, checkout.lines, checkout.variants, priced, shipping)
    checkout.session.info[QUOTE] = quote
    checkout.tax_total = quote.total
    checkout.tax_included = quote.inclusive
    checkout.note("tax", provider=quote.provider, total=format(quote.total.amount, "f"), inclusive=quote.inclusive,
                  reverse_charge=quote.result.reverse_charge, jurisdictions=[j.code for j in quote.jurisdictions],
                  **({"fallback": quote.fallback} if quote.fallback else {}))


def record(checkout: Checkout) -> None:
    """Stage 820: the order's tax lines (one executemany)."""
    quote: service.TaxQuote | None = checkout.session.info.pop(QUOTE, None)
    if quote is None or not quote.result.lines:
        return
    session, order = checkout.session, checkout.order
    session.flush()
    order_lines = list(session.execute(select(OrderLine.id).where(OrderLine.order_id == order.id)
                                       .order_by(OrderLine.id)).scalars())
    by_cart_line = {str(line.id): order_line for line, order_line in zip(checkout.lines, order_lines)}
    now = utcnow()
    rows = [{"order_id": order.id, "order_line_id": by_cart_line.get(t.line_id),
             "kind": "shipping" if t.line_id == service.SHIPPING else "line", "jurisdiction": t.jurisdiction,
             "level": t.level, "rate_id": t.rate_id, "rate": t.rate, "stage": t.stage, "tax_class": t.tax_class,
             "compound": t.compound, "base": t.base, "amount": t.amount, "currency": order.currency, "rule": t.rule,
             "provider": quote.provider, "created_at": now} for t in quote.result.lines]
    session.execute(insert(OrderTaxLine.__table__), rows)


STAGES = (
    Stage("tax", 400, tax, "Tax every line on what is paid after promotions, and shipping where it is taxable."),
    Stage("tax_lines", 820, record, "Write the order's tax lines (jurisdiction, rate, stage, class, base, amount)."),
)
