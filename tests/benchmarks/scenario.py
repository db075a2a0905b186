"""What the benchmark visits on a seeded database: pages, the people who see them, free slots.

Everything here is read from the database before a measurement starts (never while timing).
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select

from rrc.bookings.availability import monday_of
from rrc.extensions import db
from rrc.models import (
    ACTIVE_STATUSES,
    Booking,
    Closure,
    Facility,
    Organisation,
    OrganisationStatus,
    OutboxMessage,
    RequestStatus,
    Resource,
    ResourceRequest,
    User,
    UserKind,
    UserStatus,
)
from rrc.models.types import utcnow
from tests.benchmarks.common import (
    BUSY_RESOURCE,
    COORDINATOR,
    SEARCH_TERM,
    SUBMISSION_FACILITY,
    SUBMISSION_RESOURCES,
)

CSRF_FIELD = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
SEOUL = ZoneInfo("Asia/Seoul")
# Length of one submitted session, and the hours of the submission facility's day.
SESSION = timedelta(hours=1)
FIRST_HOUR, LAST_HOUR = 8, 19


@dataclass(frozen=True)
class Page:
    """One measured page: who sees it and how a right answer is recognised."""

    name: str
    path: str
    role: str | None  # None: a visitor; "coordinator", "owner" (of the request), "submitter"
    marker: bytes  # bytes the right page contains
    submission: bool = False


@dataclass(frozen=True)
class Window:
    """A free session of a submission resource."""

    code: str
    start: datetime  # UTC

    @property
    def week(self) -> str:
        """The Monday of the session's week in the facility's zone (the form's hidden field)."""
        return monday_of(self.start.astimezone(SEOUL).date()).isoformat()

    def form(self, csrf_token: str, title: str) -> bytes:
        """The request form's fields for a complete submission of this session."""
        cells = [self.start, self.start + timedelta(minutes=30)]
        fields = [
            ("csrf_token", csrf_token),
            ("title", title),
            ("purpose", "Imaging of infected organoids for the benchmark."),
            ("principal_investigator", "Prof. Benchmark"),
            ("payer", "Benchmark University"),
            ("billing_contact", "Billing Office"),
            ("billing_email", "billing@bench.example.org"),
            ("po_number", ""),
            ("usage_mode", "self_use"),
            ("week", self.week),
            *(("slot", cell.isoformat()) for cell in cells),
            ("accept_terms", "y"),
            ("send", "Submit for review"),
        ]
        return urlencode(fields).encode()


@dataclass
class Scenario:
    """The pages and people of one benchmark run on one database."""

    busy_code: str
    week_start: date
    week_bookings: int
    request_reference: str
    request_owner: str
    submitter: str
    submission_codes: list[str]

    @property
    def pages(self) -> list[Page]:
        return [
            Page("/healthz", "/healthz", None, b"ok"),
            Page("catalogue list", "/catalogue/", None, b'<li class="card'),
            Page(
                "catalogue search",
                f"/catalogue/?{urlencode({'q': SEARCH_TERM})}",
                None,
                b"onfocal",
            ),
            Page("resource page", f"/catalogue/{self.busy_code}", None, self.busy_code.encode()),
            Page(
                "week view (busy)",
                f"/bookings/{self.busy_code}/week?start={self.week_start.isoformat()}",
                None,
                b"week-grid",
            ),
            Page("staff: waiting for me", "/staff/requests/waiting", "coordinator", b"RRC-"),
            Page("staff: all requests", "/staff/requests/", "coordinator", b"RRC-"),
            Page(
                "request page (partner)",
                f"/requests/{self.request_reference}",
                "owner",
                self.request_reference.encode(),
            ),
            Page(
                "booking submission",
                "/requests/new/{code}",
                "submitter",
                b"/requests/RRC-",
                submission=True,
            ),
        ]

    @property
    def logins(self) -> dict[str, str]:
        """Role → e-mail of the account that plays it."""
        return {
            "coordinator": COORDINATOR,
            "owner": self.request_owner,
            "submitter": self.submitter,
        }


def busiest_week(resource: Resource, today: date) -> tuple[date, int]:
    """The week from next week on (up to eight weeks ahead) with the most active bookings."""
    best = (monday_of(today + timedelta(days=7)), -1)
    for offset in range(1, 9):
        monday = monday_of(today + timedelta(days=7 * offset))
        start = datetime.combine(monday, time(0), tzinfo=SEOUL).astimezone(UTC)
        count = db.session.scalar(
            select(func.count(Booking.id)).where(
                Booking.resource_id == resource.id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at >= start,
                Booking.starts_at < start + timedelta(days=7),
            )
        )
        if count > best[1]:
            best = (monday, count)
    return best


def find_scenario() -> Scenario:
    """Read the pages' subjects from the seeded database (inside an app context)."""
    busy = db.session.scalar(select(Resource).where(Resource.code == BUSY_RESOURCE))
    if busy is None:
        raise SystemExit(f"{BUSY_RESOURCE} is missing: is this a seeded benchmark database?")
    today = utcnow().astimezone(SEOUL).date()
    week_start, week_bookings = busiest_week(busy, today)
    # A partner's approved request for the busy resource, with its sessions and timeline.
    shown = db.session.execute(
        select(ResourceRequest.reference, User.email)
        .join(User, User.id == ResourceRequest.requester_id)
        .where(
            ResourceRequest.resource_id == busy.id,
            ResourceRequest.status == RequestStatus.APPROVED,
            User.status == UserStatus.ACTIVE,
        )
        .order_by(ResourceRequest.id.desc())
        .limit(1)
    ).one()
    submitter = db.session.scalar(
        select(User.email)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.kind == UserKind.PARTNER,
            User.status == UserStatus.ACTIVE,
            Organisation.status == OrganisationStatus.VERIFIED,
            User.email.like("partner%"),
        )
        .order_by(User.id)
        .limit(1)
    )
    return Scenario(
        busy_code=busy.code,
        week_start=week_start,
        week_bookings=week_bookings,
        request_reference=shown.reference,
        request_owner=shown.email,
        submitter=submitter,
        submission_codes=[resource.code for resource in submission_resources()],
    )


def submission_resources() -> list[Resource]:
    """The generated open-every-day instruments that take the benchmark's submissions."""
    return list(
        db.session.scalars(
            select(Resource)
            .join(Facility, Facility.id == Resource.facility_id)
            .where(
                Facility.code == SUBMISSION_FACILITY,
                Resource.max_advance_days == 365,
                Resource.active.is_(True),
            )
            .order_by(Resource.id)
            .limit(SUBMISSION_RESOURCES)
        )
    )


# Titles of the requests the benchmark itself files (see Window.form's callers).
SUBMISSION_TITLES = ("Benchmark submission %", "Query count check")


def remove_submissions() -> int:
    """Delete the requests the benchmark filed (their steps, events and bookings go with them)
    and the mail queued for them, so that every run measures the database as it was seeded.

    The mail goes too because SQLite hands a deleted row's id out again: a new request with an
    old id would find "its" messages queued already and skip them. (The seeder queues no mail,
    so request mail whose request is gone is the benchmark's as well.)
    """
    condition = or_(*(ResourceRequest.title.like(title) for title in SUBMISSION_TITLES))
    filed = set(db.session.scalars(select(ResourceRequest.id).where(condition)))
    queued = list(
        db.session.execute(
            select(OutboxMessage.id, OutboxMessage.idempotency_key).where(
                OutboxMessage.idempotency_key.like("request:%")
            )
        )
    )
    referenced = {int(key.split(":")[1]) for _message_id, key in queued}
    existing: set[int] = set()
    ordered = sorted(referenced)
    for start in range(0, len(ordered), 500):
        batch = ordered[start : start + 500]
        existing |= set(
            db.session.scalars(select(ResourceRequest.id).where(ResourceRequest.id.in_(batch)))
        )
    mail = [
        message_id
        for message_id, key in queued
        if int(key.split(":")[1]) in filed or int(key.split(":")[1]) not in existing
    ]
    for start in range(0, len(mail), 500):
        db.session.execute(
            delete(OutboxMessage).where(OutboxMessage.id.in_(mail[start : start + 500]))
        )
    db.session.execute(
        delete(ResourceRequest).where(condition).execution_options(synchronize_session=False)
    )
    db.session.commit()
    return len(filed)


def free_windows(limit: int | None = None) -> list[Window]:
    """Free one-hour sessions of the submission resources, from two days ahead, taking turns
    between resources so that consecutive submissions rarely wait for the same resource row."""
    now = utcnow()
    first_day = now.astimezone(SEOUL).date() + timedelta(days=2)
    last_day = (now + timedelta(days=360)).astimezone(SEOUL).date()
    period_start = datetime.combine(first_day, time(0), tzinfo=SEOUL).astimezone(UTC)
    period_end = datetime.combine(last_day, time(0), tzinfo=SEOUL).astimezone(UTC)
    per_resource = []
    for resource in submission_resources():
        busy = [
            (row.starts_at, row.ends_at)
            for row in db.session.execute(
                select(Booking.starts_at, Booking.ends_at).where(
                    Booking.resource_id == resource.id,
                    Booking.status.in_(ACTIVE_STATUSES),
                    Booking.starts_at < period_end,
                    Booking.ends_at > period_start,
                )
            )
        ]
        busy += [
            (row.starts_at, row.ends_at)
            for row in db.session.execute(
                select(Closure.starts_at, Closure.ends_at).where(
                    or_(
                        Closure.resource_id == resource.id,
                        Closure.facility_id == resource.facility_id,
                    ),
                    Closure.starts_at < period_end,
                    Closure.ends_at > period_start,
                )
            )
        ]
        windows = []
        day = first_day
        while day < last_day:
            for hour in range(FIRST_HOUR, LAST_HOUR + 1):
                start = datetime.combine(day, time(hour), tzinfo=SEOUL).astimezone(UTC)
                end = start + SESSION
                if not any(
                    taken_start < end and taken_end > start for taken_start, taken_end in busy
                ):
                    windows.append(Window(resource.code, start))
            day += timedelta(days=1)
        per_resource.append(windows)
    interleaved = [window for turn in zip(*per_resource, strict=False) for window in turn]
    return interleaved[:limit] if limit else interleaved
