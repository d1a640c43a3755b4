"""labels (issue 5): the catalog-wide label index, its per-label state, and the predicate
functions each indexed label revision calls

Revision ID: 4a0c0a000007
Revises: 4a0c0a000006
"""
from alembic import op
import sqlalchemy as sa
import runtime.db


revision = '4a0c0a000007'
down_revision = '4a0c0a000006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('product_label',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('label_name', sa.String(length=64), nullable=False),
    sa.Column('label_revision', sa.Integer(), nullable=False),
    sa.Column('computed_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', 'label_name')
    )
    op.create_index('ix_product_label_label', 'product_label', ['label_name', 'product_id'], unique=False)
    op.create_table('label_index_state',
    sa.Column('label_name', sa.String(length=64), nullable=False),
    sa.Column('label_revision', sa.Integer(), nullable=False),
    sa.Column('computed_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('product_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('label_name')
    )
    op.create_table('label_function_reference',
    sa.Column('label_name', sa.String(length=64), nullable=False),
    sa.Column('extension', sa.String(length=64), nullable=False),
    sa.Column('function', sa.String(length=128), nullable=False),
    sa.Column('label_revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('label_name', 'extension', 'function')
    )
    op.create_index('ix_label_function_reference_extension', 'label_function_reference',
                    ['extension', 'function'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_label_function_reference_extension', table_name='label_function_reference')
    op.drop_table('label_function_reference')
    op.drop_table('label_index_state')
    op.drop_index('ix_product_label_label', table_name='product_label')
    op.drop_table('product_label')
