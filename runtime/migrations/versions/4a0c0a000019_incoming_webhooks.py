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
    op.create_table(
        'incoming_webhook_secret',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pack', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('secret', sa.JSON(), nullable=False),
        sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_incoming_webhook_secret_pack', 'incoming_webhook_secret', ['pack'])
    op.create_table(
        'incoming_webhook_receipt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pack', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('webhook_id', sa.String(length=255), nullable=False),
        sa.Column('received_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('pack', 'webhook_id', name='uq_incoming_webhook_receipt'),
    )
    op.create_index('ix_incoming_webhook_receipt_received_at', 'incoming_webhook_receipt', ['received_at'])
    op.create_index('ix_payment_transaction_gateway_reference', 'payment_transaction', ['gateway', 'gateway_reference'])


def downgrade() -> None:
    op.drop_index('ix_payment_transaction_gateway_reference', table_name='payment_transaction')
    op.drop_index('ix_incoming_webhook_receipt_received_at', table_name='incoming_webhook_receipt')
    op.drop_table('incoming_webhook_receipt')
    op.drop_index('ix_incoming_webhook_secret_pack', table_name='incoming_webhook_secret')
    op.drop_table('incoming_webhook_secret')
