"""accounts: reserved for the commerce core's accounts changes

Revision ID: 4a0c0a000005
Revises: 4a0c0a000004
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000005'
down_revision = '4a0c0a000004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
