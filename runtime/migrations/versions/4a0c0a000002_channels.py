"""channels: channels (one default at most) and exchange rates

Revision ID: 4a0c0a000002
Revises: 4a0c0a000001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000002'
down_revision = '4a0c0a000001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('commerce_mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('default_currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('currencies', sa.JSON(), nullable=False),
    sa.Column('capture_mode', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    with op.batch_alter_table('channel', schema=None) as batch_op:
        batch_op.create_index('uq_channel_default', ['is_default'], unique=True, sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    op.create_table('exchange_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('base', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('quote', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('rate', runtime.db.ExactDecimal(), nullable=False),
    sa.Column('valid_from', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('base', 'quote', 'valid_from', name='uq_exchange_rate_pair_time')
    )


def downgrade() -> None:
    op.drop_table('exchange_rate')
    with op.batch_alter_table('channel', schema=None) as batch_op:
        batch_op.drop_index('uq_channel_default', sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    op.drop_table('channel')
