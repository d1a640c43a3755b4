"""order modification with re-authorisation (issue 14)

Revision ID: 4a0c0a000020
Revises: 4a0c0a000019
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000020'
down_revision = '4a0c0a000019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
