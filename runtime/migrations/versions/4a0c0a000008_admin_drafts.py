"""admin drafts (issue 6): filled by the change that brings the tables

Revision ID: 4a0c0a000008
Revises: 4a0c0a000007
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '4a0c0a000008'
down_revision = '4a0c0a000007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
