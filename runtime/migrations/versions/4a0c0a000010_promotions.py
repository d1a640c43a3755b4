"""promotions (issue 13): coupons, usage counters, order discount lines

Revision ID: 4a0c0a000010
Revises: 4a0c0a000009
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000010'
down_revision = '4a0c0a000009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('promotion_coupon',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('promotion_name', sa.String(length=64), nullable=False),
    sa.Column('batch', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index('ix_promotion_coupon_promotion_name', 'promotion_coupon', ['promotion_name'], unique=False)
    op.create_table('cart_coupon',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cart_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['cart.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cart_id', 'code', name='uq_cart_coupon')
    )
    op.create_index('ix_cart_coupon_cart_id', 'cart_coupon', ['cart_id'], unique=False)
    op.create_table('promotion_usage_counter',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('updated_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('promotion_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('promotion_name', sa.String(length=64), nullable=False),
    sa.Column('coupon_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('counters', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('released_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'promotion_name', name='uq_promotion_usage_order')
    )
    op.create_index('ix_promotion_usage_order_id', 'promotion_usage', ['order_id'], unique=False)
    op.create_index('ix_promotion_usage_promotion_name', 'promotion_usage', ['promotion_name'], unique=False)
    op.create_table('order_discount',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('promotion_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('promotion_revision', sa.Integer(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('coupon_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('amount', runtime.db.MoneyAmount(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_order_discount_order_id', 'order_discount', ['order_id'], unique=False)
    op.create_index('ix_order_discount_promotion', 'order_discount', ['promotion_name', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_order_discount_promotion', table_name='order_discount')
    op.drop_index('ix_order_discount_order_id', table_name='order_discount')
    op.drop_table('order_discount')
    op.drop_index('ix_promotion_usage_promotion_name', table_name='promotion_usage')
    op.drop_index('ix_promotion_usage_order_id', table_name='promotion_usage')
    op.drop_table('promotion_usage')
    op.drop_table('promotion_usage_counter')
    op.drop_index('ix_cart_coupon_cart_id', table_name='cart_coupon')
    op.drop_table('cart_coupon')
    op.drop_index('ix_promotion_coupon_promotion_name', table_name='promotion_coupon')
    op.drop_table('promotion_coupon')
