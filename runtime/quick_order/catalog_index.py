"""The catalog as the parse-to-cart parser reads it: per channel, every sellable variant with its
SKU, names (the product's, the variant's, the translations') and its product's package ladder.

Built once per channel and kept in the app; a parse first reads the catalog's stamp (one
aggregate query over variants, products, listings, ladders and translations) and rebuilds only
when a product changed since, never per request.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import func, true
from sqlmodel import Session, select

from runtime.catalog.models import Product, ProductChannel, ProductTranslation, ProductVariant
from runtime.catalog.reads import visible_products_clause
from runtime.clock import utcnow
from runtime.packaging.models import Package, ProductPackage

EXTENSION = "vectis.quick_order.index"
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def words_key(text: str) -> str:
    """A name as compared: lowercase words without a plural ``s`` (``blue mugs`` and ``Mug Blue`` meet)."""
    return " ".join(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
                    for word in re.findall(r"[^\W_]+", text.lower()))


def variant_parts(name: str) -> list[str]:
    """A variant's name and, for ``S / red``, each part alone: a buyer writes the size or the colour."""
    parts = [part.strip() for part in (name or "").split("/") if part.strip()]
    return [name or "", *parts] if len(parts) > 1 else [name or ""]


def sku_key(text: str) -> str:
    """A SKU as compared: lowercase, without separators (``mug 1`` and ``MUG-1`` meet)."""
    return _NOT_ALNUM.sub("", text.lower())


@dataclass(frozen=True)
class Entry:
    variant_id: int
    sku: str
    product_id: int
    #: Lowercased names to match: "product variant", the product's, translations.
    names: tuple[str, ...]
    #: Package slug → base units, and every word that names a package (slug, its name) → slug.
    ladder: dict[str, int] = field(default_factory=dict)


@dataclass
class CatalogIndex:
    entries: list[Entry]
    stamp: tuple = ()
    by_sku: dict[str, Entry] = field(init=False)
    #: One row per (name, entry) for fuzzy matching, and the package words of the whole catalog.
    names: list[str] = field(init=False)
    name_entries: list[list[Entry]] = field(init=False)
    sku_keys: list[str] = field(init=False)
    package_words: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_sku = {sku_key(entry.sku): entry for entry in self.entries}
        self.sku_keys = list(self.by_sku)
        # Each distinct name once, its words sorted: a token-sort comparison becomes a plain
        # ratio, and a product name shared by its variants is scored once per query.
        positions: dict[str, int] = {}
        self.names, self.name_entries = [], []
        for entry in self.entries:
            for name in entry.names:
                key = " ".join(sorted(words_key(name).split()))
                if key not in positions:
                    positions[key] = len(self.names)
                    self.names.append(key)
                    self.name_entries.append([])
                self.name_entries[positions[key]].append(entry)


def stamp(session: Session) -> tuple:
    """What changes when a product, variant, listing, ladder or translation does (the catalog's
    services bump ``Product.updated_at`` on every product edit)."""
    return tuple(session.execute(select(
        select(func.count(ProductVariant.id)).scalar_subquery(), select(func.max(ProductVariant.id)).scalar_subquery(),
        select(func.max(Product.updated_at)).scalar_subquery(), select(func.count(Product.id)).scalar_subquery(),
        select(func.count(ProductChannel.product_id)).scalar_subquery(),
        select(func.count(ProductPackage.id)).scalar_subquery(), select(func.sum(ProductPackage.multiplier)).scalar_subquery(),
        select(func.count(ProductTranslation.product_id)).scalar_subquery(),
        select(func.count(ProductVariant.id)).where(ProductVariant.is_active == true()).scalar_subquery(),
        select(func.count(Product.id)).where(Product.is_published == true()).scalar_subquery(),
    )).one())


def build(session: Session, channel_id: int, at_stamp: tuple = ()) -> CatalogIndex:
    rows = session.exec(select(ProductVariant, Product).join(Product, Product.id == ProductVariant.product_id)
                        .where(ProductVariant.is_active == true(), visible_products_clause(channel_id, utcnow()))
                        .order_by(ProductVariant.id)).all()
    product_ids = {product.id for _variant, product in rows}
    ladders: dict[int, dict[str, int]] = {}
    words: dict[str, str] = {}
    translations: dict[int, list[str]] = {}
    if product_ids:
        for rung, package in session.exec(select(ProductPackage, Package).join(Package, Package.id == ProductPackage.package_id)
                                          .where(ProductPackage.product_id.in_(product_ids))):
            ladders.setdefault(rung.product_id, {})[package.slug] = rung.multiplier
            words[package.slug] = package.slug
            words[package.name.lower()] = package.slug
        for row in session.exec(select(ProductTranslation).where(ProductTranslation.product_id.in_(product_ids))):
            translations.setdefault(row.product_id, []).append(row.name.lower())
    entries = []
    for variant, product in rows:
        names = [product.name.lower(), *translations.get(product.id, [])]
        names = [f"{name} {part}".strip().lower() for name in names for part in variant_parts(variant.name)] + names
        entries.append(Entry(variant.id, variant.sku, product.id, tuple(dict.fromkeys(names)),
                             ladders.get(product.id, {})))
    return CatalogIndex(entries, at_stamp, package_words=words)


class IndexCache:
    """The app's indexes, one per channel, each rebuilt when the catalog's stamp moved."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indexes: dict[int, CatalogIndex] = {}
        self.builds = 0

    def get(self, session: Session, channel_id: int) -> CatalogIndex:
        current = stamp(session)
        found = self._indexes.get(channel_id)
        if found is not None and found.stamp == current:
            return found
        with self._lock:
            found = self._indexes.get(channel_id)
            if found is None or found.stamp != current:
                found = self._indexes[channel_id] = build(session, channel_id, current)
                self.builds += 1
        return found


def cache_of(app: Flask) -> IndexCache:
    return app.extensions.setdefault(EXTENSION, IndexCache())
