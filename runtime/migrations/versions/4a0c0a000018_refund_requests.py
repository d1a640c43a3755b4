"""refund requests, legs and decisions (issue 16)

Revision ID: 4a0c0a000018
Revises: 4a0c0a000017
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000018'
down_revision = '4a0c0a000017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('refund_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('state_entered_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('tax_amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('shipping_amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('requester_user_id', sa.Integer(), nullable=True),
    sa.Column('requester_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('buyer', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('approvals_needed', sa.Integer(), nullable=False),
    sa.Column('approvals', sa.Integer(), nullable=False),
    sa.Column('approval_request_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('decided_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failure', sa.JSON(), nullable=True),
    sa.Column('executed_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_request_id'], ['approval_request.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_user_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('refund_request', schema=None) as batch_op:
        batch_op.create_index('ix_refund_request_state_entered', ['state', 'state_entered_at'], unique=False)
        batch_op.create_index('ix_refund_request_order', ['order_id', 'id'], unique=False)
        batch_op.create_index('ix_refund_request_lease', ['state', 'lease_until'], unique=False)
    op.create_table('refund_leg',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('gateway', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('gateway_reference', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('error_message', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('started_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['refund_request.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tender_id'], ['payment_tender.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('request_id', 'tender_id', name='uq_refund_leg_request_tender')
    )
    with op.batch_alter_table('refund_leg', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_leg_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_refund_leg_tender_state', ['tender_id', 'state'], unique=False)
    op.create_table('refund_review_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer', sa.String(length=64), nullable=False),
    sa.Column('flagged_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('flagged_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cleared_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('buyer')
    )


def downgrade() -> None:
    op.drop_table('refund_review_flag')
    with op.batch_alter_table('refund_leg', schema=None) as batch_op:
        batch_op.drop_index('ix_refund_leg_tender_state')
        batch_op.drop_index(batch_op.f('ix_refund_leg_request_id'))
    op.drop_table('refund_leg')
    with op.batch_alter_table('refund_request', schema=None) as batch_op:
        batch_op.drop_index('ix_refund_request_lease')
        batch_op.drop_index('ix_refund_request_order')
        batch_op.drop_index('ix_refund_request_state_entered')
    op.drop_table('refund_request')
