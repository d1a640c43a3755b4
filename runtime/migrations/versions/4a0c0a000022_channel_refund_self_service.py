"""a channel's rule for buyers' own refund requests (issue 16)

Revision ID: 4a0c0a000022
Revises: 4a0c0a000021
"""
from alembic import op
import sqlalchemy as sa


revision = '4a0c0a000022'
down_revision = '4a0c0a000021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channel') as batch_op:
        batch_op.add_column(sa.Column('buyers_request_refunds', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('channel') as batch_op:
        batch_op.drop_column('buyers_request_refunds')
