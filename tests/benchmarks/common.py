"""What the seeder, the driver and the in-process checks share: paths, configuration, sizes."""

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from rrc.config import normalise_database_url
from rrc.demo import DEMO_PASSWORD

# Databases, instance folders and logs live outside the repository.
BENCH_DIR = Path(os.environ.get("RRC_BENCH_DIR", "/work/bench"))
# Every seeded account (demo staff, generated staff and partners) has this password.
PASSWORD = DEMO_PASSWORD
# The benchmark signs its sessions with a fixed key: benchmark data only, never a deployment.
SECRET_KEY = "rrc-benchmark-only-secret-key-never-deployed"
COORDINATOR = "coordinator@ip-korea.org"
# The busy resource whose week view and page are measured (the demo's Operetta imager).
BUSY_RESOURCE = "INS-HCS-02"
# Generated slot resources that take the benchmark's booking submissions (see seed.py).
SUBMISSION_FACILITY = "F01"
SUBMISSION_RESOURCES = 10
# A realistic catalogue search term: matches a few dozen generated instruments.
SEARCH_TERM = "confocal"


def instance_path(database_url: str) -> Path:
    """The instance folder (photos, uploads) that goes with a seeded database."""
    return BENCH_DIR / f"instance-{database_name(database_url)}"


def database_name(database_url: str) -> str:
    """A short name for the database: the PostgreSQL database or the SQLite file's stem."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() == "sqlite":
        return f"sqlite-{Path(url.database or 'memory').stem}"
    return f"pg-{url.database}"


def refuse_shared_database(database_url: str) -> None:
    """Refuse databases that other people use: the seeder empties what it is given."""
    url = make_url(normalise_database_url(database_url))
    name = Path(url.database or "").stem if url.get_backend_name() == "sqlite" else url.database
    if not name or "bench" not in name:
        raise SystemExit(
            f"refusing {database_url!r}: benchmark databases must have 'bench' in their name "
            "(e.g. postgresql://postgres@127.0.0.1:5432/bench_large or "
            f"sqlite:///{BENCH_DIR}/bench_large.sqlite3)"
        )


def bench_config(database_url: str, **overrides) -> dict:
    """The portal's configuration for in-process work on a benchmark database."""
    config = {
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_path(database_url)),
        "SECRET_KEY": SECRET_KEY,
        "BASE_URL": "http://127.0.0.1:5000",
        "MAIL_SERVER": "",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(overrides)
    return config


def server_environment(database_url: str, ratelimit_uri: str) -> dict[str, str]:
    """Environment variables of the gunicorn server for a benchmark database."""
    environment = dict(os.environ)
    for name in list(environment):
        if name.startswith("RRC_"):
            del environment[name]
    environment.update(
        {
            "RRC_DATABASE_URL": database_url,
            "RRC_INSTANCE_PATH": str(instance_path(database_url)),
            "RRC_SECRET_KEY": SECRET_KEY,
            "RRC_BASE_URL": "http://127.0.0.1:5000",
            "RRC_RATELIMIT_STORAGE_URI": ratelimit_uri,
        }
    )
    return environment


def database_size(engine: Engine) -> int:
    """Bytes the database takes: ``pg_database_size``, or the SQLite file (with its WAL)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return int(
                connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
            )
    path = Path(engine.url.database)
    return sum(
        candidate.stat().st_size
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )


def megabytes(size: int) -> str:
    """A size in MB with one decimal."""
    return f"{size / 1_000_000:,.1f} MB"
