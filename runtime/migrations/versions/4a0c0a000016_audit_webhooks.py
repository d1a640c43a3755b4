"""audit log and webhooks (issue 18)

Revision ID: 4a0c0a000016
Revises: 4a0c0a000015
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import runtime.db


revision = '4a0c0a000016'
down_revision = '4a0c0a000015'
branch_labels = None
depends_on = None

# The audit log is append-only: the database refuses an UPDATE on both backends and a row DELETE
# on PostgreSQL (TRUNCATE, an operator's retention tool, stays possible; SQLite has no TRUNCATE,
# so a DELETE there stays the way to empty it).
PG_REFUSE = ("""
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log rows are append-only';
END $$
""", """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
""")
SQLITE_REFUSE = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log rows are append-only');
END
"""


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor_kind', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('api_key_id', sa.Integer(), nullable=True),
        sa.Column('actor_label', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('operation', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('operation_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column('target_ids', sa.JSON(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('error_codes', sa.JSON(), nullable=False),
        sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_log_occurred', 'audit_log', ['occurred_at', 'id'])
    op.create_index('ix_audit_log_operation', 'audit_log', ['operation', 'id'])
    op.create_index('ix_audit_log_user_id', 'audit_log', ['user_id'])
    op.create_index('ix_audit_log_api_key_id', 'audit_log', ['api_key_id'])
    if op.get_bind().dialect.name == 'postgresql':
        for statement in PG_REFUSE:
            op.execute(statement)
    else:
        op.execute(SQLITE_REFUSE)

    op.create_table(
        'webhook_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('secrets', sa.JSON(), nullable=False),
        sa.Column('previous_expires_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_subscription_event_type', 'webhook_subscription', ['event_type'])
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('created_at', runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('log', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscription.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscription_id', 'event_id', name='uq_webhook_delivery_event'),
    )
    op.create_index('ix_webhook_delivery_subscription_id', 'webhook_delivery', ['subscription_id'])
    op.create_index('ix_webhook_delivery_due', 'webhook_delivery', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_webhook_delivery_due', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_subscription_id', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_index('ix_webhook_subscription_event_type', table_name='webhook_subscription')
    op.drop_table('webhook_subscription')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log')
        op.execute('DROP FUNCTION IF EXISTS audit_log_append_only()')
    op.drop_index('ix_audit_log_api_key_id', table_name='audit_log')
    op.drop_index('ix_audit_log_user_id', table_name='audit_log')
    op.drop_index('ix_audit_log_operation', table_name='audit_log')
    op.drop_index('ix_audit_log_occurred', table_name='audit_log')
    op.drop_table('audit_log')
