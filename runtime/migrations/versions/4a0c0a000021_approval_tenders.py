"""approver tender curation and quorum notices (issue 15)

Revision ID: 4a0c0a000021
Revises: 4a0c0a000020
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000021'
down_revision = '4a0c0a000020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval_tender_curation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('cart_id', sa.Integer(), nullable=False),
    sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['cart.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['approval_request.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_approval_tender_curation_request_id'), 'approval_tender_curation', ['request_id'], unique=False)
    op.create_index(op.f('ix_approval_tender_curation_cart_id'), 'approval_tender_curation', ['cart_id'], unique=False)
    op.create_table('approval_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('raised_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cleared_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['b2b_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['approval_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_approval_alert_account', 'approval_alert', ['account_id', 'cleared_at', 'id'], unique=False)
    op.create_index(op.f('ix_approval_alert_request_id'), 'approval_alert', ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_approval_alert_request_id'), table_name='approval_alert')
    op.drop_index('ix_approval_alert_account', table_name='approval_alert')
    op.drop_table('approval_alert')
    op.drop_index(op.f('ix_approval_tender_curation_cart_id'), table_name='approval_tender_curation')
    op.drop_index(op.f('ix_approval_tender_curation_request_id'), table_name='approval_tender_curation')
    op.drop_table('approval_tender_curation')
