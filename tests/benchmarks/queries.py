"""In-process checks on a seeded database: SQL statements per page, and query plans.

The pages run through the Flask test client against the seeded database (logged in through
the real login form), and a ``before_cursor_execute`` listener counts the statements each one
sends. Transaction control (BEGIN, COMMIT, SAVEPOINT …) is not counted, so that SQLite's explicit
BEGIN does not make the two databases look different.
"""

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import process_time

from flask import Flask
from sqlalchemy import event, select

from rrc import create_app
from rrc.bookings import availability
from rrc.bookings.services import overlapping
from rrc.extensions import db
from rrc.models import ACTIVE_STATUSES, Booking, Resource
from tests.benchmarks.common import PASSWORD, bench_config
from tests.benchmarks.scenario import CSRF_FIELD, SEOUL, Scenario, find_scenario, free_windows

CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


@dataclass
class Captured:
    statements: list[tuple[str, object]]

    @property
    def count(self) -> int:
        return sum(1 for statement, _parameters in self.statements if not CONTROL.match(statement))


@contextmanager
def capture(app: Flask):
    """Collect the SQL statements sent while the block runs."""
    captured = Captured([])

    def listener(_connection, _cursor, statement, parameters, _context, _executemany):
        captured.statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def portal(database_url: str) -> Flask:
    """The portal on a benchmark database, configured as the server is (CSRF on)."""
    return create_app(bench_config(database_url))


def _login(client, email: str) -> None:
    page = client.get("/login")
    token = CSRF_FIELD.search(page.data).group(1).decode()
    response = client.post(
        "/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    if response.status_code != 302:
        raise RuntimeError(f"in-process login of {email} failed ({response.status_code})")


@dataclass
class PageCost:
    """What one visit of a page costs in process: SQL statements, and CPU of the portal's own
    process (Python, templates, the driver; not the PostgreSQL server's work)."""

    statements: int
    cpu_ms: float


def page_costs(database_url: str, repeat: int = 5) -> tuple[Scenario, dict[str, PageCost]]:
    """Statements of the second visit of each page (the first warms caches) and the mean CPU
    time of ``repeat`` visits; submissions each take their own free session."""
    app = portal(database_url)
    with app.app_context():
        scenario = find_scenario()
        windows = iter(free_windows(limit=repeat + 2))
    costs: dict[str, PageCost] = {}
    clients = {}
    for role, email in scenario.logins.items():
        client = app.test_client()
        _login(client, email)
        clients[role] = client
    clients[None] = app.test_client()
    for page in scenario.pages:
        client = clients[page.role]

        def visit(page=page, client=client) -> tuple[int, float]:
            """One measured request: its SQL statements and the CPU it took."""
            method, path, body = "GET", page.path, None
            if page.submission:
                window = next(windows)
                method, path = "POST", page.path.format(code=window.code)
                token = CSRF_FIELD.search(client.get(path).data).group(1).decode()
                body = window.form(token, "Query count check")
            with capture(app) as captured:
                started = process_time()
                response = client.open(
                    path,
                    method=method,
                    data=body,
                    content_type="application/x-www-form-urlencoded" if body else None,
                )
                cpu = process_time() - started
            expected = 302 if page.submission else 200
            if response.status_code != expected or not (
                page.submission or page.marker in response.data
            ):
                raise RuntimeError(f"{page.name}: unexpected answer {response.status_code}")
            return captured.count, cpu

        visit()  # warms what is cached per process
        statements, _cpu = visit()
        cpu = sum(visit()[1] for _ in range(repeat))
        costs[page.name] = PageCost(statements, 1000 * cpu / repeat)
    with app.app_context():
        db.engine.dispose()
    return scenario, costs


def explain_overlap_check(database_url: str) -> str:
    """The query plans of the booking overlap check (``bookings.services.overlapping``) and of
    the week view's booking query, for a session in the busiest week of the busy resource."""
    app = portal(database_url)
    lines = []
    with app.app_context():
        scenario = find_scenario()
        resource = db.session.scalar(select(Resource).where(Resource.code == scenario.busy_code))
        monday = datetime.combine(scenario.week_start, time(0), tzinfo=SEOUL).astimezone(UTC)
        first = db.session.scalar(
            select(Booking.starts_at)
            .where(
                Booking.resource_id == resource.id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at >= monday + timedelta(days=1),
            )
            .order_by(Booking.starts_at)
            .limit(1)
        )
        start, end = first, first + timedelta(hours=1)
        _loaded = resource.facility.timezone  # only the check's own statements are captured
        with capture(app) as checked:
            overlapping(resource, start, end)
        with capture(app) as week:
            availability.week(resource, scenario.week_start, None)
        dialect = db.engine.dialect.name
        lines.append(
            f"Overlap check on {scenario.busy_code} for {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC "
            f"({dialect}):"
        )
        statements = [
            (
                f"{part}: {'active bookings' if 'FROM booking' in statement else 'closures'}",
                statement,
                parameters,
            )
            for part, captured in (("overlap check", checked), ("week view", week))
            for statement, parameters in captured.statements
            if "FROM booking" in statement or "FROM closure" in statement
        ]
        with db.engine.connect() as connection:
            for title, statement, parameters in statements:
                lines.append("")
                lines.append(f"-- {title}")
                lines.append(" ".join(statement.split()))
                lines.append(f"-- parameters: {parameters}")
                if dialect == "postgresql":
                    plan = connection.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                    )
                    lines += [f"   {row[0]}" for row in plan]
                else:
                    plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                    lines += [f"   {row[-1]}" for row in plan]
        db.engine.dispose()
    return "\n".join(lines)
