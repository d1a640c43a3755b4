"""The models and the migrations agree, on every backend the suite runs."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from runtime.migrate import current_revision, head_revision
from runtime.models import all_models


def test_database_is_at_the_head_revision(database):
    assert current_revision(database.engine) == head_revision()


def test_models_and_migrations_agree(database):
    all_models()
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)

    assert diff == []
