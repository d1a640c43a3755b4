""""Did you mean" suggestions for misspelt names, used by every stage."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: How alike two names must be (0..1) before one is offered for the other.
CUTOFF = 0.6


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word``, or ``None`` when none is close enough."""
    names = sorted({str(candidate) for candidate in candidates})
    matches = difflib.get_close_matches(str(word), names, n=1, cutoff=CUTOFF)
    if not matches:
        lowered = {name.lower(): name for name in names}
        return lowered.get(str(word).lower())
    return matches[0]


def hint(word: str, candidates: Iterable[str]) -> str | None:
    """``"did you mean 'x'?"`` for :attr:`rules.errors.AuthorError.hint`, or ``None``."""
    match = closest(word, candidates)
    return None if match is None else f"did you mean {match!r}?"


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` to append to a message, or ``""``."""
    text = hint(word, candidates)
    return "" if text is None else f" ({text})"
