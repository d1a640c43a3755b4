"""payment tenders (issue 14): tenders, store credit, gift cards, net terms

Revision ID: 4a0c0a000011
Revises: 4a0c0a000010
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000011'
down_revision = '4a0c0a000010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
