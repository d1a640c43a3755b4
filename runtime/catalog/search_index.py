"""The product search document and the full-text index that serves text search.

Each product keeps one ``search_document`` (name, description, SKUs and variant names, brand
name, every translation). PostgreSQL matches it through a GIN index on
``to_tsvector('simple', search_document)``; SQLite mirrors it into the FTS5 table
``product_search`` (rowid = product id). Both are created by migration ``4a0c0a000004`` and are
not part of the SQLModel metadata, so the autogenerate comparator below keeps Alembic from
reporting them as tables or indexes to drop.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from alembic.autogenerate import comparators
from alembic.operations import ops
from alembic.util import DispatchPriority, PriorityDispatchResult
from sqlalchemy import func, literal_column, select as sa_select, text
from sqlmodel import Session, select

from runtime.catalog.models import Brand, Product, ProductTranslation, ProductVariant

#: The SQLite FTS5 table and the shadow tables FTS5 creates beside it.
FTS_TABLE = "product_search"
FTS_TABLES = frozenset({FTS_TABLE, *(f"{FTS_TABLE}_{s}" for s in ("data", "idx", "content", "docsize", "config"))})
#: The PostgreSQL expression index (its expression must match :func:`match_clause`'s exactly).
PG_INDEX = "ix_product_search_document"

#: Words: runs of letters and digits. Documents are stored as these words (``TS-RED-M`` as
#: ``ts red m``) so both backends' tokenizers see the same words a query is split into, and no
#: query syntax leaks (PostgreSQL's parser would otherwise read ``-18`` as a signed integer).
WORD = re.compile(r"[^\W_]+", re.UNICODE)


def search_words(query: str) -> list[str]:
    return [w.lower() for w in WORD.findall(query or "")]


def document(product: Product, variants: Iterable[ProductVariant], brand: Brand | None,
             translations: Iterable[ProductTranslation]) -> str:
    parts = [product.name, product.description, brand.name if brand else ""]
    for variant in variants:
        parts += [variant.sku, variant.name]
    for translation in translations:
        parts += [translation.name, translation.description]
    return "\n".join(" ".join(search_words(p)) for p in parts if p)


def reindex(session: Session, product_ids: Iterable[int]) -> None:
    """Recompute the search document of ``product_ids`` (after create, update or a translation)."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    session.flush()
    products = session.exec(select(Product).where(Product.id.in_(ids))).all()
    variants = session.exec(select(ProductVariant).where(ProductVariant.product_id.in_(ids))
                            .order_by(ProductVariant.position, ProductVariant.id)).all()
    translations = session.exec(select(ProductTranslation).where(ProductTranslation.product_id.in_(ids))
                                .order_by(ProductTranslation.locale)).all()
    brand_ids = {p.brand_id for p in products if p.brand_id is not None}
    brands = {b.id: b for b in session.exec(select(Brand).where(Brand.id.in_(brand_ids)))} if brand_ids else {}
    sqlite = session.get_bind().dialect.name == "sqlite"
    for product in products:
        product.search_document = document(
            product, [v for v in variants if v.product_id == product.id], brands.get(product.brand_id),
            [t for t in translations if t.product_id == product.id])
        session.add(product)
        if sqlite:
            # Delete first: ids are reused after rows are deleted, and FTS5 has no upsert.
            session.exec(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id").bindparams(id=product.id))
            session.exec(text(f"INSERT INTO {FTS_TABLE} (rowid, document) VALUES (:id, :doc)")
                         .bindparams(id=product.id, doc=product.search_document))
    session.flush()


def match_clause(dialect: str, query: str):
    """A where-clause on :class:`Product` for products matching every word of ``query`` (as a
    prefix: ``blu`` finds ``blue``), or ``None`` when the query has no words."""
    words = search_words(query)
    if not words:
        return None
    if dialect == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        return func.to_tsvector(literal_column("'simple'"), Product.search_document).op("@@")(
            func.to_tsquery(literal_column("'simple'"), tsquery))
    fts = " ".join(f'"{w}"*' for w in words)
    matching = sa_select(literal_column("rowid")).select_from(text(FTS_TABLE)).where(
        text(f"{FTS_TABLE} MATCH :fts").bindparams(fts=fts))
    return Product.id.in_(matching)


@comparators.dispatch_for("schema", priority=DispatchPriority.LAST)
def _ignore_search_objects(autogen_context, upgrade_ops, schemas) -> PriorityDispatchResult:
    """Keep autogenerate (and the models-equal-migrations test) from dropping the search index."""
    def kept(op) -> bool:
        if isinstance(op, ops.DropTableOp):
            return op.table_name not in FTS_TABLES
        if isinstance(op, ops.DropIndexOp):
            return op.index_name != PG_INDEX
        if isinstance(op, ops.ModifyTableOps):
            op.ops = [o for o in op.ops if kept(o)]
            return bool(op.ops)
        return True

    upgrade_ops.ops = [op for op in upgrade_ops.ops if kept(op)]
    return PriorityDispatchResult.CONTINUE
