"""quick order (issue 19): cart lines saved for later

Revision ID: 4a0c0a000015
Revises: 4a0c0a000013
"""
from alembic import op
import sqlalchemy as sa

import runtime.db


revision = '4a0c0a000015'
# 4a0c0a000014 (security, issue 18) did not exist when this was written: the lead relinks.
down_revision = '4a0c0a000013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cart_saved_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cart_id', sa.Integer(), nullable=False),
        sa.Column('variant_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('package_slug', sa.String(length=64), nullable=True),
        sa.Column('package_multiplier', sa.Integer(), nullable=False),
        sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cart_id'], ['cart.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['variant_id'], ['product_variant.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_cart_saved_line_cart_id', 'cart_saved_line', ['cart_id'])


def downgrade() -> None:
    op.drop_index('ix_cart_saved_line_cart_id', table_name='cart_saved_line')
    op.drop_table('cart_saved_line')
