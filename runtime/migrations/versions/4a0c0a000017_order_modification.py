"""order modification, re-curation and overdraft drafts (issue 14)

Revision ID: 4a0c0a000017
Revises: 4a0c0a000016
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000017'
down_revision = '4a0c0a000016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tender_recuration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'sequence', name='uq_tender_recuration_order_sequence')
    )
    with op.batch_alter_table('tender_recuration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_recuration_order_id'), ['order_id'], unique=False)
    op.create_table('overdraft_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('expires_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['stored_value_account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['stored_value_entry.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id')
    )
    with op.batch_alter_table('overdraft_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_overdraft_draft_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_overdraft_draft_state_expires', ['state', 'expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('overdraft_draft', schema=None) as batch_op:
        batch_op.drop_index('ix_overdraft_draft_state_expires')
        batch_op.drop_index(batch_op.f('ix_overdraft_draft_account_id'))
    op.drop_table('overdraft_draft')
    with op.batch_alter_table('tender_recuration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_recuration_order_id'))
    op.drop_table('tender_recuration')
