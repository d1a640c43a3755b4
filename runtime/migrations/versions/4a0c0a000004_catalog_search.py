"""catalog search: the product search document and its full-text index

PostgreSQL: a GIN index on ``to_tsvector('simple', search_document)``. SQLite: an FTS5 table
``product_search`` whose rowid is the product id (the service keeps it in sync). Neither is in the
SQLModel metadata; ``runtime.catalog.search_index`` tells autogenerate to leave them alone.

Revision ID: 4a0c0a000004
Revises: 4a0c0a000003
"""
from alembic import op
import sqlalchemy as sa


revision = '4a0c0a000004'
down_revision = '4a0c0a000003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('product') as batch_op:
        batch_op.add_column(sa.Column('search_document', sa.Text(), nullable=False, server_default=''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX ix_product_search_document ON product USING gin (to_tsvector('simple', search_document))")
    else:
        op.execute("CREATE VIRTUAL TABLE product_search USING fts5(document, tokenize = 'unicode61 remove_diacritics 2')")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_product_search_document")
    else:
        op.execute("DROP TABLE IF EXISTS product_search")
    with op.batch_alter_table('product') as batch_op:
        batch_op.drop_column('search_document')
