"""durable_rules' pattern dialect for ``$mt``/``$imt``, checked and translated to Python ``re``.

durable_rules compiles patterns with its own small engine (a DFA over UTF-8), not PCRE. Probed on
2.0.28, what it and Python agree on is: literal characters, ``.`` (one character), classes
``[abc]``, ``[a-z]`` (``-`` last is literal), groups ``( )`` for alternation ``|``, and one
quantifier per character, ``.`` or class: ``* + ?``, ``{n}``, ``{n,}``, ``{n,m}`` with counts up
to 100. A pattern matches the whole value. ``$imt`` folds ASCII letters only.

Refused, because durable_rules reads them differently or not at all: backslash escapes (its JSON
layer keeps the backslash, so ``\\.`` never matches a dot: write ``[.]``), ``^`` and ``$`` outside a
class (they are literals there, anchors in Python; a pattern is always anchored), ``"`` and control
characters (escaped on the way in), stacked quantifiers (``a+?`` is lazy in Python, ``(a+)?`` in
durable), ``{,m}`` and ``{0}`` (durable reads them as unbounded), empty patterns, groups or
alternatives, unbalanced brackets, a class starting with ``-``, descending ranges, negated classes
(``[^a]?.`` does not match ``a`` in durable), a quantified group (``(.?[ab]+)+`` does not match
``ba``; ``a*(b?)*`` hangs durable's compiler), an alternation whose first alternative
starts with a repeated item (``.+a|b`` also matches ``xyz``: durable loops back to the start of
the alternation; ``(.+a)|b`` is fine), and what durable itself cannot build (``a+aa*``: it is
asked, once per pattern).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from functools import lru_cache

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
    if (problem := durable_problem(source, ignore_case)) is not None:
        raise PatternError(problem, 0)
    return Pattern(source, python, ignore_case)


#: durable_rules' errors for a pattern it parses but cannot build (rules.h).
_DURABLE_ERRORS = {502: "too many transitions", 503: "too many states", 504: "queue full",
                   505: "list full", 506: "set full", 507: "conflicting states"}
_ruleset_names = itertools.count()


@lru_cache(maxsize=4096)
def durable_problem(source: str, ignore_case: bool = False) -> str | None:
    """Why durable_rules refuses to build a pattern the dialect accepts, or ``None``.

    Its automaton construction runs out of room on some small patterns (``(aaa+)*`` needs more
    than its 512 states), which no simple rule predicts: so durable itself is asked, once per
    pattern. ``None`` too when durable_rules is not installed.
    """
    try:
        import durable_rules_engine as engine
    except ImportError:  # pragma: no cover - durable_rules is a dependency
        return None
    rule = {"all": [{"m": {"$imt" if ignore_case else "$mt": {"value": source}}}]}
    try:
        handle = engine.create_ruleset(f"vectis_pattern_{next(_ruleset_names)}",
                                       json.dumps({"r": rule}, ensure_ascii=False))
    except engine.error as exc:
        code = int(str(exc).rsplit(" ", 1)[-1]) if str(exc)[-1:].isdigit() else None
        return f"durable_rules cannot build it ({_DURABLE_ERRORS.get(code, 'error')} {code}); " \
               f"simplify it"
    engine.delete_ruleset(handle)
    return None


def _check_char(char: str, at: int) -> None:
    if char == "\\":
        raise PatternError("backslash escapes are not supported (use a class: [0-9] for a digit, [.] for a dot)", at)
    if char == '"' or ord(char) < 32:
        raise PatternError(f"character {char!r} cannot be used in a durable_rules pattern", at)


class _Parser:
    """Recursive descent over the dialect; each part returns (python text, estimated size)."""

    def __init__(self, source: str):
        self.source = source
        self.at = 0
        #: (start, end) of the last sequence's first atom when it repeats without bound.
        self.first_loop: tuple[int, int] | None = None

    def peek(self) -> str | None:
        return self.source[self.at] if self.at < len(self.source) else None

    def alternation(self) -> tuple[str, int]:
        branches, size = [], 0
        first_loop = None
        while True:
            start = self.at
            branch, branch_size = self.sequence()
            if not branches:
                first_loop, first_end = self.first_loop, self.at
            if not branch:
                raise PatternError("empty alternative", start)
            branches.append(branch)
            size += branch_size
            if self.peek() != "|":
                break
            self.at += 1
        if first_loop is not None and len(branches) > 1:
            # durable loops the first atom back to the start of the whole alternation, so
            # '.+a|b*' also matches 'xyz'; inside a group of its own the loop stays in its branch
            first = self.source[first_loop[0]:first_end]
            raise PatternError(f"durable_rules misreads an alternation whose first alternative "
                               f"starts with a repeated item; write ({first})|... instead",
                               first_loop[0])
        return "|".join(branches), size + len(branches)

    def sequence(self) -> tuple[str, int]:
        parts, size = [], 0
        first_loop = None
        while (char := self.peek()) is not None and char not in "|)":
            start = self.at
            atom, atom_size = self.atom()
            quantifier, copies = self.quantifier()
            if quantifier and atom.startswith("("):
                raise PatternError("a group cannot be repeated or optional: durable_rules "
                                   "mismatches those ((.?[ab]+)+ does not match 'ba'); repeat "
                                   "single characters, '.' or classes", start)
            if not parts and (quantifier in ("*", "+") or quantifier.endswith(",}")):
                first_loop = (start, self.at)
            parts.append(atom + quantifier)
            size += atom_size * copies + 1
        self.first_loop = first_loop
        return "".join(parts), size

    def atom(self) -> tuple[str, int]:
        char, at = self.source[self.at], self.at
        if char == "(":
            self.at += 1
            if self.peek() in (None, ")"):
                raise PatternError("missing ')'" if self.peek() is None else "empty group", at)
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
        if self.peek() == "^":
            raise PatternError("negated classes [^...] are not supported: durable_rules mismatches "
                               "them next to optional items ([^a]?. does not match 'a')", start)
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
        return f"[{''.join(body)}]"

    def quantifier(self) -> tuple[str, int]:
        """The quantifier's text and how many copies of the atom durable builds."""
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
            python, copies = "{" + text + "}", max(low, high or 0, 1)
        else:
            self.at += 1
            python, copies = char, 1
        if (following := self.peek()) is not None and following in _QUANTIFIERS:
            raise PatternError("a quantifier cannot follow another (use a group)", self.at)
        return python, copies
