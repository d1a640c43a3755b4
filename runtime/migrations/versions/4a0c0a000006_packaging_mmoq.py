"""packaging and MMOQ caps: package columns on cart and order lines, one cart line per
(cart, variant, package)

Revision ID: 4a0c0a000006
Revises: 4a0c0a000005
"""
from alembic import op
import sqlalchemy as sa


revision = '4a0c0a000006'
down_revision = '4a0c0a000005'
branch_labels = None
depends_on = None


def _package_columns(batch_op) -> None:
    batch_op.add_column(sa.Column('package_slug', sa.String(length=64), nullable=True))
    batch_op.add_column(sa.Column('package_multiplier', sa.Integer(), nullable=False, server_default='1'))


def upgrade() -> None:
    with op.batch_alter_table('cart_line') as batch_op:
        _package_columns(batch_op)
        batch_op.drop_constraint('uq_cart_line_variant', type_='unique')
        batch_op.create_unique_constraint('uq_cart_line_variant_package', ['cart_id', 'variant_id', 'package_slug'])
    with op.batch_alter_table('order_line') as batch_op:
        _package_columns(batch_op)


def downgrade() -> None:
    with op.batch_alter_table('order_line') as batch_op:
        batch_op.drop_column('package_multiplier')
        batch_op.drop_column('package_slug')
    with op.batch_alter_table('cart_line') as batch_op:
        batch_op.drop_constraint('uq_cart_line_variant_package', type_='unique')
        batch_op.create_unique_constraint('uq_cart_line_variant', ['cart_id', 'variant_id'])
        batch_op.drop_column('package_multiplier')
        batch_op.drop_column('package_slug')
