"""Bounds of free-text search input, shared by product search and the staff searches of
customers and accounts, and the one way to put a client's text into a ``LIKE`` pattern.

A search is at most :data:`MAX_SEARCH_CHARS` characters and :data:`MAX_SEARCH_TERMS` words:
enough for any real query, and small enough that PostgreSQL's ``to_tsquery``, SQLite's FTS5 and
a ``LIKE`` scan all answer in bounded time (a 30,000-word query exceeded PostgreSQL's stack
depth; 170,000 words took SQLite half a minute).
"""
from __future__ import annotations

import re
from enum import Enum

from runtime.errors import BusinessError

MAX_SEARCH_CHARS = 200
MAX_SEARCH_TERMS = 16
#: The escape character of every ``LIKE`` built from client text (``like(pattern, escape=…)``).
LIKE_ESCAPE = "\\"

_TERM = re.compile(r"[^\W_]+")  # the words the product index is split into


def check_search(text: str, code: Enum | str, field: str = "search") -> str:
    """``text`` stripped, or a :class:`BusinessError` ``code`` naming ``field`` and the limit."""
    text = text.strip()
    if len(text) > MAX_SEARCH_CHARS:
        raise BusinessError(code, f"{field}: {len(text)} characters; a search is at most {MAX_SEARCH_CHARS}",
                            field=field)
    terms = len(_TERM.findall(text))
    if terms > MAX_SEARCH_TERMS:
        raise BusinessError(code, f"{field}: {terms} words; a search is at most {MAX_SEARCH_TERMS}", field=field)
    return text


def like_contains(text: str) -> str:
    """A ``LIKE`` pattern matching ``text`` anywhere, its ``%`` and ``_`` taken literally (use
    with ``escape=LIKE_ESCAPE``)."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"
