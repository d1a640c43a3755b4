"""tax engine (issue 17): jurisdictions, rates, order tax lines

Revision ID: 4a0c0a000013
Revises: 4a0c0a000012
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000013'
down_revision = '4a0c0a000012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
