"""admin drafts (issue 6): definition sources saved in the admin UI without publishing

Revision ID: 4a0c0a000008
Revises: 4a0c0a000007
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000008'
down_revision = '4a0c0a000007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('definition_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('base_revision', sa.Integer(), nullable=True),
    sa.Column('updated_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'name', 'author', name='uq_definition_draft')
    )


def downgrade() -> None:
    op.drop_table('definition_draft')
