"""Shared fixtures: the app on SQLite (or PostgreSQL), clients, factories, a real SMTP server,
and a guard against unexpected SMTP connections."""

import os
import re
import smtplib
import socket
import threading
from dataclasses import dataclass, field
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import event, select, text

from rrc import create_app
from rrc.extensions import db, limiter
from rrc.models import (
    BookingMode,
    DocumentType,
    Facility,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    OutboxMessage,
    PriceTier,
    Rate,
    Resource,
    ResourceKind,
    User,
    UserKind,
    UserStatus,
)
from rrc.requests import services
from rrc.security import hash_password


def _worker_database_url(url: str) -> str:
    """Under pytest-xdist, each worker gets its own PostgreSQL database beside the given one.

    The suite empties and rebuilds its schema, so two workers must never share one. The worker's
    database (``<name>_gw0``, …) is created on first use.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url.startswith("postgres") or not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from rrc.config import normalise_database_url

    base = make_url(normalise_database_url(url))
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


TEST_DATABASE_URL = _worker_database_url(os.environ.get("RRC_TEST_DATABASE_URL", ""))
PASSWORD = "correct horse battery staple 42"
_PASSWORD_HASH = hash_password(PASSWORD)


def is_postgres() -> bool:
    """True when the suite runs on PostgreSQL."""
    return TEST_DATABASE_URL.startswith("postgres")


def base_config(tmp_path, **overrides) -> dict:
    """Test configuration: fast, isolated, CSRF on, HTTPS base URL, no SMTP server."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "BASE_URL": "https://rrc.example.test",
        "SERVER_NAME": None,
        "MAIL_SERVER": "",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(overrides)
    return config


def reset_database() -> None:
    """Empty every table (PostgreSQL keeps its schema between tests)."""
    if db.engine.dialect.name == "postgresql":
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        db.drop_all()


_fresh_schema: list[bool] = []


@pytest.fixture
def app(tmp_path):
    """A fresh portal with an empty schema."""
    application = create_app(base_config(tmp_path))
    with application.app_context():
        if is_postgres():
            if not _fresh_schema:
                # The database may hold an older schema from an earlier run: start from nothing.
                with db.engine.begin() as connection:
                    connection.execute(text("DROP SCHEMA public CASCADE"))
                    connection.execute(text("CREATE SCHEMA public"))
                _fresh_schema.append(True)
            db.create_all()
            reset_database()
        else:
            db.create_all()
        limiter.reset()
        yield application
        db.session.remove()
        if is_postgres():
            reset_database()
        db.engine.dispose()


class FreshContextClient(FlaskClient):
    """Runs each request in its own application context, as a server does.

    The ``app`` fixture keeps a context open for the test body; without this, requests would share
    its ``g`` (CSRF token cache, logged-in user) and its database session.
    """

    def open(self, *args, **kwargs):
        # End the test body's transaction so that it sees what the request commits.
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    """A test client whose requests each get a fresh application context."""
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner bound to the app."""
    return app.test_cli_runner()


CSRF_PATTERN = re.compile(
    r'name="(?P<name>(?:[\w-]+-)?csrf_token)" type="hidden" value="(?P<value>[^"]+)"'
)
CSRF_PATTERN_REVERSED = re.compile(
    r'type="hidden" name="(?P<name>(?:[\w-]+-)?csrf_token)" value="(?P<value>[^"]+)"'
)


def csrf_tokens(html: str) -> dict[str, str]:
    """Every CSRF token field on a page, by field name."""
    found = {m["name"]: m["value"] for m in CSRF_PATTERN.finditer(html)}
    found.update({m["name"]: m["value"] for m in CSRF_PATTERN_REVERSED.finditer(html)})
    return found


def post_form(client, page_url: str, data: dict, action: str | None = None, **kwargs):
    """Load ``page_url``, take its CSRF tokens, and post ``data`` to ``action`` (or the page)."""
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    payload = dict(csrf_tokens(page.get_data(as_text=True)))
    payload.update(data)
    return client.post(action or page_url, data=payload, **kwargs)


def login(client, email: str, password: str = PASSWORD):
    """Log in through the real form."""
    return post_form(client, "/login", {"email": email, "password": password})


@dataclass
class Factory:
    """Builds rows with sensible defaults."""

    counter: list[int] = field(default_factory=lambda: [0])

    def _next(self) -> int:
        self.counter[0] += 1
        return self.counter[0]

    def organisation(self, **values) -> Organisation:
        number = self._next()
        defaults = {
            "name": f"Organisation {number}",
            "org_type": OrganisationType.UNIVERSITY,
            "country": "KR",
            "billing_email": f"billing{number}@org{number}.example",
            "address": f"{number} Test-ro, Seoul",
            "status": OrganisationStatus.VERIFIED,
        }
        defaults.update(values)
        organisation = Organisation(**defaults)
        db.session.add(organisation)
        db.session.commit()
        return organisation

    def user(self, **values) -> User:
        number = self._next()
        defaults = {
            "email": f"user{number}@example.org",
            "name": f"Test User {number}",
            "password_hash": _PASSWORD_HASH,
            "kind": UserKind.PARTNER,
            "status": UserStatus.ACTIVE,
        }
        defaults.update(values)
        if defaults["kind"] == UserKind.PARTNER and "organisation" not in defaults:
            defaults["organisation"] = self.organisation()
        user = User(**defaults)
        db.session.add(user)
        db.session.commit()
        return user

    def partner(self, **values) -> User:
        return self.user(kind=UserKind.PARTNER, **values)

    def staff(self, **values) -> User:
        return self.user(kind=UserKind.STAFF, organisation=None, **values)

    def coordinator(self, **values) -> User:
        return self.staff(is_coordinator=True, **values)

    def admin(self, **values) -> User:
        return self.staff(is_admin=True, **values)

    def facility_manager(self, *facilities: Facility, **values) -> User:
        manager = self.staff(is_facility_manager=True, **values)
        for facility in facilities:
            facility.managers.append(manager)
        db.session.commit()
        return manager

    def facility(self, **values) -> Facility:
        number = self._next()
        defaults = {
            "code": f"FAC-{number:03d}",
            "name": f"Facility {number}",
            "description": "A facility of the RRC.",
            "location": "Building A",
            "biosafety_level": 2,
            "opening_hours": {str(day): ["09:00", "18:00"] for day in range(1, 6)},
            "contact_email": f"facility{number}@ipk.example",
        }
        defaults.update(values)
        facility = Facility(**defaults)
        db.session.add(facility)
        db.session.commit()
        return facility

    def resource(self, rates: dict | None = None, **values) -> Resource:
        """A resource with a rate for every tier (override with ``rates={tier: (price, fee)}``)."""
        number = self._next()
        slot = values.get("booking_mode", BookingMode.SLOT) == BookingMode.SLOT
        defaults = {
            "code": f"INS-TEST-{number:03d}",
            "name": f"Test instrument {number}",
            "kind": ResourceKind.INSTRUMENT,
            "summary": "An instrument for tests.",
            "description": "Longer description of the instrument.",
            "biosafety_level": 2,
            "booking_mode": BookingMode.SLOT,
            "unit_label": "hour" if slot else "unit",
            "unit_minutes": 60 if slot else None,
            "approval_chain": ["coordinator", "facility_manager"],
            "required_documents": [],
        }
        defaults.update(values)
        if "facility" not in defaults and "facility_id" not in defaults:
            defaults["facility"] = self.facility()
        resource = Resource(**defaults)
        if rates is None:
            rates = {
                PriceTier.INTERNAL: (20_000, None),
                PriceTier.ACADEMIC: (60_000, None),
                PriceTier.SME: (90_000, None),
                PriceTier.INDUSTRY: (180_000, None),
            }
        for tier, price in rates.items():
            if price is None:
                resource.rates.append(Rate(tier=tier, on_quote=True))
            else:
                unit_price, setup_fee = price
                resource.rates.append(Rate(tier=tier, unit_price=unit_price, setup_fee=setup_fee))
        db.session.add(resource)
        db.session.commit()
        return resource


@pytest.fixture
def factory(app):
    """Factories for organisations and users (password: ``PASSWORD``)."""
    return Factory()


def outbox(**filters) -> list[OutboxMessage]:
    """Queued messages, oldest first, optionally filtered by column values."""
    statement = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in filters.items():
        statement = statement.where(getattr(OutboxMessage, name) == value)
    db.session.expire_all()
    return list(db.session.scalars(statement))


def link_in(message: OutboxMessage, base_url: str = "https://rrc.example.test") -> str:
    """The first portal link in a message's text part, as a path for the test client."""
    match = re.search(re.escape(base_url) + r"(/\S+)", message.text_body)
    assert match, message.text_body
    return match.group(1)


# --- SMTP: a real server, and a guard against any other connection -------------------------

_allowed_smtp_ports: set[int] = set()


@pytest.fixture(autouse=True)
def smtp_guard(monkeypatch):
    """Fail the test if code opens an SMTP connection that no ``smtp_server`` fixture expects."""
    real_connect = smtplib.SMTP.connect

    def guarded_connect(self, host="localhost", port=0, source_address=None):
        if int(port or 0) not in _allowed_smtp_ports:
            pytest.fail(f"unexpected SMTP connection to {host}:{port}")
        return real_connect(self, host, port, source_address)

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded_connect)
    yield
    _allowed_smtp_ports.clear()


class RecordingHandler:
    """Keeps every message the SMTP server receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    """A real aiosmtpd server that can be stopped and started again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.handler = RecordingHandler()
        self.controller = None
        _allowed_smtp_ports.add(self.port)

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return list(self.handler.messages)


@pytest.fixture
def smtp_server(app):
    """A running SMTP server the app is configured to relay to."""
    server = SMTPServer()
    server.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=5)
    yield server
    server.stop()


# --- requests: a cast of deciders and a hazardous material -----------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

COMMON = {
    "title": "Antiviral screen",
    "purpose": "Testing compounds against SARS-CoV-2.",
    "principal_investigator": "Prof. Kim",
    "payer": "Hanbit University",
    "billing_contact": "Finance office",
    "billing_email": "finance@hanbit.example",
    "accept_terms": True,
}
BIOSAFETY = {
    "agent_name": "SARS-CoV-2 (Delta)",
    "risk_group": 3,
    "ibc_approval_number": "IBC-2026-017",
    "ibc_approval_date": date(2026, 3, 1),
}
MATERIAL = {
    "quantity": 2,
    "material_form": "Frozen vial, 0.5 mL",
    "shipping_address": "1 Hanbit-ro, Seoul",
    "shipping_country": "KR",
    "receiving_person": "Dr. Lee",
    "receiving_phone": "010-1111-2222",
    "accept_mta": True,
}


@pytest.fixture
def people(factory):
    """A partner, a coordinator, the facility manager and a biosafety officer."""
    facility = factory.facility(code="FAC-BSL3", name="BSL-3 laboratory", biosafety_level=3)
    return {
        "facility": facility,
        "partner": factory.partner(name="Partner Person"),
        "coordinator": factory.coordinator(name="Coordinator Person"),
        "manager": factory.facility_manager(facility, name="Manager Person"),
        "other_manager": factory.facility_manager(factory.facility(), name="Other Manager"),
        "biosafety": factory.staff(is_biosafety_officer=True, name="Biosafety Person"),
    }


@pytest.fixture
def pathogen(factory, people):
    """A live BSL-3 high-risk pathogen material with the full chain and required documents."""
    return factory.resource(
        code="BIO-PATH-01",
        name="SARS-CoV-2 variant isolate",
        kind=ResourceKind.MATERIAL,
        booking_mode=BookingMode.QUANTITY,
        unit_label="vial",
        biosafety_level=3,
        high_risk_pathogen=True,
        facility=people["facility"],
        required_documents=[DocumentType.IBC_APPROVAL.value],
        approval_chain=["coordinator", "facility_manager", "biosafety"],
    )


def full_draft(partner, resource, **extra):
    draft = services.create_draft(partner, resource, {**COMMON, **BIOSAFETY, **MATERIAL, **extra})
    services.add_attachment(partner, draft, PDF, "ibc.pdf", DocumentType.IBC_APPROVAL)
    db.session.commit()
    return draft


def count_queries(client, url: str) -> int:
    """SQL statements one GET of ``url`` issues (the page must answer 200)."""
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)
