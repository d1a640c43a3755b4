"""B2B approvals (issue 15): approval requests, decisions, rejections

Revision ID: 4a0c0a000012
Revises: 4a0c0a000011
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000012'
down_revision = '4a0c0a000011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
