"""incoming settlement webhooks: seen ids (issue 18)

Revision ID: 4a0c0a000019
Revises: 4a0c0a000018
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000019'
down_revision = '4a0c0a000018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
