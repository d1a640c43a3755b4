"""promotions (issue 13): coupons, usage counters, order discount lines

Revision ID: 4a0c0a000010
Revises: 4a0c0a000009
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000010'
down_revision = '4a0c0a000009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
