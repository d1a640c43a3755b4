"""Install state of extension packs, so install and upgrade hooks run once per version."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from runtime.models import timestamp_field


class ExtensionInstall(SQLModel, table=True):
    __tablename__ = "extension_install"

    name: str = Field(primary_key=True, max_length=64)
    version: str = Field(max_length=64)
    installed_at: datetime = timestamp_field()
    upgraded_at: datetime | None = timestamp_field(nullable=True, default_now=False)
