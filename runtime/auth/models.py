"""Users, roles and refresh tokens: the minimal access model the accounts issue extends."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.models import json_field, timestamp_field


class Role(SQLModel, table=True):
    __tablename__ = "role"

    name: str = Field(primary_key=True, max_length=64)
    description: str = Field(default="", max_length=255)
    #: Permission names, e.g. ``definitions.publish``; ``*`` grants every permission.
    permissions: list[str] = json_field()


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    display_name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp_field()


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int = Field(sa_column=Column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True))
    role_name: str = Field(sa_column=Column(ForeignKey("role.name", ondelete="CASCADE"), primary_key=True))


class RefreshToken(SQLModel, table=True):
    """A refresh token is single-use: refreshing revokes it and issues a new pair."""

    __tablename__ = "refresh_token"
    __table_args__ = (UniqueConstraint("jti"),)

    id: int | None = Field(default=None, primary_key=True)
    jti: str = Field(max_length=64)
    user_id: int = Field(sa_column=Column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True))
    expires_at: datetime = timestamp_field(default_now=False)
    revoked_at: datetime | None = timestamp_field(nullable=True, default_now=False)
