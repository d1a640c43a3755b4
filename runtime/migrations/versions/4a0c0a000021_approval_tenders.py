"""approver tender curation and quorum notices (issue 15)

Revision ID: 4a0c0a000021
Revises: 4a0c0a000020
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000021'
down_revision = '4a0c0a000020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
