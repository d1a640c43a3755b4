"""automations: events received, firings, events taken by a firing

Revision ID: 3b7f0a2c4d20
Revises: 3b7f0a2c4d10
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '3b7f0a2c4d20'
down_revision = '3b7f0a2c4d10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('automation_event',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('occurred_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('received_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('automation_event', schema=None) as batch_op:
        batch_op.create_index('ix_automation_event_type_time', ['type', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_automation_event_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_automation_event_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_automation_event_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_automation_event_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_automation_event_processed_at'), ['processed_at'], unique=False)

    op.create_table('automation_firing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('automation', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('match_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('event_ids', sa.JSON(), nullable=False),
    sa.Column('correlation', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('fired_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('automation', 'match_key', name='uq_automation_firing_match')
    )
    op.create_table('automation_match',
    sa.Column('automation', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('firing_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['firing_id'], ['automation_firing.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('automation', 'event_id')
    )


def downgrade() -> None:
    op.drop_table('automation_match')
    op.drop_table('automation_firing')
    with op.batch_alter_table('automation_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_automation_event_processed_at'))
        batch_op.drop_index(batch_op.f('ix_automation_event_entity_id'))
        batch_op.drop_index(batch_op.f('ix_automation_event_customer_id'))
        batch_op.drop_index(batch_op.f('ix_automation_event_account_id'))
        batch_op.drop_index(batch_op.f('ix_automation_event_occurred_at'))
        batch_op.drop_index('ix_automation_event_type_time')
    op.drop_table('automation_event')
