"""B2B approvals (issue 15): approval requests, decisions, rejections

Revision ID: 4a0c0a000012
Revises: 4a0c0a000011
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000012'
down_revision = '4a0c0a000011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('requester_user_id', sa.Integer(), nullable=True),
    sa.Column('requester_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('current_phase', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('subject_version', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('outcome_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('fault', sa.JSON(), nullable=True),
    sa.Column('phase_started_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['b2b_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requester_user_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_approval_request_inbox', 'approval_request', ['status', 'account_id', 'id'], unique=False)
    op.create_index('ix_approval_request_subject', 'approval_request', ['subject_type', 'subject_id', 'id'], unique=False)
    op.create_table('approval_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('approver_user_id', sa.Integer(), nullable=False),
    sa.Column('approver_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approver_user_id'], ['user_account.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['approval_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'phase', 'approver_user_id', name='uq_approval_decision_approver')
    )
    op.create_index(op.f('ix_approval_decision_request_id'), 'approval_decision', ['request_id'], unique=False)
    op.create_table('approval_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('approver_key', sa.String(length=280), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['approval_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_approval_slot_key', 'approval_slot', ['approver_key', 'request_id'], unique=False)
    op.create_index(op.f('ix_approval_slot_request_id'), 'approval_slot', ['request_id'], unique=False)
    op.create_table('cart_rejection_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cart_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['cart.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['approval_request.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_cart_rejection_event_cart_id'), 'cart_rejection_event', ['cart_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_cart_rejection_event_cart_id'), table_name='cart_rejection_event')
    op.drop_table('cart_rejection_event')
    op.drop_index(op.f('ix_approval_slot_request_id'), table_name='approval_slot')
    op.drop_index('ix_approval_slot_key', table_name='approval_slot')
    op.drop_table('approval_slot')
    op.drop_index(op.f('ix_approval_decision_request_id'), table_name='approval_decision')
    op.drop_table('approval_decision')
    op.drop_index('ix_approval_request_subject', table_name='approval_request')
    op.drop_index('ix_approval_request_inbox', table_name='approval_request')
    op.drop_table('approval_request')
