"""The staff month overview of a slot resource: each day's bookings and closures.

Days are the facility's calendar days (its time zone), Monday first. A booking or closure that
crosses midnight is listed on every day it touches, with the part of it that falls on that day.
A month costs two queries whatever its contents: one for the bookings, one for the closures.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from babel.dates import format_skeleton, get_day_names
from flask_babel import get_locale
from sqlalchemy import or_, select

from rrc.bookings.availability import monday_of
from rrc.bookings.services import zone_of
from rrc.extensions import db
from rrc.models import (
    Booking,
    BookingStatus,
    Closure,
    Organisation,
    Resource,
    ResourceRequest,
)
from rrc.models.types import utcnow

# Bookings the overview lists: active ones and those that took place (not cancelled or released).
SHOWN_STATUSES = (
    BookingStatus.HELD,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
)
# The months that can be asked for (the portal's range of dates, 1900 to 2999); others are
# refused (400) rather than computed near the limits of Python's dates.
FIRST_MONTH = date(1900, 1, 1)
LAST_MONTH = date(2999, 12, 1)
_MONTH_VALUE = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_month(value: str) -> date:
    """The first day of the ``YYYY-MM`` month in ``value``; ``ValueError`` when malformed or out
    of :data:`FIRST_MONTH`..:data:`LAST_MONTH`."""
    match = _MONTH_VALUE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not a YYYY-MM month: {value!r}")
    year, number = int(match[1]), int(match[2])
    if not 1 <= number <= 12:
        raise ValueError(f"no month {number}")
    first = date(year, number, 1)
    if not FIRST_MONTH <= first <= LAST_MONTH:
        raise ValueError(f"month out of range: {value!r}")
    return first


def add_months(first: date, count: int) -> date:
    """The first day of the month ``count`` months after (or before) ``first``'s month."""
    index = first.year * 12 + first.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_label(first: date) -> str:
    """A month and year in the reader's language ("December 2026", "2026년 12월")."""
    return format_skeleton("yMMMM", first, locale=str(get_locale() or "en"))


def short_day_label(day: date) -> str:
    """A day and month in the reader's language ("Nov 16", "11월 16일")."""
    return format_skeleton("MMMd", day, locale=str(get_locale() or "en"))


def weekday_names() -> list[str]:
    """Monday to Sunday, in full, in the reader's language."""
    names = get_day_names("wide", locale=str(get_locale() or "en"))
    return [names[index] for index in range(7)]


@dataclass
class Entry:
    """The part of one booking or closure that falls on one day (local times)."""

    starts: datetime
    ends: datetime
    day_end: datetime
    all_day: bool
    status: BookingStatus | None = None
    reference: str | None = None
    organisation: str | None = None
    reason: str | None = None
    whole_facility: bool = False

    @property
    def is_booking(self) -> bool:
        return self.status is not None

    @property
    def time_text(self) -> str:
        """``09:00`` en dash ``11:30``; a part that runs to midnight ends at ``24:00``."""
        closing = "24:00" if self.ends == self.day_end else self.ends.strftime("%H:%M")
        return f"{self.starts.strftime('%H:%M')}\N{EN DASH}{closing}"


@dataclass
class Day:
    """One cell of the month grid."""

    day: date
    in_month: bool
    is_today: bool = False
    entries: list[Entry] = field(default_factory=list)

    @property
    def bookings(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.is_booking]

    @property
    def closures(self) -> list[Entry]:
        return [entry for entry in self.entries if not entry.is_booking]


@dataclass
class Month:
    """A month of a resource, as weeks of seven days (Monday first) in the facility's zone."""

    resource: Resource
    first: date
    zone_name: str
    weeks: list[list[Day]]

    @property
    def label(self) -> str:
        return month_label(self.first)

    @property
    def last(self) -> date:
        return add_months(self.first, 1) - timedelta(days=1)

    @property
    def previous(self) -> date | None:
        """The month before, if it may be asked for."""
        return add_months(self.first, -1) if self.first > FIRST_MONTH else None

    @property
    def next(self) -> date | None:
        """The month after, if it may be asked for."""
        return add_months(self.first, 1) if self.first < LAST_MONTH else None


def current_month(resource: Resource, now: datetime | None = None) -> date:
    """The first day of this month in the facility's zone."""
    return (now or utcnow()).astimezone(zone_of(resource)).date().replace(day=1)


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _month_bookings(resource: Resource, start: datetime, end: datetime) -> list:
    return list(
        db.session.execute(
            select(
                Booking.starts_at,
                Booking.ends_at,
                Booking.status,
                ResourceRequest.reference,
                Organisation.name,
            )
            .join(ResourceRequest, ResourceRequest.id == Booking.request_id)
            .join(Organisation, Organisation.id == ResourceRequest.organisation_id)
            .where(
                Booking.resource_id == resource.id,
                Booking.status.in_(SHOWN_STATUSES),
                Booking.starts_at < end,
                Booking.ends_at > start,
            )
            .order_by(Booking.starts_at, Booking.id)
        )
    )


def _month_closures(resource: Resource, start: datetime, end: datetime) -> list:
    return list(
        db.session.execute(
            select(Closure.starts_at, Closure.ends_at, Closure.reason, Closure.facility_id)
            .where(
                or_(
                    Closure.resource_id == resource.id, Closure.facility_id == resource.facility_id
                ),
                Closure.starts_at < end,
                Closure.ends_at > start,
            )
            .order_by(Closure.starts_at, Closure.id)
        )
    )


def month(resource: Resource, first: date, now: datetime | None = None) -> Month:
    """The month overview of ``resource`` for the month of ``first`` (two queries)."""
    zone = zone_of(resource)
    first = first.replace(day=1)
    following = add_months(first, 1)
    today = (now or utcnow()).astimezone(zone).date()
    grid_start = monday_of(first)
    grid_end = monday_of(following - timedelta(days=1)) + timedelta(days=7)
    days: dict[date, Day] = {}
    weeks: list[list[Day]] = []
    current = grid_start
    while current < grid_end:
        week = []
        for _offset in range(7):
            cell = Day(current, first <= current < following, is_today=current == today)
            days[current] = cell
            week.append(cell)
            current += timedelta(days=1)
        weeks.append(week)

    period_start, period_end = _midnight(first, zone), _midnight(following, zone)
    bookings = _month_bookings(resource, period_start, period_end)
    closures = _month_closures(resource, period_start, period_end)

    def spread(starts: datetime, ends: datetime, **details) -> None:
        """Add the part of ``[starts, ends)`` falling on each day of the month it touches."""
        day = max(starts.astimezone(zone).date(), first)
        last = min((ends - timedelta(microseconds=1)).astimezone(zone).date(), following)
        while day <= last and day < following:
            day_start, day_end = _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
            part_start, part_end = max(starts, day_start), min(ends, day_end)
            if part_start < part_end:
                days[day].entries.append(
                    Entry(
                        starts=part_start.astimezone(zone),
                        ends=part_end.astimezone(zone),
                        day_end=day_end.astimezone(zone),
                        all_day=(part_start, part_end) == (day_start, day_end),
                        **details,
                    )
                )
            day += timedelta(days=1)

    for row in closures:
        spread(row.starts_at, row.ends_at, reason=row.reason, whole_facility=bool(row.facility_id))
    for row in bookings:
        spread(
            row.starts_at,
            row.ends_at,
            status=row.status,
            reference=row.reference,
            organisation=row.name,
        )
    for cell in days.values():
        cell.entries.sort(key=lambda entry: (entry.starts, entry.is_booking))
    return Month(
        resource=resource,
        first=first,
        zone_name=zone.key,
        weeks=weeks,
    )
