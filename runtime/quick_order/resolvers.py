"""GraphQL of bulk cart line operations and lines saved for later."""
from __future__ import annotations

import base64
import binascii

from ariadne import MutationType, ObjectType, QueryType
from flask import current_app
from sqlmodel import select

from runtime.carts.resolvers import remember
from runtime.catalog.models import ProductVariant
from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload
from runtime.quick_order import entry, ocr, parse, saved, sheet
from runtime.quick_order.models import CartSavedLine

query = QueryType()
mutation = MutationType()
cart_type = ObjectType("Cart")
saved_type = ObjectType("SavedCartLine")
outcome_type = ObjectType("CartLineOutcome")
restore_type = ObjectType("RestoreSavedCartLinePayload")
bulk_type = ObjectType("BulkCartLinesPayload")
CACHE = "vectis.quick_order.saved"


def _outcome(outcome: saved.Outcome) -> dict:
    return {"line_id": outcome.line_id, "ok": outcome.ok, "saved_line": outcome.saved,
            "errors": [error.as_dict() for error in outcome.errors]}


def _bulk(info, work, cart_id: str, line_ids: list) -> dict:
    ctx = context_of(info)
    cart, outcomes = ctx.db.run(lambda session: work(session, ctx.actor, cart_id, line_ids))
    remember(info, cart)
    return {"cart": cart, "results": [_outcome(outcome) for outcome in outcomes]}


@mutation.field("bulkRemoveCartLines")
@payload
def resolve_bulk_remove(_, info, cart_id: str, line_ids: list):
    return _bulk(info, saved.bulk_remove, cart_id, line_ids)


@mutation.field("bulkSaveCartLinesForLater")
@payload
def resolve_bulk_save(_, info, cart_id: str, line_ids: list):
    return _bulk(info, saved.bulk_save, cart_id, line_ids)


@mutation.field("restoreSavedCartLine")
@payload
def resolve_restore(_, info, cart_id: str, saved_line_id: str):
    ctx = context_of(info)
    restored = ctx.db.run(lambda session: saved.restore(session, ctx.actor, cart_id, saved_line_id))
    remember(info, restored.cart)
    return {"cart": restored.cart, "line": restored.line, "unit_changed": restored.unit_changed,
            "previous_multiplier": restored.previous_multiplier, "multiplier": restored.multiplier}


@bulk_type.field("results")
def resolve_results(result: dict, _info):
    return result.get("results") or []  # a refused call answers with its errors only


@restore_type.field("unitChanged")
def resolve_unit_changed(result: dict, _info):
    return bool(result.get("unit_changed"))


@restore_type.field("violations")
def resolve_violations(result: dict, _info):
    return [error["mmoq"] for error in result.get("errors", []) if error.get("mmoq")]


@cart_type.field("savedForLater")
def resolve_saved_for_later(cart, info):
    """The saved lines of every cart the request answers with, in one query."""
    found = info.context.__dict__.setdefault(CACHE, {})
    if cart.id not in found:
        wanted = {cart.id} | set(info.context.__dict__.get("vectis.carts", {}).get("carts", {}))
        wanted -= set(found)
        with context_of(info).reads() as session:
            rows = session.exec(select(CartSavedLine).where(CartSavedLine.cart_id.in_(wanted))
                                .order_by(CartSavedLine.id)).all()
        found.update({cart_id: [] for cart_id in wanted})
        for row in rows:
            found[row.cart_id].append(row)
    return found[cart.id]


@saved_type.field("variant")
def resolve_saved_variant(row: CartSavedLine, info):
    found = info.context.__dict__.setdefault("vectis.quick_order.variants", {})
    if row.variant_id not in found:
        pending = {r.variant_id for rows in info.context.__dict__.get(CACHE, {}).values() for r in rows}
        pending = (pending | {row.variant_id}) - set(found)
        with context_of(info).reads() as session:
            found.update({v.id: v for v in session.exec(select(ProductVariant).where(ProductVariant.id.in_(pending)))})
    return found[row.variant_id]


@query.field("quickOrderRows")
@payload
def resolve_quick_order_rows(_, info, input: dict):
    ctx = context_of(info)
    text, upload = input.get("text"), input.get("file")
    if (text is None) == (upload is None):
        raise BusinessError(Code.INVALID_INPUT, "input: give either text or file, exactly one", field="input")
    if ctx.channel is None:
        raise BusinessError(Code.CHANNEL_REQUIRED, "X-Channel-Slug: name the channel to order in (there is no default "
                            "channel)", field="X-Channel-Slug")
    if text is not None:
        read, where = sheet.from_text(text), "input.text"
    else:
        read, where = sheet.from_file(upload["filename"], _decoded(upload["content_base_64"]), "input.file"), "input.file"
    with ctx.reads() as session:
        rows = entry.resolve(session, ctx.channel.id, read, where)
    return {"header": read.header, "rows": [
        {"row": row.source.row, "text": row.source.text, "identifier": row.source.identifier, "variant": row.variant,
         "quantity": row.source.quantity, "package": row.package if row.variant else row.source.package,
         "multiplier": row.source.multiplier, "alternatives": row.alternatives,
         "errors": [error.as_dict() for error in row.errors]} for row in rows]}


def _decoded(content: str, where: str = "input.file.contentBase64") -> bytes:
    if len(content) > sheet.FILE_MAX_BYTES * 4 // 3 + 4:
        raise BusinessError(Code.INVALID_INPUT, f"{where}: a file holds at most {sheet.FILE_MAX_BYTES} bytes", field=where)
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise BusinessError(Code.INVALID_INPUT, f"{where}: not base64", field=where) from None


@query.field("cartAiParseToLookupItems")
@payload
def resolve_parse(_, info, input: dict):
    ctx = context_of(info)
    if ctx.channel is None:
        raise BusinessError(Code.CHANNEL_REQUIRED, "X-Channel-Slug: name the channel to order in (there is no default "
                            "channel)", field="X-Channel-Slug")
    text, image = input.get("text"), input.get("image")
    if (text is None) == (image is None):
        raise BusinessError(Code.INVALID_INPUT, "input: give either text or image, exactly one", field="input")
    where = "input.text"
    if image is not None:  # a photo: its text, read by Tesseract, goes through the same providers
        where = "input.image"
        text = ocr.image_text(_decoded(image["content_base_64"], "input.image.contentBase64"), where)
    with ctx.reads() as session:
        answer = parse.parse_text(current_app, session, ctx.channel.id, text, where)
        wanted = {e.variant_id for _line, entry_, alts in answer.items for e in (entry_, *alts)}
        variants = {v.id: v for v in session.exec(select(ProductVariant).where(ProductVariant.id.in_(wanted)))} \
            if wanted else {}
    return {"provider": answer.provider, "unparsed": answer.unparsed,
            "attempts": [{"provider": a.provider, "error": a.error} for a in answer.attempts],
            "items": [{"variant": variants[found.variant_id], "sku": found.sku, "quantity": line.quantity,
                       "package": line.package, "confidence": line.confidence, "source": line.source,
                       "source_start": line.start, "source_end": line.end,
                       "alternatives": [variants[a.variant_id] for a in alternatives]}
                      for line, found, alternatives in answer.items]}


parse_type = ObjectType("CartAIParsePayload")
for _name in ("items", "unparsed", "attempts"):
    parse_type.set_field(_name, lambda result, _info, _name=_name: result.get(_name) or [])
rows_type = ObjectType("QuickOrderRowsPayload")
rows_type.set_field("rows", lambda result, _info: result.get("rows") or [])
saved_type.set_alias("package", "package_slug")
saved_type.set_alias("savedAt", "created_at")

bindables = [query, rows_type, parse_type, mutation, cart_type, saved_type, outcome_type, restore_type, bulk_type]
