"""orders payments: reserved for the commerce core's orders payments changes

Revision ID: 4a0c0a000008
Revises: 4a0c0a000007
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000008'
down_revision = '4a0c0a000007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
