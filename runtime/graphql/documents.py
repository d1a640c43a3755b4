"""Parsed and validated operations, kept by query text.

A client app sends the same few operations over and over with different variables. Parsing and
the specification's validation rules (plus the depth and cost limits) depend only on the text,
and cost several milliseconds per request, so each text is parsed and validated once per process.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, specified_rules, validate

from runtime.graphql.edge import MAX_DOCUMENT_CHARS
from runtime.graphql.limits import cost_limit, depth_limit
from runtime.graphql.literals import StringLiterals

#: Distinct operation texts kept per process (least recently used dropped first).
CACHE_SIZE = 512
#: Longer texts are parsed and validated every time rather than kept.
MAX_CACHED_LENGTH = 20_000
#: Most lexical tokens (names, punctuation, values) in one operation text; the parser stops there.
MAX_TOKENS = 10_000
#: Most comments in one operation text (they are kept as tokens too).
MAX_COMMENTS = 1_000


class DocumentCache:
    """Kept in ``app.extensions["vectis.graphql_documents"]``; the depth and cost limits are read
    from the settings on each request, so they are part of the key."""

    def __init__(self, schema: GraphQLSchema, size: int = CACHE_SIZE):
        self._schema = schema
        self._size = size
        self._entries: OrderedDict[tuple[int, int, str], tuple[DocumentNode, list[GraphQLError]]] = OrderedDict()
        self._limit_rules: dict[tuple[int, int], tuple[type, type]] = {}
        self._lock = threading.Lock()

    def checked(self, query: Any, max_depth: int, max_cost: int) -> tuple[DocumentNode, list[GraphQLError]]:
        """The parsed document and its validation errors.

        Raises :class:`GraphQLError` for text that does not parse (never cached)."""
        if not isinstance(query, str):
            raise GraphQLError("query: expected the operation text as a string")
        key = (max_depth, max_cost, query)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
        document = parse(query, max_lexical_tokens=MAX_TOKENS, max_comments=MAX_COMMENTS,
                         max_source_length=MAX_DOCUMENT_CHARS)
        entry = (document, validate(self._schema, document, self._rules(max_depth, max_cost)))
        if len(query) <= MAX_CACHED_LENGTH:
            with self._lock:
                self._entries[key] = entry
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        return entry

    def _rules(self, max_depth: int, max_cost: int) -> tuple[type, ...]:
        limits = self._limit_rules.get((max_depth, max_cost))
        if limits is None:
            limits = self._limit_rules[(max_depth, max_cost)] = (
                depth_limit(max_depth, max_cost), cost_limit(max_cost), StringLiterals)
        return (*specified_rules, *limits)

    def hooks(self, max_depth: int, max_cost: int):
        """Ariadne's ``query_parser`` and ``query_validator`` for one request: the cached
        document, then its cached errors."""
        checked: dict[str, list[GraphQLError]] = {}

        def parse_document(_context: Any, data: dict) -> DocumentNode:
            document, errors = self.checked(data.get("query"), max_depth, max_cost)
            checked["errors"] = errors
            return document

        def validate_document(schema: GraphQLSchema, document: DocumentNode, rules=None, max_errors=None, **_):
            return checked["errors"]

        return parse_document, validate_document
