"""payment tenders (issue 14): tenders, store credit, gift cards, net terms

Revision ID: 4a0c0a000011
Revises: 4a0c0a000010
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000011'
down_revision = '4a0c0a000010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_value_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('lookup_hash', sa.String(length=64), nullable=True),
    sa.Column('hint', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('overdraft_limit', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('expires_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'owner', 'currency', name='uq_stored_value_owner'),
    sa.UniqueConstraint('lookup_hash')
    )
    op.create_table('payment_intent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('gateway', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('token_ref', sa.JSON(), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('payment_intent', schema=None) as batch_op:
        batch_op.create_index('ix_payment_intent_state', ['state', 'created_at'], unique=False)

    op.create_table('net_terms_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('credit_limit', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('terms_days', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['b2b_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id')
    )
    op.create_table('cart_tender',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cart_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['cart.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cart_tender', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_tender_cart_id'), ['cart_id'], unique=False)

    op.create_table('net_terms_reservation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terms_account_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('due_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['terms_account_id'], ['net_terms_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('net_terms_reservation', schema=None) as batch_op:
        batch_op.create_index('ix_net_terms_reservation_open', ['terms_account_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_net_terms_reservation_order_id'), ['order_id'], unique=False)

    op.create_table('stored_value_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('hold_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['stored_value_account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hold_id'], ['stored_value_entry.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('stored_value_entry', schema=None) as batch_op:
        batch_op.create_index('ix_stored_value_entry_account', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_value_entry_hold_id'), ['hold_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_value_entry_order_id'), ['order_id'], unique=False)

    op.create_table('payment_tender',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('gateway', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('payment_transaction_id', sa.Integer(), nullable=True),
    sa.Column('due_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_transaction_id'], ['payment_transaction.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'position', name='uq_payment_tender_order_position')
    )
    with op.batch_alter_table('payment_tender', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_tender_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_tender_payment_transaction_id'), ['payment_transaction_id'], unique=False)


    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('fraud_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('fraud_details', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_column('fraud_details')
        batch_op.drop_column('fraud_status')
    for table in ('payment_tender', 'stored_value_entry', 'net_terms_reservation', 'cart_tender', 'net_terms_account',
                  'payment_intent', 'stored_value_account'):
        op.drop_table(table)
