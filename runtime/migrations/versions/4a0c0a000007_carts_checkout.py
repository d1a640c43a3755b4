"""carts checkout: reserved for the commerce core's carts checkout changes

Revision ID: 4a0c0a000007
Revises: 4a0c0a000006
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000007'
down_revision = '4a0c0a000006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
