"""Alembic environment. Run through ``vectis db upgrade`` (see runtime/migrate.py)."""
from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from runtime.db import create_db_engine
from runtime.models import all_models

all_models()
config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `vectis db upgrade`")
run_migrations_online()
