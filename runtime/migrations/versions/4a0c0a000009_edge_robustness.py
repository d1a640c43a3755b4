"""edge robustness (issue 12): idempotency keys scoped to the caller

Revision ID: 4a0c0a000009
Revises: 4a0c0a000008
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000009'
down_revision = '4a0c0a000008'
branch_labels = None
depends_on = None


#: Names the unnamed unique constraints of ``orders`` (created in 4a0c0a000003) so that SQLite's
#: table copy can drop one; PostgreSQL named it ``orders_idempotency_key_key`` itself.
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_unique(bind) -> str:
    return "orders_idempotency_key_key" if bind.dialect.name == "postgresql" else "uq_orders_idempotency_key"


def upgrade() -> None:
    # Idempotency keys become unique per caller (scope), no longer across the whole store.
    bind = op.get_bind()
    with op.batch_alter_table('orders', schema=None, naming_convention=NAMES) as batch_op:
        batch_op.add_column(sa.Column('idempotency_scope', sa.String(length=64), nullable=True))
        batch_op.drop_constraint(_old_unique(bind), type_='unique')
        batch_op.create_unique_constraint('uq_orders_idempotency', ['idempotency_scope', 'idempotency_key'])


def downgrade() -> None:
    bind = op.get_bind()
    # Keys two callers share cannot be globally unique again: all but the oldest are released.
    op.execute(sa.text(
        "UPDATE orders SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL AND id NOT IN "
        "(SELECT MIN(id) FROM orders WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key)"))
    with op.batch_alter_table('orders', schema=None, naming_convention=NAMES) as batch_op:
        batch_op.drop_constraint('uq_orders_idempotency', type_='unique')
        batch_op.drop_column('idempotency_scope')
        batch_op.create_unique_constraint(_old_unique(bind), ['idempotency_key'])
