"""``mmoq_cap``: a sample cart (``SKU quantity`` rows, base units) → the violations under the live
caps and under the live caps with this draft in place of its live revision, side by side.

The buyer is given as slugs (channel, account, customer group) for the caps' ``scope``; the
30-day window is counted as empty (the preview has no customer's order history).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules.mmoq import MmoqCap
from rules.mmoq_limits import Source, resolve, violations
from sqlmodel import select

from runtime.carts.lines import MAX_LINE_BASE_UNITS
from runtime.catalog.models import Product, ProductVariant
from runtime.mmoq.caps import fallback, live_caps
from runtime.mmoq.facts import variant_fact

#: How the draft is named where a limit's source is shown.
DRAFT = "draft"


@dataclass(frozen=True)
class Row:
    line: int
    sku: str
    quantity: int | None
    error: str | None = None


def parse_rows(text: str) -> list[Row]:
    """``SKU quantity`` (space, tab, comma or semicolon between) per line; blank lines skipped."""
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.replace(",", " ").replace(";", " ").split()
        if not parts:
            continue
        # ASCII digits only: str.isdigit() admits '²', which int() refuses.
        if len(parts) != 2 or not parts[1].isascii() or not parts[1].isdigit() or not parts[1].strip("0"):
            rows.append(Row(number, parts[0], None, f"line {number}: expected 'SKU quantity' with a positive "
                                                    f"whole quantity, got {raw.strip()[:80]!r}"))
            continue
        if len(parts[1].lstrip("0")) > 7 or int(parts[1]) > MAX_LINE_BASE_UNITS:  # what a cart line accepts
            rows.append(Row(number, parts[0], None, f"line {number}: at most {MAX_LINE_BASE_UNITS} per line, "
                                                    f"got {parts[1][:24]}"))
            continue
        rows.append(Row(number, parts[0], int(parts[1])))
    return rows


def _violations(caps: list[tuple[MmoqCap, Source]], variant, product, quantity: int,
                customer: dict[str, str]) -> list[dict[str, Any]]:
    fact = variant_fact(variant, product)
    applying = sorted(((cap, source) for cap, source in caps if cap.applies(fact, customer)),
                      key=lambda pair: pair[0].name)
    resolved = resolve([(source, cap.limits) for cap, source in applying], fallback(variant))
    return [{"code": v.code, "limit_name": v.name, "limit": v.limit, "allowed": v.allowed,
             "by": (f"{v.source.definition} ({DRAFT})" if v.source.revision is None and v.source.definition
                    else f"{v.source.definition} r{v.source.revision}" if v.source.definition else "variant's own")}
            for v in violations(resolved, quantity)]


def preview(app, session, draft: MmoqCap, live: MmoqCap | None, form) -> dict[str, Any]:
    live_set = list(live_caps(app).caps)
    draft_set = [pair for pair in live_set if pair[0].name != draft.name] + [(draft, Source(draft.name, None))]
    customer = {key: form.get(f"scope_{key}", "").strip() for key in ("channel", "account", "customer_group")}
    customer = {key: value for key, value in customer.items() if value}
    rows = parse_rows(form.get("cart_rows", ""))
    skus = [row.sku for row in rows if row.error is None]
    found = {v.sku: (v, p) for v, p in session.exec(
        select(ProductVariant, Product).join(Product, Product.id == ProductVariant.product_id)
        .where(ProductVariant.sku.in_(skus)))} if skus else {}
    lines = []
    for row in rows:
        if row.error is None and row.sku not in found:
            row = Row(row.line, row.sku, row.quantity, f"line {row.line}: no variant with SKU {row.sku!r}")
        if row.error:
            lines.append({"sku": row.sku, "quantity": row.quantity, "error": row.error})
            continue
        variant, product = found[row.sku]
        lines.append({"sku": row.sku, "quantity": row.quantity, "name": variant.name or product.name,
                      "live": _violations(live_set, variant, product, row.quantity, customer),
                      "draft": _violations(draft_set, variant, product, row.quantity, customer)})
    return {"lines": lines, "customer": customer, "cart_rows": form.get("cart_rows", ""),
            "has_live": live is not None}
