"""order modification with re-authorisation (issue 14)

Revision ID: 4a0c0a000020
Revises: 4a0c0a000019
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000020'
down_revision = '4a0c0a000019'
branch_labels = None
depends_on = None


def _money(name):
    return sa.Column(name, runtime.db.MoneyAmount(precision=19, scale=4), nullable=False)


def upgrade() -> None:
    op.create_table(
        'order_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=128), nullable=True),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        _money('subtotal'), _money('shipping_total'), _money('discount_total'), _money('tax_total'), _money('total'),
        sa.Column('tenders', sa.JSON(), nullable=False),
        sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('order_id', 'version', name='uq_order_version_order_version'),
        sa.UniqueConstraint('order_id', 'idempotency_key', name='uq_order_version_order_key'),
    )
    op.create_index('ix_order_version_order_id', 'order_version', ['order_id'])
    op.create_table(
        'net_terms_receivable',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('terms_account_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('reservation_id', sa.Integer(), nullable=False),
        _money('amount'),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('due_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('idempotency_key', sa.String(length=160), nullable=False),
        sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['terms_account_id'], ['net_terms_account.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['reservation_id'], ['net_terms_reservation.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idempotency_key'),
    )
    op.create_index('ix_net_terms_receivable_open', 'net_terms_receivable', ['terms_account_id', 'state'])
    op.create_index('ix_net_terms_receivable_order_id', 'net_terms_receivable', ['order_id'])
    op.create_index('ix_net_terms_receivable_reservation_id', 'net_terms_receivable', ['reservation_id'])
    with op.batch_alter_table('channel') as batch_op:
        batch_op.add_column(sa.Column('buyers_modify_orders', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('channel') as batch_op:
        batch_op.drop_column('buyers_modify_orders')
    op.drop_index('ix_net_terms_receivable_reservation_id', table_name='net_terms_receivable')
    op.drop_index('ix_net_terms_receivable_order_id', table_name='net_terms_receivable')
    op.drop_index('ix_net_terms_receivable_open', table_name='net_terms_receivable')
    op.drop_table('net_terms_receivable')
    op.drop_index('ix_order_version_order_id', table_name='order_version')
    op.drop_table('order_version')
