"""refund requests, legs and decisions (issue 16)

Revision ID: 4a0c0a000018
Revises: 4a0c0a000017
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000018'
down_revision = '4a0c0a000017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
