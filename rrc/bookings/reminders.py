"""Booking reminders: one e-mail to the requester about a day before each confirmed session.

Run from the daily/hourly ``remind`` command (``flask --app rrc remind``). The idempotency key
``booking-reminder:<booking id>:<sequence>`` makes a second run queue nothing; a booking that staff
move (its SEQUENCE grows) into the next 24 hours gets a fresh reminder with its new time.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rrc.extensions import db
from rrc.mail.outbox import absolute_url, queue_mail
from rrc.models import Booking, BookingStatus, Resource, ResourceRequest, UserStatus
from rrc.models.types import utcnow

REMINDER_WINDOW = timedelta(hours=24)


@dataclass
class BookingReminderRun:
    """What one run of the booking reminders did."""

    queued: list[Booking] = field(default_factory=list)
    already_sent: list[Booking] = field(default_factory=list)


def reminder_key(booking: Booking) -> str:
    """The outbox idempotency key of the reminder of this version of ``booking``."""
    return f"booking-reminder:{booking.id}:{booking.sequence}"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "Asia/Seoul")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Seoul")


def session_times(booking: Booking, locale: str) -> dict[str, str]:
    """The session's day and times in the facility's zone, written for ``locale``."""
    zone_name = booking.resource.facility.timezone or "Asia/Seoul"
    zone = _zone(zone_name)
    local_start = booking.starts_at.astimezone(zone)
    return {
        "day": format_date(local_start.date(), format="full", locale=locale),
        "start": format_time(booking.starts_at, format="short", tzinfo=zone, locale=locale),
        "end": format_time(booking.ends_at, format="short", tzinfo=zone, locale=locale),
        "zone": zone_name,
    }


def due_bookings(now: datetime) -> list[Booking]:
    """Confirmed bookings starting within the next 24 hours."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.status == BookingStatus.CONFIRMED,
                Booking.starts_at > now,
                Booking.starts_at <= now + REMINDER_WINDOW,
            )
            .options(
                selectinload(Booking.resource).selectinload(Resource.facility),
                selectinload(Booking.resource_request).selectinload(ResourceRequest.requester),
            )
            .order_by(Booking.starts_at, Booking.id)
        )
    )


def send_booking_reminders(now: datetime | None = None) -> BookingReminderRun:
    """Queue a reminder for each confirmed session starting within 24 h (flushes, never commits)."""
    now = now or utcnow()
    run = BookingReminderRun()
    for booking in due_bookings(now):
        resource_request = booking.resource_request
        requester = resource_request.requester
        if requester.status != UserStatus.ACTIVE:
            continue
        locale = requester.locale or "en"
        message = queue_mail(
            "booking_reminder",
            recipient=requester,
            idempotency_key=reminder_key(booking),
            booking=booking,
            resource_request=resource_request,
            resource=booking.resource,
            facility=booking.resource.facility,
            times=session_times(booking, locale),
            link=absolute_url("requests.detail", reference=resource_request.reference),
        )
        if message is None:
            run.already_sent.append(booking)
        else:
            booking.reminded_at = now
            run.queued.append(booking)
    db.session.flush()
    return run
