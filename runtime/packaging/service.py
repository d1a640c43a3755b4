"""Packages and ladders: define a package, set a product's ladder, read ladders in bulk and turn
a line's package slug into its multiplier.

A ladder maps package slugs to base units per package (``{"each": 1, "box": 12, "case": 144}``).
A line without a package counts base units (multiplier 1).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rules.suggestions import did_you_mean
from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.packaging.errors import PackagingErrorCode as Code
from runtime.packaging.models import Package, ProductPackage

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NAME_MAX = 100
#: Base units per package, at most (a pallet of 1,000,000 pieces is already generous).
MULTIPLIER_MAX = 1_000_000

Ladder = dict[str, int]


def define_package(session: Session, slug: str, name: str) -> Package:
    """A new package (or the existing one of that slug, renamed to ``name``)."""
    problems = []
    if not isinstance(slug, str) or not SLUG.match(slug):
        problems.append(BusinessError(Code.INVALID_INPUT, f"slug: expected lowercase letters, digits, '-' or '_' "
                                      f"(up to 64), got {slug!r}", field="slug"))
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        problems.append(BusinessError(Code.INVALID_INPUT, f"name: expected 1 to {NAME_MAX} characters, got {name!r}",
                                      field="name"))
    if problems:
        raise BusinessErrors(problems)
    package = session.exec(select(Package).where(Package.slug == slug)).first()
    if package is None:
        package = Package(slug=slug, name=name.strip())
    package.name = name.strip()
    session.add(package)
    session.flush()
    return package


def set_ladder(session: Session, product_id: int, rungs: Iterable[dict[str, Any]], field: str = "packages") -> Ladder:
    """Replace product ``product_id``'s ladder by ``rungs`` (``{"package": slug, "multiplier": n}``);
    every problem at once, nothing written on any."""
    from runtime.catalog.models import Product

    if session.get(Product, product_id) is None:
        raise BusinessError(Code.NOT_FOUND, f"productId: no product {product_id!r}", field="productId")
    rungs = list(rungs)
    known = {package.slug: package for package in session.exec(select(Package))}
    problems, wanted = [], {}
    for index, rung in enumerate(rungs):
        slug, multiplier = rung.get("package"), rung.get("multiplier")
        if slug not in known:
            problems.append(BusinessError(Code.UNKNOWN_PACKAGE, f"{field}.{index}.package: no package {slug!r}"
                                          f"{did_you_mean(str(slug), known)}", field=f"{field}.{index}.package"))
        elif slug in wanted:
            problems.append(BusinessError(Code.INVALID_MULTIPLIER, f"{field}.{index}.package: {slug!r} is named twice",
                                          field=f"{field}.{index}.package"))
        if isinstance(multiplier, bool) or not isinstance(multiplier, int) or not 1 <= multiplier <= MULTIPLIER_MAX:
            problems.append(BusinessError(Code.INVALID_MULTIPLIER, f"{field}.{index}.multiplier: expected a whole number "
                                          f"from 1 to {MULTIPLIER_MAX}, got {multiplier!r}",
                                          field=f"{field}.{index}.multiplier"))
        wanted.setdefault(slug, multiplier)
    if problems:
        raise BusinessErrors(problems)
    current = {row.package_id: row for row in session.exec(
        select(ProductPackage).where(ProductPackage.product_id == product_id))}
    for slug, multiplier in wanted.items():
        row = current.pop(known[slug].id, None) or ProductPackage(product_id=product_id, package_id=known[slug].id,
                                                                 multiplier=multiplier)
        if row.multiplier != multiplier or row.id is None:
            row.multiplier, row.updated_at = multiplier, utcnow()
            session.add(row)
    for row in current.values():
        session.delete(row)
    session.flush()
    return dict(wanted)


def ladders(session: Session, product_ids: Iterable[int]) -> dict[int, Ladder]:
    """Each product's ladder (``{}`` for a product without one), in one query."""
    ids = sorted(set(product_ids))
    found: dict[int, Ladder] = {product_id: {} for product_id in ids}
    if not ids:
        return found
    rows = session.exec(select(ProductPackage.product_id, Package.slug, ProductPackage.multiplier)
                        .join(Package, Package.id == ProductPackage.package_id)
                        .where(ProductPackage.product_id.in_(ids))
                        .order_by(ProductPackage.product_id, ProductPackage.multiplier, Package.slug))
    for product_id, slug, multiplier in rows:
        found[product_id][slug] = multiplier
    return found


def multiplier(ladder: Ladder, slug: str | None, field: str, sku: str) -> int:
    """Base units per ``slug`` in ``ladder`` (1 for no package); UNKNOWN_PACKAGE naming ``field``."""
    if slug is None:
        return 1
    if slug not in ladder:
        offered = ", ".join(ladder) or "none: order it in base units"
        raise BusinessError(Code.UNKNOWN_PACKAGE, f"{field}: {sku!r} has no package {slug!r} (packages: {offered})"
                            f"{did_you_mean(str(slug), ladder)}", field=field)
    return ladder[slug]
