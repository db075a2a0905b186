"""`flask db upgrade` on an empty database gives exactly the models' schema."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from rrc import create_app
from rrc.config import normalise_database_url
from rrc.extensions import db
from tests.conftest import TEST_DATABASE_URL, base_config, is_postgres


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database of the suite's kind."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    admin_url = make_url(normalise_database_url(TEST_DATABASE_URL))
    name = f"rrc_migrations_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_matches_models_and_downgrades_cleanly(tmp_path, empty_database_url):
    app = create_app(base_config(tmp_path, DATABASE_URL=empty_database_url))
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory)
        assert schema_differences() == []
        tables = set(inspect(db.engine).get_table_names())
        assert {"user", "organisation", "outbox_message", "audit_log"} <= tables
        downgrade(directory=directory, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=directory)
        assert schema_differences() == []
        db.engine.dispose()
