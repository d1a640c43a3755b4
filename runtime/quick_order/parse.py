"""``cartAiParseToLookupItems``: free text through the channel's ``cart_parse_provider``s.

The providers are tried in the channel's priority (its ``cart_parse_provider`` rows in position
order, ``setChannelProvider``), then the core catalog parser, which is always there; a provider
that raises or answers something that is not a ``ParseResult`` is recorded with the reason and
the next one is tried. Every line a provider answers is checked against the channel's catalog
index (its SKU sold here, its quantity a whole number, its package on the ladder) before it is
shown: a line that fails is unparsed with the reason. Nothing is written.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from flask import Flask
from sqlmodel import Session

from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.carts.lines import MAX_LINE_BASE_UNITS
from runtime.channels.providers import providers
from runtime.errors import BusinessError, BusinessErrors
from runtime.packs.protocols import ParsedLine, ParseResult, ProviderError, ProviderErrorCode
from runtime.quick_order import catalog_parser
from runtime.quick_order.catalog_index import CatalogIndex, Entry, cache_of, sku_key
from runtime.quick_order.sheet import TEXT_MAX_CHARS

SLOT = "cart_parse_provider"
CATALOG_KEY = "core.cart_parse_provider.catalog"
_INDEX: ContextVar[CatalogIndex | None] = ContextVar("vectis.quick_order.index", default=None)


class CatalogParseProvider:
    """The core provider: no network, the channel's catalog index of the running parse."""

    def parse(self, text: str, config: dict) -> ParseResult:
        index = _INDEX.get()
        if index is None:
            raise ProviderError(ProviderErrorCode.PROVIDER_UNAVAILABLE, "the catalog parser runs inside a parse "
                                "request (no catalog index here)")
        found = catalog_parser.parse(index, text)
        return ParseResult(tuple(ParsedLine(item.entry.sku, item.quantity, item.source, item.package, item.confidence,
                                            item.start, item.end, tuple(e.sku for e in item.alternatives))
                                 for item in found.items),
                           tuple(f"{source}: {reason}" for source, reason in found.unparsed))


@dataclass
class Attempt:
    provider: str
    error: str | None = None


@dataclass
class ParseAnswer:
    provider: str | None
    items: list[tuple[ParsedLine, Entry, list[Entry]]] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)


def register(app: Flask) -> None:
    app.extensions["vectis.registry"].register("core", SLOT, "catalog", CatalogParseProvider(),
                                               label="Catalog parser: SKUs, names and packages of the channel's catalog")


def parse_text(app: Flask, session: Session, channel_id: int, text: object, field_name: str = "input.text") -> ParseAnswer:
    if not isinstance(text, str) or not text.strip():
        raise BusinessError(Code.INVALID_INPUT, f"{field_name}: give the order's text (it is empty)", field=field_name)
    if len(text) > TEXT_MAX_CHARS:
        raise BusinessError(Code.INVALID_INPUT, f"{field_name}: at most {TEXT_MAX_CHARS} characters, got {len(text)}",
                            field=field_name)
    index = cache_of(app).get(session, channel_id)
    chain = [(p.key, p.value, p.config) for p in providers(session, channel_id, SLOT)]
    if CATALOG_KEY not in {key for key, _value, _config in chain}:
        entry = app.extensions["vectis.registry"].get(CATALOG_KEY)
        chain.append((CATALOG_KEY, entry.value, {}))
    answer = ParseAnswer(None)
    token = _INDEX.set(index)
    try:
        for key, provider, config in chain:
            attempt = Attempt(key)
            answer.attempts.append(attempt)
            try:
                result = provider.parse(text, config)
            except (BusinessError, BusinessErrors) as exc:
                attempt.error = str(exc)
                continue
            except Exception as exc:  # a pack's bug must not take the parse down: the next provider answers
                attempt.error = f"failed: {type(exc).__name__}"
                continue
            if not isinstance(result, ParseResult) or not all(isinstance(l, ParsedLine) for l in result.lines):
                attempt.error = f"answered {type(result).__name__}, not a ParseResult"
                continue
            answer.provider = key
            _accept(answer, index, result)
            break
    finally:
        _INDEX.reset(token)
    if answer.provider is None:
        raise BusinessError(Code.CHECKOUT_FAILED, "input.text: no parse provider answered ("
                            + "; ".join(f"{a.provider}: {a.error}" for a in answer.attempts) + ")", field=field_name)
    return answer


def _accept(answer: ParseAnswer, index: CatalogIndex, result: ParseResult) -> None:
    """The provider's lines a cart lookup can take; the others unparsed with the reason."""
    answer.unparsed.extend(str(piece) for piece in result.unparsed)
    for line in result.lines:
        entry, confidence, alternatives = _entry(index, line)
        if entry is None:
            answer.unparsed.append(f"{line.source}: {line.sku!r} is not sold in this channel")
        elif isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or \
                not 1 <= line.quantity <= MAX_LINE_BASE_UNITS:
            answer.unparsed.append(f"{line.source}: quantity {line.quantity!r} is not a whole number from 1 to "
                                   f"{MAX_LINE_BASE_UNITS}")
        else:
            line = replace(line, sku=entry.sku, package=catalog_parser.package_of(index, entry, line.package),
                           confidence=round(min(1.0, max(0.0, float(line.confidence))) * confidence, 3))
            answer.items.append((line, entry, alternatives))


def _entry(index: CatalogIndex, line: ParsedLine) -> tuple[Entry | None, float, list[Entry]]:
    """The line's variant: its SKU as given, else (a provider that only read the text, like an
    LLM) the product it wrote matched against the catalog like the catalog parser's own lines."""
    if not isinstance(line.sku, str) or not line.sku.strip():
        return None, 0.0, []
    entry = index.by_sku.get(sku_key(line.sku))
    if entry is not None and entry.sku.lower() == line.sku.strip().lower():
        return entry, 1.0, [index.by_sku[sku_key(s)] for s in line.alternatives if sku_key(s) in index.by_sku]
    entry, confidence, alternatives = catalog_parser.match(index, line.sku.split())
    return entry, confidence, alternatives
