"""Alembic environment: runs migrations on the Flask app's engine and metadata."""

from alembic import context
from flask import current_app

config = context.config
database = current_app.extensions["migrate"].db
target_metadata = database.metadata


def include_object(_object, name, type_, _reflected, _compare_to):
    """Skip objects that belong to PostgreSQL extensions, not to our models."""
    return not (type_ == "table" and name == "spatial_ref_sys")


def run_offline() -> None:
    """Emit SQL to standard output instead of running it."""
    context.configure(
        url=database.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on a live connection, one transaction for the lot."""
    options = {"compare_type": True, **current_app.extensions["migrate"].configure_args}
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            **options,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
