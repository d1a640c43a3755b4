"""tax engine (issue 17): jurisdictions, rates, order tax lines

Revision ID: 4a0c0a000013
Revises: 4a0c0a000012
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000013'
down_revision = '4a0c0a000012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tax_jurisdiction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('postal', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('shipping_taxable', sa.Boolean(), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('channel_tax_settings',
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('prices_include_tax', sa.Boolean(), nullable=False),
    sa.Column('rounding', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('failure_policy', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('seller_country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('updated_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('channel_id')
    )
    op.create_table('tax_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=64), nullable=False),
    sa.Column('tax_class', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rate', runtime.db.ExactDecimal(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('compound', sa.Boolean(), nullable=False),
    sa.Column('excise_unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['tax_jurisdiction.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('jurisdiction_code', 'tax_class', 'stage', 'valid_from', name='uq_tax_rate')
    )
    op.create_index(op.f('ix_tax_rate_jurisdiction_code'), 'tax_rate', ['jurisdiction_code'], unique=False)
    op.create_table('order_tax_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('jurisdiction', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('rate_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rate', runtime.db.ExactDecimal(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('tax_class', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('compound', sa.Boolean(), nullable=False),
    sa.Column('base', runtime.db.ExactDecimal(), nullable=False),
    sa.Column('amount', runtime.db.MoneyAmount(precision=19, scale=4), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_order_tax_line_order_id'), 'order_tax_line', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_order_tax_line_order_id'), table_name='order_tax_line')
    op.drop_table('order_tax_line')
    op.drop_index(op.f('ix_tax_rate_jurisdiction_code'), table_name='tax_rate')
    op.drop_table('tax_rate')
    op.drop_table('channel_tax_settings')
    op.drop_table('tax_jurisdiction')
