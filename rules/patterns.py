"""durable_rules' pattern dialect for ``$mt``/``$imt``, checked and translated to Python ``re``.

durable_rules compiles patterns with its own small engine (a DFA over UTF-8), not PCRE. Probed on
2.0.28, what it and Python agree on is: literal characters, ``.`` (one character), classes
``[abc]``, ``[a-z]``, ``[^a-z]`` (``-`` last is literal), groups ``( )``, alternation ``|``, and one
quantifier per atom: ``* + ?`` and ``{n}``, ``{n,}``, ``{n,m}`` with counts up to 100 (durable
reads ``{,m}`` and ``{0}`` as unbounded: refused). A pattern matches the whole value. ``$imt`` folds ASCII letters only.

Refused, because durable_rules reads them differently or not at all: backslash escapes (its JSON
layer keeps the backslash, so ``\\.`` never matches a dot: write ``[.]``), ``^`` and ``$`` outside a
class (they are literals there, anchors in Python; a pattern is always anchored), ``"`` and control
characters (escaped on the way in), stacked quantifiers (``a+?`` is lazy in Python, ``(a+)?`` in
durable), empty patterns, groups or alternatives, unbalanced brackets, a class starting with ``-``
and descending ranges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: durable_rules' largest repetition count.
MAX_REPEAT = 100
#: A rough bound on the automaton durable builds (its limit is 512 states); beyond it, refused.
MAX_SIZE = 256
_META = set(".|?*+()[]{}")
_QUANTIFIERS = set("*+?{")


class PatternError(ValueError):
    """A pattern outside the dialect; ``position`` is the offending character's index."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Pattern:
    source: str
    python: str
    ignore_case: bool

    def compile(self) -> re.Pattern:
        return re.compile(self.python, re.ASCII | re.IGNORECASE if self.ignore_case else 0)


def parse_pattern(source: str, ignore_case: bool = False) -> Pattern:
    """Check ``source`` against the dialect and translate it; raise :class:`PatternError`."""
    if not source:
        raise PatternError("an empty pattern matches nothing in durable_rules", 0)
    parser = _Parser(source)
    python, size = parser.alternation()
    if parser.at < len(source):  # only an unmatched ")" stops the top level early
        raise PatternError("unbalanced ')'", parser.at)
    if size > MAX_SIZE:
        raise PatternError(f"pattern too complex for durable_rules (about {size} states, at most "
                           f"{MAX_SIZE}); shorten it or lower its repetition counts", 0)
    return Pattern(source, python, ignore_case)


def _check_char(char: str, at: int) -> None:
    if char == "\\":
        raise PatternError("backslash escapes are not supported (use a class: [0-9] for a digit, [.] for a dot)", at)
    if char == '"' or ord(char) < 32:
        raise PatternError(f"character {char!r} cannot be used in a durable_rules pattern", at)


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.at = 0

    def peek(self) -> str | None:
        return self.source[self.at] if self.at < len(self.source) else None

    def alternation(self) -> tuple[str, int]:
        branches, size = [], 0
        while True:
            start = self.at
            branch, branch_size = self.sequence()
            if not branch:
                raise PatternError("empty alternative", start)
            branches.append(branch)
            size += branch_size
            if self.peek() != "|":
                return "|".join(branches), size + len(branches)
            self.at += 1

    def sequence(self) -> tuple[str, int]:
        parts, size = [], 0
        while (char := self.peek()) is not None and char not in "|)":
            atom, atom_size = self.atom()
            quantifier, factor = self.quantifier()
            parts.append(atom + quantifier)
            size += atom_size * factor + 1
        return "".join(parts), size

    def atom(self) -> tuple[str, int]:
        char, at = self.source[self.at], self.at
        if char == "(":
            self.at += 1
            inner, size = self.alternation()
            if self.peek() != ")":
                raise PatternError("missing ')'", at)
            self.at += 1
            return f"({inner})", size
        if char == "[":
            return self.klass(), 1
        if char == ".":
            self.at += 1
            return ".", 1
        if char in _QUANTIFIERS:
            raise PatternError(f"{char!r} has nothing to repeat", at)
        if char in "]}":
            raise PatternError(f"unbalanced {char!r}", at)
        if char in "^$":
            raise PatternError(f"{char!r} is not an anchor in durable_rules (a pattern always "
                               f"matches the whole value)", at)
        _check_char(char, at)
        self.at += 1
        return char, 1

    def klass(self) -> str:
        start = self.at
        self.at += 1
        negate = self.peek() == "^"
        if negate:
            self.at += 1
        body = []
        while (char := self.peek()) != "]":
            if char is None:
                raise PatternError("unterminated character set", start)
            if char == "[":
                raise PatternError("'[' inside a class is not supported", self.at)
            if char == "-" and not body:
                raise PatternError("a class cannot start with '-' (put it last)", self.at)
            _check_char(char, self.at)
            following = self.source[self.at + 1:self.at + 3]
            if len(following) == 2 and following[0] == "-" and following[1] != "]":
                _check_char(following[1], self.at + 2)
                if following[1] < char:
                    raise PatternError(f"descending range {char}-{following[1]}", self.at)
                body.append(f"{char}-{following[1]}")
                self.at += 3
                continue
            body.append("\\-" if char == "-" else "\\^" if char == "^" else char)
            self.at += 1
        if not body:
            raise PatternError("empty character class", start)
        self.at += 1
        return f"[{'^' if negate else ''}{''.join(body)}]"

    def quantifier(self) -> tuple[str, int]:
        char = self.peek()
        if char is None or char not in _QUANTIFIERS:
            return "", 1
        at = self.at
        if char == "{":
            end = self.source.find("}", at)
            if end < 0:
                raise PatternError("unterminated repetition '{'", at)
            text = self.source[at + 1:end]
            if not re.fullmatch(r"\d+|\d+,|\d+,\d+", text):
                raise PatternError(f"repetition {{{text}}} is not {{n}}, {{n,}} or {{n,m}}", at)
            low_text, _, high_text = text.partition(",")
            low = int(low_text)
            high = int(high_text) if high_text else (low if "," not in text else None)
            if high == 0:  # durable reads a 0 upper bound as "no bound"
                raise PatternError(f"repetition {{{text}}} repeats without bound in durable_rules",
                                   at)
            if max(low, high or 0) > MAX_REPEAT:
                raise PatternError(f"repetition counts go up to {MAX_REPEAT}", at)
            if high is not None and low > high:
                raise PatternError(f"repetition {{{text}}} has its bounds reversed", at)
            self.at = end + 1
            python = "{" + text + "}"
            factor = max(low, high or 0, 1)
        else:
            self.at += 1
            python, factor = char, 1
        if (following := self.peek()) is not None and following in _QUANTIFIERS:
            raise PatternError("a quantifier cannot follow another (use a group)", self.at)
        return python, factor
