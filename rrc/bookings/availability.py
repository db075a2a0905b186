"""Availability of slot resources: the week grid, and turning picked cells into sessions.

The grid is built from wall-clock times in the facility's zone (so that a row reads "09:00" on
every day, also across a daylight-saving change) and each cell is converted to UTC for the
comparison with bookings and closures. A week costs two queries whatever its contents: one for
the active bookings, one for the closures.
"""

import enum
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from rrc.bookings.services import (
    RuleViolation,
    check_rules,
    conflict_message,
    free_slots_near,
    opening_window,
    overlapping,
    zone_of,
)
from rrc.dates import in_range
from rrc.extensions import db
from rrc.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Closure,
    RequestStatus,
    Resource,
    ResourceRequest,
    User,
)
from rrc.models.types import utcnow
from rrc.requests.services import RequestError, requested_sessions
from rrc.requests.workflow import IllegalTransition, can_edit


class CellState(enum.StrEnum):
    """What one cell of the week grid is."""

    FREE = "free"
    HELD = "held"
    BOOKED = "booked"
    CLOSED = "closed"
    OUTSIDE = "outside"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"


@dataclass
class Cell:
    """One slot of the grid: ``[start, end)`` in UTC, its state and (staff only) who holds it.

    ``continues`` is true when the cell above holds the same booking (staff pages link the
    reference once per booking and day, not in every cell).
    """

    start: datetime
    end: datetime
    local_start: datetime
    state: CellState
    reference: str | None = None
    continues: bool = False

    @property
    def key(self) -> str:
        """The cell's UTC start in ISO form: the value of its checkbox in the slot picker."""
        return self.start.isoformat()


@dataclass
class Row:
    """One wall-clock time of the grid, with a cell per day."""

    time: time
    cells: list[Cell]


@dataclass
class Week:
    """Seven days of a slot resource, Monday first, in the facility's zone."""

    resource: Resource
    start: date
    zone_name: str
    days: list[date]
    rows: list[Row] = field(default_factory=list)
    step_minutes: int = 30

    @property
    def previous(self) -> date:
        """The Monday of the week before."""
        return self.start - timedelta(days=7)

    @property
    def next(self) -> date:
        """The Monday of the week after."""
        return self.start + timedelta(days=7)

    @property
    def day_labels(self) -> list[str]:
        """The days as column headings in the reader's language ("Mon, Mar 30", "3월 30일 (월)")."""
        return [day_label(day) for day in self.days]

    @property
    def end(self) -> date:
        """The last day (Sunday) of the week."""
        return self.days[-1]


def day_label(day: date) -> str:
    """A short day with its weekday, in the reader's language's own order ("Tue, Dec 1")."""
    return format_skeleton("MMMEd", day, locale=str(get_locale() or "en"))


def long_day_label(day: date) -> str:
    """A day with its weekday and year, in the reader's language ("Tue, Dec 1, 2026")."""
    return format_skeleton("yMMMEd", day, locale=str(get_locale() or "en"))


def monday_of(day: date) -> date:
    """The Monday of the week that contains ``day``."""
    return day - timedelta(days=day.weekday())


def today_at(resource: Resource, now: datetime | None = None) -> date:
    """Today's date in the facility's zone."""
    return (now or utcnow()).astimezone(zone_of(resource)).date()


def first_bookable_week(resource: Resource, now: datetime | None = None) -> date:
    """The Monday of the week of the first opening the minimum notice still allows."""
    now = now or utcnow()
    earliest = now + timedelta(hours=resource.min_notice_hours or 0)
    day = earliest.astimezone(zone_of(resource)).date()
    for offset in range(14):
        window = opening_window(resource, day + timedelta(days=offset))
        if window is not None and window[1] > earliest:
            return monday_of(day + timedelta(days=offset))
    return monday_of(day)


def _local_cell(day: date, wall: time, zone) -> datetime | None:
    """The aware local time ``wall`` on ``day``; ``None`` when a DST change skips it."""
    local = datetime.combine(day, wall, tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # e.g. 02:30 on the last Sunday of March in Europe/Paris does not exist
    return local


def _rows_of(resource: Resource, days: list[date], step: int) -> list[time]:
    """Wall-clock times from the week's earliest opening to its latest closing, every ``step``."""
    windows = [window for day in days if (window := opening_window(resource, day))]
    if not windows:
        return []
    first = min(opens.hour * 60 + opens.minute for opens, _closes in windows)
    last = max(closes.hour * 60 + closes.minute or 24 * 60 for _opens, closes in windows)
    first -= first % step
    return [time(minutes // 60, minutes % 60) for minutes in range(first, last, step)]


def _week_bookings(resource: Resource, start: datetime, end: datetime) -> list[tuple]:
    """Active bookings touching ``[start, end)`` (with the buffer) and their request references."""
    buffer = timedelta(minutes=resource.buffer_minutes or 0)
    return list(
        db.session.execute(
            select(Booking.starts_at, Booking.ends_at, Booking.status, ResourceRequest.reference)
            .join(ResourceRequest, ResourceRequest.id == Booking.request_id)
            .where(
                Booking.resource_id == resource.id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at < end + buffer,
                Booking.ends_at > start - buffer,
            )
            .order_by(Booking.starts_at)
        )
    )


def _week_closures(resource: Resource, start: datetime, end: datetime) -> list[tuple]:
    """Closures of the resource or its facility that touch ``[start, end)``."""
    return list(
        db.session.execute(
            select(Closure.starts_at, Closure.ends_at).where(
                or_(
                    Closure.resource_id == resource.id, Closure.facility_id == resource.facility_id
                ),
                Closure.starts_at < end,
                Closure.ends_at > start,
            )
        )
    )


def sees_who(viewer: User | None) -> bool:
    """Approved staff may see which request holds a slot; partners and visitors never."""
    return bool(
        viewer is not None
        and getattr(viewer, "is_authenticated", False)
        and getattr(viewer, "is_staff", False)
        and viewer.is_approved
    )


def week(
    resource: Resource, week_start: date, viewer: User | None, now: datetime | None = None
) -> Week:
    """The week grid of ``resource`` from the Monday of ``week_start`` (two queries)."""
    now = now or utcnow()
    zone = zone_of(resource)
    monday = monday_of(week_start)
    days = [monday + timedelta(days=offset) for offset in range(7)]
    step = max(resource.slot_granularity_minutes or 30, 5)
    result = Week(resource=resource, start=monday, zone_name=zone.key, days=days, step_minutes=step)
    period_start = datetime.combine(days[0], time(0), tzinfo=zone).astimezone(UTC)
    period_end = datetime.combine(days[-1] + timedelta(days=1), time(0), tzinfo=zone).astimezone(
        UTC
    )
    bookings = _week_bookings(resource, period_start, period_end)
    closures = _week_closures(resource, period_start, period_end)
    buffer = timedelta(minutes=resource.buffer_minutes or 0)
    earliest = now + timedelta(hours=resource.min_notice_hours or 0)
    latest = now + timedelta(days=resource.max_advance_days)
    windows = {day: opening_window(resource, day) for day in days}
    staff = sees_who(viewer)
    length = timedelta(minutes=step)
    above: dict[date, object] = {}  # per day, the booking row holding the cell above
    for wall in _rows_of(resource, days, step):
        cells = []
        for day in days:
            holder = None
            local = _local_cell(day, wall, zone)
            if local is None:  # skipped by a DST change: show it closed for booking
                skipped = datetime.combine(day, wall, tzinfo=zone)
                start = skipped.astimezone(UTC)
                cells.append(Cell(start, start + length, skipped, CellState.OUTSIDE))
                above[day] = None
                continue
            start = local.astimezone(UTC)
            end = start + length
            cell = Cell(start, end, local, CellState.FREE)
            window = windows[day]
            if window is None or start < window[0] or end > window[1]:
                cell.state = CellState.OUTSIDE
            elif any(c_start < end and c_end > start for c_start, c_end in closures):
                cell.state = CellState.CLOSED
            else:
                holder = next(
                    (
                        booking
                        for booking in bookings
                        if booking.starts_at < end + buffer and booking.ends_at > start - buffer
                    ),
                    None,
                )
                if holder is not None:
                    confirmed = holder.status == BookingStatus.CONFIRMED
                    cell.state = CellState.BOOKED if confirmed else CellState.HELD
                    if staff:
                        cell.reference = holder.reference
                        cell.continues = above.get(day) is holder
                elif start < earliest:
                    cell.state = CellState.TOO_SOON
                elif start > latest:  # the rule of check_rules: a start after it is refused
                    cell.state = CellState.TOO_FAR
            above[day] = holder
            cells.append(cell)
        result.rows.append(Row(time=wall, cells=cells))
    return result


# --- the slot picker --------------------------------------------------------------------------


class PickError(Exception):
    """The picked cells do not make valid sessions; ``messages`` says why (one per problem)."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def parse_cell(value: str) -> datetime:
    """A picked cell's UTC start from its checkbox value (``ValueError`` when malformed).

    Times outside :mod:`rrc.dates`' range are malformed too: converting or extending them
    would leave Python's dates.
    """
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        raise ValueError("naive time")
    if not in_range(moment.date()):
        raise ValueError("out of range")
    return moment.astimezone(UTC)


def merge_cells(resource: Resource, starts: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive cells on one local day become one session ``(start, end)``."""
    zone = zone_of(resource)
    length = timedelta(minutes=max(resource.slot_granularity_minutes or 30, 5))
    sessions: list[list[datetime]] = []
    for start in sorted(set(starts)):
        if (
            sessions
            and sessions[-1][1] == start
            and sessions[-1][0].astimezone(zone).date() == start.astimezone(zone).date()
        ):
            sessions[-1][1] = start + length
        else:
            sessions.append([start, start + length])
    return [(start, end) for start, end in sessions]


def cells_of(resource: Resource, sessions: list[tuple[datetime, datetime]]) -> set[str]:
    """The cell keys that ``sessions`` cover (to show them ticked in the picker)."""
    length = timedelta(minutes=max(resource.slot_granularity_minutes or 30, 5))
    keys = set()
    for start, end in sessions:
        moment = start.astimezone(UTC)
        while moment < end:
            keys.add(moment.isoformat())
            moment += length
    return keys


def check_sessions(
    resource: Resource, sessions: list[tuple[datetime, datetime]], now: datetime | None = None
) -> None:
    """Raise :class:`PickError` listing every booking rule the sessions break."""
    now = now or utcnow()
    zone = zone_of(resource)
    messages = []
    for start, end in sessions:
        try:
            check_rules(resource, start, end, now)
        except RuleViolation as violation:
            local = start.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            messages.append(
                _("Session from %(start)s: %(problem)s", start=local, problem=violation.message)
            )
    buffer = timedelta(minutes=resource.buffer_minutes or 0)
    ordered = sorted(sessions)
    if any(later[0] < earlier[1] + buffer for earlier, later in itertools.pairwise(ordered)):
        messages.append(_("Your sessions overlap each other."))  # as the submission would say
    if messages:
        raise PickError(messages)


def choose_sessions(
    actor: User, resource_request: ResourceRequest, sessions: list[tuple[datetime, datetime]]
) -> None:
    """Store the picked sessions on an editable request; their total becomes the requested time."""
    if not can_edit(actor, resource_request):
        raise IllegalTransition(_("This request can no longer be edited."))
    ordered = sorted(sessions)
    if resource_request.status != RequestStatus.DRAFT and ordered != sorted(
        requested_sessions(resource_request)
    ):
        # Its sessions are held already; staff move held bookings on the integrity path.
        raise RequestError(
            _("The sessions are held already: ask the facility to move them."),
            field="requested_slots",
        )
    resource_request.requested_slots = [
        {"start": start.astimezone(UTC).isoformat(), "end": end.astimezone(UTC).isoformat()}
        for start, end in ordered
    ]
    if ordered:
        resource_request.requested_minutes = sum(
            int((end - start).total_seconds() // 60) for start, end in ordered
        )
    db.session.flush()


@dataclass
class SessionProblem:
    """A chosen session that cannot be booked as it stands, and the nearest free slots instead."""

    start: datetime
    end: datetime
    message: str
    taken: bool  # booked by someone else or closed; otherwise it breaks a booking rule now
    suggestions: list[tuple[datetime, datetime]]


def _free_after_notice(
    resource: Resource, start: datetime, end: datetime, now: datetime
) -> list[tuple[datetime, datetime]]:
    """The nearest free slots like ``[start, end)``, from the minimum notice on if it is later."""
    step = timedelta(minutes=resource.slot_granularity_minutes or 30)
    earliest = now + timedelta(hours=resource.min_notice_hours or 0)
    origin = start
    if origin < earliest:  # stay on the session's grid: whole steps forward
        origin += ((earliest - origin) // step) * step
    return free_slots_near(resource, origin, origin + (end - start), now)


def session_problems(
    resource: Resource,
    sessions: list[tuple[datetime, datetime]],
    *,
    request_id: int | None = None,
    suggest: bool = True,
    now: datetime | None = None,
) -> list[SessionProblem]:
    """The chosen sessions that are taken, closed or break a rule now, with free slots instead.

    A draft's sessions are not held: between picking and submitting, someone else may book
    them, a closure may cover them or the minimum notice may pass. The messages are those a
    submission or a save would give. Bookings of ``request_id`` itself are not a conflict.
    ``suggest=False`` skips the search for free slots (when only the problems matter).
    """
    now = now or utcnow()
    zone = zone_of(resource)
    problems = []
    for start, end in sessions:
        try:
            check_rules(resource, start, end, now)
        except RuleViolation as violation:
            message = _(
                "Session from %(start)s: %(problem)s",
                start=start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                problem=violation.message,
            )
            suggestions = _free_after_notice(resource, start, end, now) if suggest else []
            problems.append(SessionProblem(start, end, message, False, suggestions))
            continue
        bookings, closures = overlapping(resource, start, end)
        if closures or any(booking.request_id != request_id for booking in bookings):
            problems.append(
                SessionProblem(
                    start,
                    end,
                    conflict_message(resource, start, end),
                    True,
                    free_slots_near(resource, start, end, now) if suggest else [],
                )
            )
    return problems
