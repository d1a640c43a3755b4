"""state machines: the shared transition history table

Revision ID: 3b7f0a2c4d10
Revises: 0cd6690dd7d8
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '3b7f0a2c4d10'
down_revision = '0cd6690dd7d8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('state_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('machine', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('entity_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('transition', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('state_transition', schema=None) as batch_op:
        batch_op.create_index('ix_state_transition_entity', ['entity_type', 'entity_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('state_transition', schema=None) as batch_op:
        batch_op.drop_index('ix_state_transition_entity')
    op.drop_table('state_transition')
