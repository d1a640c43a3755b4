"""The core catalog parser: free text (a pasted e-mail, an OCR'd note) read line by line into
(variant, quantity, package) against a :class:`CatalogIndex`, without any network.

A line's quantity may be written ``2 boxes of``, ``x12``, ``12x``, ``a dozen``, ``3 cs``,
``5 pcs``, ``two``; the rest of the line names the product: a SKU (exact, or with a typo), or
a name or translation matched fuzzily (rapidfuzz). A name close to several variants comes back
with them as alternatives. Lines that name nothing (greetings, signatures) are answered as
unparsed with the reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from runtime.quick_order.catalog_index import CatalogIndex, Entry, sku_key, words_key

#: Scores (0-100) a fuzzy match needs: a SKU typo, a name; a name with no quantity given.
SKU_CUTOFF = 75
NAME_CUTOFF = 72
#: Where no name is close word for word, a partial match (a name inside a longer line) needs this.
PARTIAL_CUTOFF = 88
NAME_ALONE_CUTOFF = 90
#: Variants within this many points of the best are alternatives (the match is ambiguous).
AMBIGUOUS_MARGIN = 4
LINES_MAX = 500

BASE_WORDS = {"pc", "pcs", "piece", "pieces", "ea", "each", "unit", "units", "stk", "stück", "stueck", "x"}
UNIT_ALIASES = {"bx": "box", "boxes": "box", "cs": "case", "cases": "case", "ctn": "case", "carton": "case",
                "cartons": "case", "pk": "pack", "packs": "pack", "pkg": "pack", "plt": "pallet", "pallets": "pallet",
                "karton": "case", "schachtel": "box"}
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "ein": 1, "eine": 1, "zwei": 2,
                "drei": 3, "vier": 4, "fünf": 5}
FILLER = {"of", "please", "pls", "and", "the", "need", "we", "i", "would", "like", "order", "send", "us", "me", "for",
          "x", "-", "•", "*", "von", "bitte"}
TOKEN = re.compile(r"[^\s,;:]+")
MULTIPLY = re.compile(r"^(?:x|×)(\d+)$|^(\d+)(?:x|×)$", re.IGNORECASE)


@dataclass
class Item:
    entry: Entry
    quantity: int
    package: str | None
    confidence: float
    source: str
    start: int
    end: int
    alternatives: list[Entry] = field(default_factory=list)


@dataclass
class Parsed:
    items: list[Item]
    #: (source line, reason) for every line that named nothing.
    unparsed: list[tuple[str, str]]


def parse(index: CatalogIndex, text: str) -> Parsed:
    items, unparsed = [], []
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True)):
        start, body = offset, line.rstrip("\r\n")
        offset += len(line)
        if not body.strip():
            continue
        if number >= LINES_MAX:
            unparsed.append((body.strip(), f"only the first {LINES_MAX} lines are read"))
            continue
        found = _line(index, body, start)
        if isinstance(found, Item):
            items.append(found)
        else:
            unparsed.append((body.strip(), found))
    return Parsed(items, unparsed)


def _line(index: CatalogIndex, body: str, start: int) -> Item | str:
    tokens = [(m.group(), m.start()) for m in TOKEN.finditer(body)]
    quantity, unit, used = _quantity([t.lower() for t, _ in tokens], index)
    rest = [(t, at) for i, (t, at) in enumerate(tokens) if i not in used and t.lower().strip(".") not in FILLER]
    if not rest:
        return "no product named"
    entry, confidence, alternatives = match(index, [t for t, _ in rest], partial=quantity is not None)
    if entry is None:
        return "no product or SKU of the catalog recognised"
    if quantity is None:
        if confidence < NAME_ALONE_CUTOFF / 100:
            return "no quantity, and the product is not certain"
        quantity = 1
    package = None
    if unit is not None and unit != "dozen":
        package = unit if unit in entry.ladder else (None if unit == "base" else unit)
    if unit == "dozen":
        quantity *= 12
    lead = len(body) - len(body.lstrip())
    return Item(entry, quantity, package, round(confidence, 3), body.strip(), start + lead, start + len(body.rstrip()),
                alternatives)


def package_of(index: CatalogIndex, entry: Entry, written: str | None) -> str | None:
    """The ladder's slug for a unit as written (``boxes``, ``cs``); None for pieces; an unknown
    word passes through for the lookup to answer UNKNOWN_PACKAGE."""
    if not written:
        return None
    unit = _unit(written, index)
    if unit in (None, "dozen"):
        return written.lower() if unit is None else None
    return None if unit == "base" else unit


def _unit(word: str, index: CatalogIndex) -> str | None:
    word = word.strip(".").lower()
    if word in BASE_WORDS:
        return "base"
    if word in ("dozen", "doz", "dz", "dutzend"):
        return "dozen"
    for candidate in (word, UNIT_ALIASES.get(word), word.removesuffix("es"), word.removesuffix("s")):
        if candidate and candidate in index.package_words:
            return index.package_words[candidate]
    return UNIT_ALIASES.get(word)


def _quantity(words: list[str], index: CatalogIndex) -> tuple[int | None, str | None, set[int]]:
    """The line's quantity, its unit (a package slug, "base", "dozen" or None) and the token
    positions they took. A line may hold other numbers (a model number: ``Drill 361``), so a
    number with a unit wins, then ``x12``/``12x``, then one that opens the line, then the last."""
    candidates = []  # (rank, position, number, unit, used)
    for i, word in enumerate(words):
        multiplied = MULTIPLY.match(word)
        if multiplied:
            candidates.append((1, i, int(multiplied.group(1) or multiplied.group(2)), None, {i}))
            continue
        number = int(word) if word.isdigit() and len(word) <= 6 else NUMBER_WORDS.get(word)
        if number is None or number < 1:
            continue
        unit = _unit(words[i + 1], index) if i + 1 < len(words) else None
        if unit is None and word in ("a", "an", "ein", "eine"):
            continue  # an article, not a quantity
        used = {i} | ({i + 1} if unit is not None else set())
        if unit == "dozen" and i + 2 < len(words) and _unit(words[i + 2], index) not in (None, "dozen"):
            used.add(i + 2)
        if unit is not None and i + 2 < len(words) and words[i + 2] in ("of", "von"):
            used.add(i + 2)
        first = all(w in FILLER for w in words[:i])
        candidates.append((0 if unit is not None else 2 if first else 3, i, number, unit, used))
    if candidates:
        best = min(candidates, key=lambda c: (c[0], -c[1] if c[0] == 3 else c[1]))
        return best[2], best[3], best[4]
    if "dozen" in words:
        return 1, "dozen", {words.index("dozen")}
    return None, None, set()


def match(index: CatalogIndex, words: list[str], partial: bool = True) -> tuple[Entry | None, float, list[Entry]]:
    """The variant ``words`` name: an exact SKU, a SKU typo, else the closest names word for word,
    else (``partial``: only on a line with a quantity, so greetings stay cheap) a name inside them."""
    for word in words:  # an exact SKU anywhere in the line wins
        found = index.by_sku.get(sku_key(word))
        if found is not None and len(sku_key(word)) >= 3:
            return found, 1.0, []
    skuish = [w for w in words if any(c.isdigit() for c in w) and any(c.isalpha() for c in w) and len(w) >= 4]
    for word in skuish:
        best = process.extractOne(sku_key(word), index.sku_keys, scorer=OSA.normalized_similarity,
                                  score_cutoff=SKU_CUTOFF / 100)
        if best is not None:
            return index.by_sku[best[0]], best[1], []
    query = " ".join(sorted(words_key(" ".join(words)).split()))
    scored = process.extract(query, index.names, scorer=fuzz.ratio, limit=12, score_cutoff=NAME_CUTOFF)
    if not scored and partial:
        scored = process.extract(query, index.names, scorer=fuzz.WRatio, limit=12, score_cutoff=PARTIAL_CUTOFF)
    best_per: dict[int, tuple[float, Entry]] = {}
    for _name, score, position in scored:
        for entry in index.name_entries[position]:
            if entry.variant_id not in best_per or best_per[entry.variant_id][0] < score:
                best_per[entry.variant_id] = (score, entry)
    if not best_per:
        return None, 0.0, []
    ranked = sorted(best_per.values(), key=lambda pair: (-pair[0], pair[1].sku))
    top_score, top = ranked[0]
    close = [entry for score, entry in ranked[1:] if top_score - score <= AMBIGUOUS_MARGIN]
    confidence = top_score / 100 * (0.6 if close else 1.0)
    return top, confidence, close
