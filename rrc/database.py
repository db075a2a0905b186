"""Engine set-up: SQLite in WAL mode with explicit BEGIN (SQLAlchemy's documented recipe)."""

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from rrc.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_BEGIN_MODES = {"DEFERRED", "IMMEDIATE", "EXCLUSIVE"}


def engine_options(database_uri: str) -> dict:
    """Engine options for the configured database."""
    if database_uri.startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    return {"pool_pre_ping": True}


def configure_sqlite(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, emit BEGIN so that ``BEGIN IMMEDIATE`` takes the lock up front.

    pysqlite defers BEGIN until the first write, which would let two writers both read and then
    race; with ``isolation_level = None`` and our own BEGIN the busy timeout applies at the start.
    A transaction asks for ``BEGIN IMMEDIATE`` with the execution option ``sqlite_begin``.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        default = "IMMEDIATE" if _in_writing_request() else "DEFERRED"
        mode = str(connection.get_execution_options().get("sqlite_begin", default)).upper()
        if mode not in SQLITE_BEGIN_MODES:
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _in_writing_request() -> bool:
    """True inside a POST (or other unsafe-method) request: only those may write.

    A deferred transaction that reads and then writes fails at once with "database is locked" if
    another connection wrote in between; taking the lock at BEGIN makes it wait instead.
    """
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def init_database(app: Flask) -> None:
    """Bind the database extension and tune the engine for its dialect."""
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    )
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)


def write_transaction_options() -> dict:
    """Execution options for a transaction that takes the write lock with its first statement."""
    return {"sqlite_begin": "IMMEDIATE"}
