"""pricing: reserved for the commerce core's pricing changes

Revision ID: 4a0c0a000006
Revises: 4a0c0a000005
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000006'
down_revision = '4a0c0a000005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
