"""Author errors: what a definition's writer sees when a file is wrong.

One :class:`AuthorError` per problem, each saying where it is (file, line, column, JSON pointer)
and, where we can guess, what was meant. A stage collects every problem of a file before
answering; :class:`DefinitionInvalid` carries them all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class AuthorError:
    """One problem in one definition source."""

    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    kind: str | None = None
    name: str | None = None
    pointer: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        parts = []
        where = self.path or "<source>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts.append(where)
        if self.kind and self.name:
            parts.append(f"{self.kind}/{self.name}")
        if self.pointer:
            parts.append(self.pointer)
        text = ": ".join(parts) + ": " + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain data for GraphQL and JSON output (every field, ``None`` when unknown)."""
        data = asdict(self)
        data["text"] = str(self)
        return data

    def located(self, **fields: Any) -> AuthorError:
        """A copy with the given fields filled in (only those still unknown)."""
        missing = {key: value for key, value in fields.items() if getattr(self, key) is None}
        return replace(self, **missing)

    @property
    def sort_key(self) -> tuple:
        return (self.path or "", self.line or 0, self.column or 0, self.pointer or "", self.message)


class DefinitionInvalid(Exception):
    """Raised when a definition is used although it has author errors."""

    def __init__(self, errors: list[AuthorError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


class AuthorErrors(Exception):
    """Internal: a compiler raises this to hand back the problems it collected."""

    def __init__(self, errors: list[AuthorError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))
