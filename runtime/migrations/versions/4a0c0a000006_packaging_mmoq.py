"""packaging and MMOQ caps: packages and product ladders, package columns on cart and order
lines (one cart line per cart, variant and package), the variants' fallback caps and the
channel's time zone

Revision ID: 4a0c0a000006
Revises: 4a0c0a000005
"""
from alembic import op
import sqlalchemy as sa

import runtime.db


revision = '4a0c0a000006'
down_revision = '4a0c0a000005'
branch_labels = None
depends_on = None

VARIANT_CAPS = ('mmoq_min_quantity', 'mmoq_increment', 'mmoq_max_per_order', 'mmoq_max_per_customer_30d')


def _package_columns(batch_op) -> None:
    batch_op.add_column(sa.Column('package_slug', sa.String(length=64), nullable=True))
    batch_op.add_column(sa.Column('package_multiplier', sa.Integer(), nullable=False, server_default='1'))


def upgrade() -> None:
    op.create_table(
        'packages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('slug'),
    )
    op.create_table(
        'product_packages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('package_id', sa.Integer(), nullable=False),
        sa.Column('multiplier', sa.Integer(), nullable=False),
        sa.Column('updated_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('multiplier >= 1', name='ck_product_package_multiplier'),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['package_id'], ['packages.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('product_id', 'package_id', name='uq_product_package'),
    )
    op.create_index('ix_product_packages_product_id', 'product_packages', ['product_id'])
    with op.batch_alter_table('cart_line') as batch_op:
        _package_columns(batch_op)
        batch_op.drop_constraint('uq_cart_line_variant', type_='unique')
        batch_op.create_unique_constraint('uq_cart_line_variant_package', ['cart_id', 'variant_id', 'package_slug'])
    with op.batch_alter_table('order_line') as batch_op:
        _package_columns(batch_op)
    with op.batch_alter_table('product_variant') as batch_op:
        for name in VARIANT_CAPS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mmoq_display_unit', sa.String(length=64), nullable=True))
    with op.batch_alter_table('channel') as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False, server_default='UTC'))


def downgrade() -> None:
    with op.batch_alter_table('channel') as batch_op:
        batch_op.drop_column('time_zone')
    with op.batch_alter_table('product_variant') as batch_op:
        batch_op.drop_column('mmoq_display_unit')
        for name in reversed(VARIANT_CAPS):
            batch_op.drop_column(name)
    with op.batch_alter_table('order_line') as batch_op:
        batch_op.drop_column('package_multiplier')
        batch_op.drop_column('package_slug')
    with op.batch_alter_table('cart_line') as batch_op:
        batch_op.drop_constraint('uq_cart_line_variant_package', type_='unique')
        batch_op.create_unique_constraint('uq_cart_line_variant', ['cart_id', 'variant_id'])
        batch_op.drop_column('package_multiplier')
        batch_op.drop_column('package_slug')
    op.drop_index('ix_product_packages_product_id', table_name='product_packages')
    op.drop_table('product_packages')
    op.drop_table('packages')
