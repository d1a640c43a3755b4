"""Which locales a request reads the catalog in: ``X-Locale`` first, else ``Accept-Language``.

A chain lists each tag followed by its parents (``de-AT`` → ``de``); texts resolve to the first
locale of the chain that has a translation, else to the product's (or category's) own text.
"""
from __future__ import annotations

import re

HEADER = "X-Locale"
#: A BCP 47 tag as stored: a 2-3 letter language, then subtags (``de``, ``de-AT``, ``zh-Hant-TW``).
TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
#: Most tags an ``Accept-Language`` header contributes (the rest cannot matter in practice).
MAX_TAGS = 8


def normalize(tag: str) -> str | None:
    """``de-at`` → ``de-AT``, ``DE`` → ``de``; ``None`` for anything that is not a tag."""
    tag = (tag or "").strip().replace("_", "-")
    if not TAG.match(tag):
        return None
    language, *rest = tag.split("-")
    subtags = [s.upper() if len(s) == 2 else (s.title() if len(s) == 4 else s) for s in rest]
    return "-".join([language.lower(), *subtags])


def _expand(tags: list[str]) -> list[str]:
    chain: list[str] = []
    for tag in tags:
        parts = tag.split("-")
        for end in range(len(parts), 0, -1):
            candidate = "-".join(parts[:end])
            if candidate not in chain:
                chain.append(candidate)
    return chain


def parse_accept_language(header: str) -> list[str]:
    """Tags of an ``Accept-Language`` header by descending q-value (ties keep header order);
    ``*`` and ``q=0`` entries are dropped."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        normalized = normalize(tag)
        if normalized and quality > 0:
            weighted.append((-quality, position, normalized))
    return [tag for _, _, tag in sorted(weighted)[:MAX_TAGS]]


def locale_chain(request) -> list[str]:
    """The locales to try, most wanted first (``[]``: the catalog's own texts)."""
    if request is None:
        return []
    explicit = normalize(request.headers.get(HEADER, ""))
    if explicit:
        return _expand([explicit])
    return _expand(parse_accept_language(request.headers.get("Accept-Language", "")))


def pick(translations: dict[str, object], chain: list[str]) -> object | None:
    """The translation of the first locale of ``chain`` that has one."""
    for locale in chain:
        if locale in translations:
            return translations[locale]
    return None
