"""edge robustness (issue 12): idempotency keys scoped to the caller

Revision ID: 4a0c0a000009
Revises: 4a0c0a000008
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000009'
down_revision = '4a0c0a000008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
