"""Published definition revisions: immutable rows, exactly one live per (kind, name)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from runtime.models import timestamp_field


class DefinitionRevision(SQLModel, table=True):
    __tablename__ = "definition_revision"
    __table_args__ = (
        UniqueConstraint("kind", "name", "revision", name="uq_definition_revision"),
        # The database itself guarantees at most one live revision per definition.
        Index(
            "uq_definition_live",
            "kind",
            "name",
            unique=True,
            sqlite_where=text("is_live"),
            postgresql_where=text("is_live"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    name: str = Field(max_length=128)
    revision: int
    source: str = Field(sa_column=Column(Text, nullable=False))
    checksum: str = Field(max_length=64)
    author: str = Field(max_length=254)
    note: str = Field(default="", max_length=1000)
    #: Where the source came from: a file path, ``graphql``, ``admin`` or ``cli``.
    origin: str = Field(default="", max_length=500)
    #: Set when this revision republishes an older one (a rollback).
    rolled_back_from: int | None = None
    is_live: bool = Field(default=False)
    created_at: datetime = timestamp_field()


class DefinitionDraft(SQLModel, table=True):
    """A source saved in the admin UI without publishing: one per definition and author."""

    __tablename__ = "definition_draft"
    __table_args__ = (UniqueConstraint("kind", "name", "author", name="uq_definition_draft"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    name: str = Field(max_length=128)
    author: str = Field(max_length=254)
    source: str = Field(sa_column=Column(Text, nullable=False))
    #: The live revision the editor had open (None: the definition was not live yet).
    base_revision: int | None = None
    updated_at: datetime = timestamp_field()
