"""order modification, re-curation and overdraft drafts (issue 14)

Revision ID: 4a0c0a000017
Revises: 4a0c0a000016
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000017'
down_revision = '4a0c0a000016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
