"""packaging mmoq (issue 5): filled by the change that brings the tables

Revision ID: 4a0c0a000006
Revises: 4a0c0a000005
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '4a0c0a000006'
down_revision = '4a0c0a000005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
