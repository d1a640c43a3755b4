"""GraphQL: ``Product.labels``, the label index status, clearing stale function references."""
from __future__ import annotations

from ariadne import EnumType, MutationType, ObjectType, QueryType
from rules.label import STYLES, SURFACES

from runtime.errors import BusinessError
from runtime.graphql.context import context_of, query_error
from runtime.labels import index, page, references
from runtime.labels.labelset import LiveLabel

query = QueryType()
mutation = MutationType()
product_type = ObjectType("Product")
surface_enum = EnumType("LabelSurface", {surface.upper(): surface for surface in SURFACES})
style_enum = EnumType("LabelStyle", {style.upper(): style for style in STYLES})

READ, PUBLISH = "definitions.read", "definitions.publish"


def _shown(live: LiveLabel) -> dict:
    label = live.label
    return {"name": live.name, "text": label.text, "style": label.style, "color": label.color,
            "icon": label.icon, "priority": label.priority, "revision": live.revision,
            "surfaces": [surface for surface in SURFACES if label.shows_on(surface)]}


@product_type.field("labels")
def resolve_product_labels(product, info, surface: str | None = None):
    shown = info.context.__dict__.setdefault("vectis.labels.shown", {})  # one dict per label per request
    return [shown.get(id(live)) or shown.setdefault(id(live), _shown(live))
            for live in page.labels_of(info, product, surface)]


@query.field("labelIndex")
def resolve_label_index(_, info):
    ctx = context_of(info)
    ctx.require(READ)
    with ctx.reads() as session:
        return [{"label": s.label, "live_revision": s.live_revision, "indexed_revision": s.indexed_revision,
                 "stale": s.stale, "computed_at": s.computed_at, "product_count": s.product_count}
                for s in index.status(ctx.app, session)]


@mutation.field("clearProductLabelStaleReferences")
def resolve_clear_stale_references(_, info, extension_name: str):
    ctx = context_of(info)
    ctx.require(PUBLISH)
    registry = ctx.app.extensions["vectis.registry"]
    try:
        return ctx.db.run(lambda session: references.clear_stale_references(session, registry, extension_name))
    except BusinessError as exc:
        raise query_error(info, exc) from None


bindables = [query, mutation, product_type, surface_enum, style_enum]
