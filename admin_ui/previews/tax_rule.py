"""``tax_rule``: a sample cart shipped to an address, taxed line by line under the live tax rules
and under the live rules with this draft in place of its live revision, side by side.

The sample is ``SKU quantity`` rows (priced in the channel for the buyer, live promotions applied)
or a cart (by the number the preview lists recent carts with, or its GraphQL id): its lines,
discounts, buyer, shipping and address, as the cart shows them. Both sides go through what
stage 400 uses: the same line facts and classification (:mod:`rules.tax_rule`),
:func:`runtime.tax.stage.charge_lines` (each line on what is paid after discounts) and the pure
calculation (:mod:`rules.tax`) over the channel's rate tables and settings
(inclusive or exclusive, rounding, the EU reverse charge). A channel whose checkout asks a
``tax_provider`` pack is still previewed on the tables: the pack gets the class the rules set.
Nothing is written.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rules.tax import TaxableLine, TaxResult, calculate
from rules.tax_jurisdictions import AddressError
from rules.tax_rule import Classification, TaxRule, classify, ordered
from rules.tax_vat import reverse_charge
from sqlmodel import Session

from admin_ui.previews import tax_sample
from runtime.channels.providers import providers
from runtime.definitions.live import live_definitions
from runtime.money import Money, minor_units
from runtime.promotions.facts import buyer_facts, line_facts
from runtime.tax import service
from runtime.tax.classes import KIND, ship_to_fact
from runtime.tax.stage import charge_lines

#: How the draft's revision is written where a rule is named (``name@draft``).
DRAFT = "draft"


def rule_sets(app, draft: TaxRule) -> dict[str, list[tuple[TaxRule, str]]]:
    """``live`` and ``draft``: each rule with the revision it is named by."""
    live = [(d.compiled, str(d.revision)) for d in live_definitions(app).all(KIND)]
    drafted = [pair for pair in live if pair[0].name != draft.name] + [(draft, DRAFT)]
    return {"live": live, "draft": drafted}


def preview(app, session: Session, draft: TaxRule, live: TaxRule | None, form) -> dict[str, Any]:
    shown: dict[str, Any] = {"name": draft.name, "has_live": live is not None, "sample": None, "money": money,
                             "recent_carts": tax_sample.recent_carts(session)}
    if any(form.get(key, "").strip() for key in tax_sample.CART_FIELDS):
        shown["sample"] = taxed_sample(app, session, draft, form)
    return shown


def taxed_sample(app, session: Session, draft: TaxRule, form) -> dict[str, Any]:
    given = tax_sample.read(app, session, form)
    if isinstance(given, list):
        return {"problems": given}
    settings = service.channel_settings(session, given.channel.id)
    geography, rates = service.tables(session, given.address["country"])
    try:
        jurisdictions = geography.resolve(given.address)
    except AddressError as exc:
        return {"problems": [f"{tax_sample.ADDRESS_FIELDS[exc.field]}: {str(exc).split(': ', 1)[1]}"]}
    country = given.address["country"]
    charge = reverse_charge(destination=country, seller=settings.seller_country, vat_number=given.tax_id)
    base = _base_fact(session, given)
    facts = line_facts(session, given.priced_lines)
    shipping = None if given.shipping is None else given.shipping - given.priced.shipping_discount
    sides = {}
    for side, rules in rule_sets(app, draft).items():
        classified = _classes(rules, base, facts, given)
        taxable = [TaxableLine(c.id, c.amount, c.quantity, c.tax_class, c.excise_category, c.volume, c.weight, c.rule)
                   for c in charge_lines(given.lines, given.variants, given.priced, classified)]
        if shipping:
            taxable.append(TaxableLine(service.SHIPPING, shipping, is_shipping=True))
        sides[side] = (taxable, calculate(taxable, jurisdictions, rates, day=given.at.date(),
                                          places=minor_units(given.currency), allocate=_allocator(given.currency),
                                          inclusive=settings.prices_include_tax,
                                          per_total=settings.rounding == "total", reverse_charge=charge))
    return {"currency": given.currency, "channel": given.channel.slug, "at": given.at, "cart": given.cart_token,
            "address": given.address, "buyer": given.buyer_label, "tax_id": given.tax_id,
            "inclusive": settings.prices_include_tax, "rounding": settings.rounding, "reverse_charge": charge,
            "seller_country": settings.seller_country,
            "provider": next((p.key for p in providers(session, given.channel.id, service.TAX_PROVIDER_SLOT)), None),
            "jurisdictions": [{"code": j.code, "level": j.level, "name": j.name, "shipping_taxable": j.shipping_taxable}
                              for j in jurisdictions],
            "lines": _lines(given, sides, draft, base, facts), "totals": {side: _totals(taxable, result, settings)
                                                                        for side, (taxable, result) in sides.items()}}


def _base_fact(session: Session, given: tax_sample.Sample) -> dict[str, Any]:
    """What a rule reads besides the line, built as :func:`runtime.tax.classes.classes` builds it."""
    found = buyer_facts(session, given.buyer)
    account = {key: value for key, value in (("id", found.get("account_id")), ("slug", found.get("account")),
                                             ("group", found.get("customer_group")), ("tax_id", given.tax_id)) if value}
    return {"customer": found["customer"], "account": account, "ship_to": ship_to_fact(given.address)}


def _classes(rules: list[tuple[TaxRule, str]], base: dict[str, Any], facts: list[dict[str, Any]],
             given: tax_sample.Sample) -> dict[str, Classification]:
    revisions = {rule.name: revision for rule, revision in rules}
    chosen = ordered(rule for rule, _revision in rules)
    found = {}
    for line, fact in zip(given.lines, facts):
        result = classify(chosen, {**base, "line": fact}, given.at)
        if result.rule or result.excise_rule:
            found[line.id] = Classification(result.tax_class, result.excise_category, _named(result.rule, revisions),
                                            _named(result.excise_rule, revisions), result.certificate)
    return found


def _named(name: str | None, revisions: Mapping[str, str]) -> str | None:
    return f"{name}@{revisions[name]}" if name else None


def _lines(given: tax_sample.Sample, sides, draft: TaxRule, base: dict[str, Any], facts) -> list[dict[str, Any]]:
    """One row per cart line (and shipping): what is taxed, and each side's class, rule and taxes."""
    rows = []
    explained = {line.id: draft.predicate.explain({**base, "line": fact}) for line, fact in zip(given.lines, facts)}
    skus = {line.id: given.variants[line.variant_id][0].sku if line.variant_id in given.variants else "?"
            for line in given.lines}
    for index, taxable in enumerate(sides["live"][0]):
        row: dict[str, Any] = {"id": taxable.id, "sku": skus.get(taxable.id, "shipping"),
                               "quantity": taxable.quantity if not taxable.is_shipping else None,
                               "amount": taxable.amount, "shipping": taxable.is_shipping}
        for side, (lines, result) in sides.items():
            line = lines[index]
            taxes = [t for t in result.lines if t.line_id == line.id]
            row[side] = {"class": line.tax_class, "excise": line.excise_category, "rule": line.rule,
                         "tax": result.line_tax(line.id), "net": result.net[line.id],
                         "taxes": [{"jurisdiction": t.jurisdiction, "level": t.level, "rate": t.rate, "stage": t.stage,
                                    "compound": t.compound, "excise_unit": t.excise_unit, "base": t.base,
                                    "amount": t.amount} for t in taxes]}
        row["difference"] = row["draft"]["tax"] - row["live"]["tax"]
        if taxable.id in explained:
            row["explain"] = str(explained[taxable.id])
        rows.append(row)
    return rows


def _totals(taxable: list[TaxableLine], result: TaxResult, settings) -> dict[str, Decimal]:
    paid = sum((line.amount for line in taxable), Decimal(0))
    return {"tax": result.total, "net": sum(result.net.values(), Decimal(0)),
            "total": paid if settings.prices_include_tax else paid + result.total}


def _allocator(currency: str):
    def allocate(total: Decimal, weights) -> list[Decimal]:
        return [part.amount for part in Money(total, currency).allocate(list(weights))]
    return allocate


def money(amount: Decimal, currency: str) -> str:
    return format(Money(amount, currency).amount, "f")
