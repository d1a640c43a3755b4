"""Each line's tax class from the live ``tax_rule`` definitions (``rules.tax_rule``).

The fact a rule reads is built only when at least one rule is live: the line's fields (the same
line facts promotions read: sku, categories, brand, tags, prices), the customer, the account
(slug, group, tax id) and the ship-to address.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlmodel import Session

from rules.tax_rule import Classification, classify, ordered
from runtime.carts.models import Cart, CartLine
from runtime.definitions.live import live_definitions
from runtime.promotions.facts import Buyer, PricedLine, buyer_facts, line_facts

KIND = "tax_rule"


def live_rules(app: Flask):
    """``(ordered compiled rules, name → revision)`` of the live tax rules."""
    found = live_definitions(app).all(KIND)
    return ordered(d.compiled for d in found), {d.name: d.revision for d in found}


def ship_to_fact(address: Mapping[str, Any] | None) -> dict[str, Any]:
    if not address:
        return {}
    country = str(address.get("country") or "").upper()
    region = str(address.get("region") or "").upper()
    if region and not region.startswith(country + "-"):
        region = f"{country}-{region}"
    fact = {"country": country, "region": region, "postal_code": address.get("postal_code") or address.get("postalCode"),
            "city": address.get("city")}
    return {key: value for key, value in fact.items() if value}


def classes(session: Session, app: Flask, cart: Cart, lines: Sequence[CartLine], address: Mapping[str, Any] | None,
            tax_id: str | None, at: datetime) -> dict[str, Classification]:
    """Cart line id → its classification; lines no rule selects are absent (standard)."""
    rules, revisions = live_rules(app)
    if not rules or not lines:
        return {}
    buyer = buyer_facts(session, Buyer(cart.customer_id, cart.account_id, cart.user_id, cart.email))
    account = {key: value for key, value in (("id", buyer.get("account_id")), ("slug", buyer.get("account")),
                                             ("group", buyer.get("customer_group")), ("tax_id", tax_id)) if value}
    base = {"customer": buyer["customer"], "account": account, "ship_to": ship_to_fact(address)}
    facts = line_facts(session, [PricedLine(str(line.id), line.variant_id, line.quantity, Decimal(line.unit_price))
                                 for line in lines])
    found = {}
    for line, fact in zip(lines, facts):
        result = classify(rules, {**base, "line": fact}, at)
        if result.rule or result.excise_rule:
            found[str(line.id)] = _with_revisions(result, revisions)
    return found


def _with_revisions(result: Classification, revisions: dict[str, int]) -> Classification:
    def named(name: str | None) -> str | None:
        return f"{name}@{revisions[name]}" if name else None
    return Classification(result.tax_class, result.excise_category, named(result.rule), named(result.excise_rule),
                          result.certificate)
