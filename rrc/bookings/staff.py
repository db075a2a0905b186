"""Staff operations on bookings: move, close as completed or no-show, cancel for a closure.

Each operation checks that the acting user may run the resource's schedule, goes through the
integrity path of :mod:`rrc.bookings.services`, writes a timeline event and an audit entry and
queues the partner's e-mail, all in the caller's transaction (services flush; views commit).
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import selectinload

from rrc import audit
from rrc.bookings import services as bookings
from rrc.bookings.services import BookingError
from rrc.catalogue.permissions import can_edit_facility
from rrc.extensions import db
from rrc.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Closure,
    Facility,
    Resource,
    ResourceRequest,
    User,
)
from rrc.models.types import utcnow
from rrc.requests import notifications
from rrc.requests.services import _event as request_event

MOVE = "move"
COMPLETE = "complete"
NO_SHOW = "no_show"


class BookingNotAllowed(BookingError):
    """The user does not run the schedule of this booking's resource."""


def can_operate(user: User, booking: Booking) -> bool:
    """Facility managers of the resource's facility, coordinators and admins."""
    return bool(user.is_authenticated and user.is_staff) and can_edit_facility(
        user, booking.resource.facility
    )


def operations(user: User, booking: Booking, now: datetime | None = None) -> set[str]:
    """The staff operations ``user`` may run on ``booking`` now."""
    if not can_operate(user, booking):
        return set()
    now = now or utcnow()
    allowed = set()
    if booking.is_active and booking.ends_at > now:
        allowed.add(MOVE)
    if booking.status == BookingStatus.CONFIRMED and booking.ends_at <= now:
        allowed.update({COMPLETE, NO_SHOW})
    return allowed


def _require(actor: User, booking: Booking) -> None:
    if not can_operate(actor, booking):
        raise BookingNotAllowed(
            _("You do not manage %(facility)s.", facility=booking.resource.facility.code),
            "permission",
        )


def local_to_utc(value: datetime, zone: ZoneInfo, field_name: str) -> datetime:
    """A wall-clock time in ``zone`` as aware UTC; refuses times a clock change skips."""
    local = value.replace(tzinfo=zone)
    converted = local.astimezone(UTC)
    if converted.astimezone(zone).replace(tzinfo=None) != value.replace(tzinfo=None):
        raise bookings.RuleViolation(
            _("This time does not exist in %(zone)s (the clocks change).", zone=str(zone)),
            field_name,
        )
    return converted


def period_text(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """``2026-12-02 10:00 to 11:00 (Asia/Seoul)``: a period in a zone, for timelines and audit."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    closing = (
        local_end.strftime("%H:%M")
        if local_end.date() == local_start.date()
        else local_end.strftime("%Y-%m-%d %H:%M")
    )
    return f"{local_start.strftime('%Y-%m-%d %H:%M')} to {closing} ({zone.key})"


def move_booking(
    actor: User,
    booking: Booking,
    starts_local: datetime,
    ends_local: datetime,
    now: datetime | None = None,
) -> None:
    """Move an active booking to a period given in the facility's zone; tell the partner."""
    _require(actor, booking)
    zone = bookings.zone_of(booking.resource)
    start = local_to_utc(starts_local, zone, "starts_at")
    end = local_to_utc(ends_local, zone, "ends_at")
    if end <= start:
        raise bookings.RuleViolation(_("A session must end after it starts."), "ends_at")
    old_start, old_end = booking.starts_at, booking.ends_at
    if (start, end) == (old_start, old_end):
        raise bookings.RuleViolation(_("The booking already has this time."), "starts_at")
    bookings.move(booking, start, end, now)
    detail = f"{period_text(old_start, old_end, zone)} → {period_text(start, end, zone)}"
    event = request_event(booking.resource_request, actor, "booking_moved", detail=detail)
    audit.record(actor, "booking.moved", target=booking, detail=detail)
    notifications.booking_moved(
        booking.resource_request, event, booking, old_start=old_start, old_end=old_end
    )


def close_booking(
    actor: User, booking: Booking, status: BookingStatus, now: datetime | None = None
) -> None:
    """Mark a confirmed booking that has ended as completed or no-show."""
    _require(actor, booking)
    now = now or utcnow()
    if booking.status == BookingStatus.CONFIRMED and booking.ends_at > now:
        raise BookingError(_("Only bookings that have ended can be closed."), "status")
    bookings.close(booking, status)
    booking.sequence += 1
    zone = bookings.zone_of(booking.resource)
    detail = period_text(booking.starts_at, booking.ends_at, zone)
    kind = "booking_completed" if status == BookingStatus.COMPLETED else "booking_no_show"
    request_event(booking.resource_request, actor, kind, detail=detail)
    audit.record(actor, f"booking.{status.value}", target=booking, detail=detail)
    db.session.flush()


# --- closures over bookings --------------------------------------------------------------------


def _scope_condition(facility: Facility, resource: Resource | None) -> ColumnElement[bool]:
    if resource is not None:
        return Resource.id == resource.id
    return Resource.facility_id == facility.id


def lock_scope(facility: Facility, resource: Resource | None) -> None:
    """Serialise with booking writes: bump ``booking_version`` of every resource in scope."""
    db.session.execute(
        update(Resource)
        .where(_scope_condition(facility, resource))
        .values(booking_version=Resource.booking_version + 1)
        .execution_options(synchronize_session=False)
    )


def bookings_in_period(
    facility: Facility, resource: Resource | None, starts_at: datetime, ends_at: datetime
) -> list[Booking]:
    """Active bookings of the facility (or of one resource) overlapping ``[starts_at, ends_at)``."""
    return list(
        db.session.scalars(
            select(Booking)
            .join(Resource, Booking.resource_id == Resource.id)
            .options(
                selectinload(Booking.resource).selectinload(Resource.facility),
                selectinload(Booking.resource_request).selectinload(ResourceRequest.organisation),
                selectinload(Booking.resource_request).selectinload(ResourceRequest.requester),
            )
            .where(
                _scope_condition(facility, resource),
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at < ends_at,
                Booking.ends_at > starts_at,
            )
            .order_by(Booking.starts_at, Booking.id)
        )
    )


def cancel_for_closure(actor: User, affected: list[Booking], closure: Closure) -> None:
    """Cancel bookings a closure covers (never counted late) and tell each partner why."""
    for booking in affected:
        _require(actor, booking)
        if not booking.is_active:
            continue
        booking.status = BookingStatus.CANCELLED
        booking.late_cancellation = False
        booking.sequence += 1
        zone = bookings.zone_of(booking.resource)
        detail = f"{period_text(booking.starts_at, booking.ends_at, zone)}: {closure.reason}"
        event = request_event(
            booking.resource_request, actor, "booking_cancelled_by_closure", detail=detail
        )
        audit.record(actor, "booking.cancelled_by_closure", target=booking, detail=detail)
        notifications.booking_cancelled_by_closure(
            booking.resource_request, event, booking, closure=closure
        )
    db.session.flush()


def affected_ids_text(affected: list[Booking]) -> str:
    """Booking ids as a stable string, to check the list a user confirmed is still the list."""
    return ",".join(str(booking.id) for booking in sorted(affected, key=lambda item: item.id))
