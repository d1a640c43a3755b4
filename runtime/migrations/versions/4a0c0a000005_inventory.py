"""inventory (issue 5): warehouses, stock levels, reservations; the inventory columns of
products, variants, orders, order lines and channels

Revision ID: 4a0c0a000005
Revises: 4a0c0a000004
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000005'
down_revision = '4a0c0a000004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warehouse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('stock_level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('pushed_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('reserved >= 0 AND on_hand >= 0', name='ck_stock_level_non_negative'),
    sa.ForeignKeyConstraint(['variant_id'], ['product_variant.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('variant_id', 'warehouse_id', name='uq_stock_level_variant_warehouse')
    )
    op.create_index(op.f('ix_stock_level_variant_id'), 'stock_level', ['variant_id'], unique=False)
    op.create_table('reservation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('backordered', sa.Integer(), nullable=False),
    sa.Column('cart_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('state_entered_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('external_reference', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0 AND backordered >= 0 AND backordered <= quantity', name='ck_reservation_quantity'),
    sa.ForeignKeyConstraint(['cart_id'], ['cart.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['product_variant.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_reservation_state_entered', 'reservation', ['state', 'state_entered_at'], unique=False)
    op.create_index('ix_reservation_variant_state', 'reservation', ['variant_id', 'state'], unique=False)
    op.create_index(op.f('ix_reservation_cart_id'), 'reservation', ['cart_id'], unique=False)
    op.create_index(op.f('ix_reservation_order_id'), 'reservation', ['order_id'], unique=False)
    op.create_index(op.f('ix_reservation_product_id'), 'reservation', ['product_id'], unique=False)
    with op.batch_alter_table('product') as batch_op:
        batch_op.add_column(sa.Column('track_inventory', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('inventory_state_version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('product_variant') as batch_op:
        batch_op.add_column(sa.Column('backorder_limit', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('external_stock_snapshot', sa.JSON(), nullable=True))
    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('inventory_risk_flag', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_orders_inventory_risk_flag'), ['inventory_risk_flag'], unique=False)
    with op.batch_alter_table('order_line') as batch_op:
        batch_op.add_column(sa.Column('tracking_enabled_at_checkout', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('channel') as batch_op:
        batch_op.add_column(sa.Column('inventory_hold_mode', sa.String(length=16), server_default='checkout',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('channel') as batch_op:
        batch_op.drop_column('inventory_hold_mode')
    with op.batch_alter_table('order_line') as batch_op:
        batch_op.drop_column('tracking_enabled_at_checkout')
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_inventory_risk_flag'))
        batch_op.drop_column('inventory_risk_flag')
    with op.batch_alter_table('product_variant') as batch_op:
        batch_op.drop_column('external_stock_snapshot')
        batch_op.drop_column('backorder_limit')
    with op.batch_alter_table('product') as batch_op:
        batch_op.drop_column('inventory_state_version')
        batch_op.drop_column('track_inventory')
    op.drop_index(op.f('ix_reservation_product_id'), table_name='reservation')
    op.drop_index(op.f('ix_reservation_order_id'), table_name='reservation')
    op.drop_index(op.f('ix_reservation_cart_id'), table_name='reservation')
    op.drop_index('ix_reservation_variant_state', table_name='reservation')
    op.drop_index('ix_reservation_state_entered', table_name='reservation')
    op.drop_table('reservation')
    op.drop_index(op.f('ix_stock_level_variant_id'), table_name='stock_level')
    op.drop_table('stock_level')
    op.drop_table('warehouse')
