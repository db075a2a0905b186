"""Booking integrity: rules, overlap checks and writes that can never double-book.

Every write that can create or move an active booking first writes the resource row (bumping
``booking_version``). On PostgreSQL that takes the row lock; on SQLite the transaction holds the
database write lock from its BEGIN (``BEGIN IMMEDIATE``). Only then are overlaps with active
bookings (widened by the resource's buffer) and closures checked, and the row inserted.
PostgreSQL's exclusion constraint is the last guard; its violation surfaces as the same
:class:`SlotConflict`.
"""

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from rrc.database import write_transaction_options
from rrc.extensions import db
from rrc.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Closure,
    Resource,
    ResourceRequest,
)
from rrc.models.bookings import EXCLUSION_CONSTRAINT
from rrc.models.types import utcnow


class BookingError(Exception):
    """A booking was refused; ``message`` says why and what would be allowed."""

    def __init__(self, message: str, rule: str = ""):
        super().__init__(message)
        self.message = message
        self.rule = rule


class RuleViolation(BookingError):
    """The slot breaks one of the resource's booking rules."""


@dataclass
class SlotConflict(BookingError):
    """The slot overlaps an active booking or a closure (including buffers)."""

    message: str = ""
    rule: str = "conflict"
    start: datetime | None = None
    end: datetime | None = None
    suggestions: list[tuple[datetime, datetime]] = field(default_factory=list)

    def __post_init__(self):
        Exception.__init__(self, self.message)


def zone_of(resource: Resource) -> ZoneInfo:
    """The facility's time zone, in which rules and opening hours are read."""
    return ZoneInfo(resource.facility.timezone or "Asia/Seoul")


def opening_hours(resource: Resource) -> dict[str, list[str]]:
    """Opening hours per ISO weekday: the resource's own, else its facility's."""
    return resource.opening_hours or resource.facility.opening_hours or {}


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def opening_window(resource: Resource, day: date) -> tuple[datetime, datetime] | None:
    """The open interval of ``day`` as aware datetimes in the facility's zone (None: closed)."""
    hours = opening_hours(resource).get(str(day.isoweekday()))
    if not hours:
        return None
    zone = zone_of(resource)
    opens = datetime.combine(day, _parse_hhmm(hours[0]), tzinfo=zone)
    closes = datetime.combine(day, _parse_hhmm(hours[1]), tzinfo=zone)
    return opens, closes


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def check_rules(resource: Resource, start: datetime, end: datetime, now: datetime) -> None:
    """Raise :class:`RuleViolation` naming the first rule the slot breaks."""
    zone = zone_of(resource)
    minutes = int((end - start).total_seconds() // 60)
    if end <= start:
        raise RuleViolation(_("A session must end after it starts."), "order")
    earliest = now + timedelta(hours=resource.min_notice_hours)
    if start < earliest:
        raise RuleViolation(
            _(
                "Book at least %(hours)d hours ahead: the earliest start is %(when)s.",
                hours=resource.min_notice_hours,
                when=_local(earliest, zone),
            ),
            "min_notice",
        )
    latest = now + timedelta(days=resource.max_advance_days)
    if start > latest:
        raise RuleViolation(
            _(
                "Book at most %(days)d days ahead: the latest start is %(when)s.",
                days=resource.max_advance_days,
                when=_local(latest, zone),
            ),
            "max_advance",
        )
    granularity = resource.slot_granularity_minutes or 1
    local_start = start.astimezone(zone)
    if (local_start.hour * 60 + local_start.minute) % granularity or local_start.second:
        raise RuleViolation(
            _(
                "Sessions start on the %(minutes)d-minute grid (e.g. 09:00, 09:%(step)02d).",
                minutes=granularity,
                step=granularity % 60,
            ),
            "granularity",
        )
    if minutes % granularity:
        raise RuleViolation(
            _("Sessions last a multiple of %(minutes)d minutes.", minutes=granularity),
            "granularity",
        )
    if minutes < resource.min_duration_minutes:
        raise RuleViolation(
            _("Sessions last at least %(minutes)d minutes.", minutes=resource.min_duration_minutes),
            "min_duration",
        )
    if minutes > resource.max_duration_minutes:
        raise RuleViolation(
            _("Sessions last at most %(minutes)d minutes.", minutes=resource.max_duration_minutes),
            "max_duration",
        )
    window = opening_window(resource, local_start.date())
    if window is None:
        raise RuleViolation(
            _("The facility is closed on %(day)s.", day=local_start.strftime("%Y-%m-%d (%a)")),
            "opening_hours",
        )
    if start < window[0] or end > window[1]:
        raise RuleViolation(
            _(
                "Sessions on %(day)s must lie between %(opens)s and %(closes)s.",
                day=local_start.strftime("%Y-%m-%d"),
                opens=window[0].strftime("%H:%M"),
                closes=window[1].strftime("%H:%M"),
            ),
            "opening_hours",
        )


def lock_resource(resource: Resource) -> None:
    """Serialise booking writes of one resource: write its row first (see module docstring)."""
    if not db.session().in_transaction():
        db.session.connection(execution_options=write_transaction_options())
    db.session.execute(
        update(Resource)
        .where(Resource.id == resource.id)
        .values(booking_version=Resource.booking_version + 1)
        .execution_options(synchronize_session=False)
    )


def overlapping(
    resource: Resource, start: datetime, end: datetime, *, ignore: tuple[int, ...] = ()
) -> tuple[list[Booking], list[Closure]]:
    """Active bookings (buffer included) and closures that overlap ``[start, end)``."""
    buffer = timedelta(minutes=resource.buffer_minutes or 0)
    statement = select(Booking).where(
        Booking.resource_id == resource.id,
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.starts_at < end + buffer,
        Booking.ends_at > start - buffer,
    )
    if ignore:
        statement = statement.where(Booking.id.not_in(ignore))
    bookings = list(db.session.scalars(statement))
    closures = list(
        db.session.scalars(
            select(Closure).where(
                or_(
                    Closure.resource_id == resource.id, Closure.facility_id == resource.facility_id
                ),
                Closure.starts_at < end,
                Closure.ends_at > start,
            )
        )
    )
    return bookings, closures


def free_slots_near(
    resource: Resource,
    start: datetime,
    end: datetime,
    now: datetime,
    count: int = 3,
    *,
    ignore: tuple[int, ...] = (),
) -> list[tuple[datetime, datetime]]:
    """The nearest free slots of the same length after ``start`` (within two weeks)."""
    length = end - start
    step = timedelta(minutes=resource.slot_granularity_minutes or 30)
    found: list[tuple[datetime, datetime]] = []
    candidate = start + step
    horizon = start + timedelta(days=14)
    while candidate < horizon and len(found) < count:
        candidate_end = candidate + length
        try:
            check_rules(resource, candidate, candidate_end, now)
        except RuleViolation:
            candidate += step
            continue
        bookings, closures = overlapping(resource, candidate, candidate_end, ignore=ignore)
        if not bookings and not closures:
            found.append((candidate, candidate_end))
        candidate += step
    return found


def conflict_message(resource: Resource, start: datetime, end: datetime) -> str:
    """What a partner is told when ``[start, end)`` is taken or closed."""
    zone = zone_of(resource)
    return _(
        "%(start)s to %(end)s is just taken or closed. Choose another time.",
        start=_local(start, zone),
        end=_local(end, zone)[-5:],
    )


def _conflict(resource, start, end, now, ignore=()) -> SlotConflict:
    return SlotConflict(
        message=conflict_message(resource, start, end),
        start=start,
        end=end,
        suggestions=free_slots_near(resource, start, end, now, ignore=ignore),
    )


def _ensure_free(resource, start, end, now, *, ignore=()) -> None:
    bookings, closures = overlapping(resource, start, end, ignore=ignore)
    if bookings or closures:
        raise _conflict(resource, start, end, now, ignore)


def _flush_guarded(resource, start, end, now) -> None:
    """Flush, turning PostgreSQL's exclusion-constraint violation into the same conflict."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        if EXCLUSION_CONSTRAINT in str(error.orig):
            raise _conflict(resource, start, end, now) from None
        raise


def hold(
    resource_request: ResourceRequest,
    slots: list[tuple[datetime, datetime]],
    now: datetime | None = None,
) -> list[Booking]:
    """Place held bookings for a submitted slot request (all or none)."""
    now = now or utcnow()
    resource = resource_request.resource
    if not slots:
        raise RuleViolation(_("Choose at least one session."), "slots")
    ordered = sorted(slots)
    for (_start, first_end), (second_start, _end) in itertools.pairwise(ordered):
        if second_start < first_end + timedelta(minutes=resource.buffer_minutes or 0):
            raise RuleViolation(_("Your sessions overlap each other."), "slots")
    lock_resource(resource)
    bookings = []
    for start, end in ordered:
        check_rules(resource, start, end, now)
        _ensure_free(resource, start, end, now)
        booking = Booking(
            resource=resource,
            resource_request=resource_request,
            starts_at=start,
            ends_at=end,
            status=BookingStatus.HELD,
        )
        db.session.add(booking)
        _flush_guarded(resource, start, end, now)
        bookings.append(booking)
    return bookings


def request_bookings(resource_request: ResourceRequest) -> list[Booking]:
    """The request's bookings, in time order."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.request_id == resource_request.id)
            .order_by(Booking.starts_at)
        )
    )


def confirm(resource_request: ResourceRequest) -> None:
    """Approval confirms the request's held bookings."""
    for booking in request_bookings(resource_request):
        if booking.status == BookingStatus.HELD:
            booking.status = BookingStatus.CONFIRMED
            booking.sequence += 1


def release(
    resource_request: ResourceRequest, *, cancelled: bool = False, now: datetime | None = None
) -> None:
    """Rejection releases, cancellation cancels the request's active bookings."""
    now = now or utcnow()
    notice = timedelta(hours=resource_request.resource.cancellation_notice_hours)
    for booking in request_bookings(resource_request):
        if booking.is_active:
            booking.status = BookingStatus.CANCELLED if cancelled else BookingStatus.RELEASED
            booking.sequence += 1
            if cancelled and booking.starts_at - now < notice:
                booking.late_cancellation = True
                resource_request.late_cancellation = True


def move(booking: Booking, start: datetime, end: datetime, now: datetime | None = None) -> None:
    """Staff move an active booking: the same integrity path as a new one."""
    now = now or utcnow()
    if not booking.is_active:
        raise BookingError(_("Only held or confirmed bookings can be moved."), "status")
    resource = booking.resource
    lock_resource(resource)
    check_rules(resource, start, end, now)
    _ensure_free(resource, start, end, now, ignore=(booking.id,))
    booking.starts_at, booking.ends_at = start, end
    booking.sequence += 1
    _flush_guarded(resource, start, end, now)


def close(booking: Booking, status: BookingStatus) -> None:
    """Staff mark a past booking completed or no-show."""
    if status not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        raise BookingError(_("A booking is closed as completed or no-show."), "status")
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingError(_("Only confirmed bookings can be closed."), "status")
    booking.status = status
