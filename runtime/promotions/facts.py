"""Cart facts (``schemas/facts/cart.schema.json``) for the promotion engine, built in a fixed
number of statements whatever the number of lines: the lines' variants, products, brands and
categories in one, the categories' ancestors in one, the buyer's group and account in one."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from runtime.accounts.models import Account, Customer, CustomerGroup
from runtime.catalog.models import Brand, Category, Product, ProductVariant
from runtime.channels.models import Channel


@dataclass(frozen=True)
class PricedLine:
    """What the engine needs of a line, from a cart line or a placed order's line."""

    id: str
    variant_id: int | None
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Buyer:
    customer_id: int | None = None
    account_id: int | None = None
    user_id: int | None = None
    email: str | None = None

    @property
    def usage_key(self) -> str | None:
        """Who a per-customer limit counts: the customer, else the account, the user, the e-mail."""
        for prefix, value in (("c", self.customer_id), ("a", self.account_id), ("u", self.user_id)):
            if value is not None:
                return f"{prefix}{value}"
        return f"e{self.email.strip().lower()}" if self.email else None


def number(amount: Decimal) -> float:
    """An amount as predicates read it (a JSON number, major units); the engine reads it back
    exactly (``Decimal(str(x))``: every amount of at most 15 significant digits survives)."""
    return float(amount.normalize())


def line_facts(session: Session, lines: Sequence[PricedLine]) -> list[dict[str, Any]]:
    """One fact per line: sku, product, name, category (and ancestors), brand, tags, prices."""
    ids = sorted({line.variant_id for line in lines if line.variant_id is not None})
    rows = {}
    if ids:
        statement = (select(ProductVariant.id, ProductVariant.sku, Product.id, Product.name, Product.tags,
                            Category.slug, Category.path, Brand.slug)
                     .join(Product, Product.id == ProductVariant.product_id)
                     .outerjoin(Category, Category.id == Product.category_id)
                     .outerjoin(Brand, Brand.id == Product.brand_id)
                     .where(ProductVariant.id.in_(ids)))
        rows = {row[0]: row for row in session.execute(statement)}
    ancestors = _ancestor_slugs(session, [row[6] for row in rows.values() if row[6]])
    facts = []
    for line in lines:
        row = rows.get(line.variant_id)
        fact: dict[str, Any] = {"id": line.id, "quantity": line.quantity, "unit_price": number(line.unit_price),
                                "total": number(line.unit_price * line.quantity), "discount": 0.0}
        if row is not None:
            _vid, sku, product_id, name, tags, category, path, brand = row
            fact.update({"sku": sku, "variant_id": str(line.variant_id), "product_id": str(product_id), "name": name,
                         "tags": list(tags or [])})
            if category:
                fact["category"] = category
                fact["categories"] = [ancestors[i] for i in _path_ids(path) if i in ancestors]
            if brand:
                fact["brand"] = brand
        facts.append(fact)
    return facts


def _path_ids(path: str | None) -> list[int]:
    return [int(part) for part in (path or "").split("/") if part.isdigit()]


def _ancestor_slugs(session: Session, paths: list[str]) -> dict[int, str]:
    ids = sorted({i for path in paths for i in _path_ids(path)})
    if not ids:
        return {}
    return dict(session.execute(select(Category.id, Category.slug).where(Category.id.in_(ids))).all())


def buyer_facts(session: Session, buyer: Buyer) -> dict[str, Any]:
    """``customer_id``, ``account_id``, ``account`` (slug), ``customer_group`` (slug) and
    ``customer`` (the customer fact's id, account_id, email, group, is_b2b)."""
    found: dict[str, Any] = {}
    found.update(_ids(session, buyer))
    customer = {"is_b2b": buyer.account_id is not None}
    for key, source in (("id", "customer_id"), ("account_id", "account_id"), ("group", "customer_group")):
        if source in found:
            customer[key] = found[source]
    if buyer.email:
        customer["email"] = buyer.email
    found["customer"] = customer
    return found


def _ids(session: Session, buyer: Buyer) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if buyer.customer_id is not None:
        found["customer_id"] = str(buyer.customer_id)
        group = session.execute(select(CustomerGroup.slug).join(Customer, Customer.customer_group_id == CustomerGroup.id)
                                .where(Customer.id == buyer.customer_id)).scalar_one_or_none()
        if group:
            found["customer_group"] = group
    if buyer.account_id is not None:
        group_alias = aliased(CustomerGroup)
        row = session.execute(select(Account.slug, group_alias.slug)
                              .outerjoin(group_alias, group_alias.id == Account.customer_group_id)
                              .where(Account.id == buyer.account_id)).first()
        found["account_id"] = str(buyer.account_id)
        if row is not None:
            found["account"] = row[0]
            if row[1] and "customer_group" not in found:
                found["customer_group"] = row[1]
    return found


def cart_fact(session: Session, *, channel: Channel, currency: str, lines: Sequence[PricedLine], buyer: Buyer,
              coupon_codes: Sequence[str] = (), cart_id: str | None = None) -> dict[str, Any]:
    facts = line_facts(session, lines)
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    fact: dict[str, Any] = {"currency": currency, "channel": channel.slug, "lines": facts, "subtotal": number(subtotal),
                            "discount_total": 0.0, "item_count": sum(line.quantity for line in lines),
                            "line_count": len(lines), "coupon_codes": [code.upper() for code in coupon_codes]}
    if cart_id is not None:
        fact["id"] = cart_id
    fact.update(buyer_facts(session, buyer))
    return fact
