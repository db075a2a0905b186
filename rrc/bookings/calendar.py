"""Calendar feeds (iCalendar, RFC 5545) of bookings, and the personal feed's secret link.

Each booking is one VEVENT with a stable UID and the booking's SEQUENCE, so that calendar clients
update an event in place when staff move, confirm or cancel it. Times are written in UTC (``Z``),
which every client converts to its own zone. Cancelled and released bookings stay in a feed for
:data:`CANCELLED_KEPT_DAYS` days with ``STATUS:CANCELLED`` so that subscribed clients remove them.
"""

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload

from rrc import audit
from rrc.extensions import db
from rrc.mail.outbox import absolute_url
from rrc.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Resource,
    ResourceRequest,
    User,
    UserStatus,
)
from rrc.models.types import utcnow

PRODID = "-//Institut Pasteur Korea//RRC portal//EN"
UID_DOMAIN = "rrc.ip-korea.org"
CANCELLED_KEPT_DAYS = 30
CLOSED_STATUSES = (BookingStatus.CANCELLED, BookingStatus.RELEASED)
# Past sessions stay visible in personal feeds for this long.
HISTORY_DAYS = 365

ICAL_STATUS = {
    BookingStatus.HELD: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.RELEASED: "CANCELLED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
}

_LOAD_OPTIONS = (
    selectinload(Booking.resource).selectinload(Resource.facility),
    selectinload(Booking.resource_request).selectinload(ResourceRequest.organisation),
)


def booking_uid(booking: Booking) -> str:
    """The event's UID: stable for the booking's whole life."""
    return f"booking-{booking.id}@{UID_DOMAIN}"


def _event(booking: Booking, *, staff_view: bool, stamp: datetime) -> Event:
    resource = booking.resource
    resource_request = booking.resource_request
    summary = f"{resource.code} {resource.name}"
    if staff_view:
        summary = f"{summary} · {resource_request.reference} · {resource_request.organisation.name}"
    link = absolute_url("requests.detail", reference=resource_request.reference)
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", stamp)
    event.add("last-modified", booking.updated_at)
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", summary)
    event.add("location", resource.facility.location or resource.facility.name)
    event.add("description", f"{resource_request.reference}: {link}")
    event.add("url", link)
    event.add("status", ICAL_STATUS[booking.status])
    event.add("transp", "TRANSPARENT" if booking.status in CLOSED_STATUSES else "OPAQUE")
    return event


def build_calendar(
    bookings: Iterable[Booking],
    *,
    name: str,
    staff_view: bool = False,
    now: datetime | None = None,
) -> bytes:
    """An iCalendar document (METHOD:PUBLISH) with one VEVENT per booking."""
    stamp = now or utcnow()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-published-ttl", "PT1H")
    for booking in bookings:
        calendar.add_component(_event(booking, staff_view=staff_view, stamp=stamp))
    return calendar.to_ical()


def _feed_window(now: datetime):
    """Bookings worth showing: recent or future ones, and closed ones for a while after closing."""
    return and_(
        Booking.ends_at >= now - timedelta(days=HISTORY_DAYS),
        or_(
            Booking.status.not_in(CLOSED_STATUSES),
            Booking.updated_at >= now - timedelta(days=CANCELLED_KEPT_DAYS),
        ),
    )


def _bookings(statement: Select) -> list[Booking]:
    return list(db.session.scalars(statement.options(*_LOAD_OPTIONS).order_by(Booking.starts_at)))


def personal_bookings(user: User, now: datetime | None = None) -> list[Booking]:
    """The bookings of the requests ``user`` filed (organisation managers: also only their own)."""
    now = now or utcnow()
    return _bookings(
        select(Booking)
        .join(Booking.resource_request)
        .where(ResourceRequest.requester_id == user.id, _feed_window(now))
    )


def resource_bookings(resource: Resource, now: datetime | None = None) -> list[Booking]:
    """The active bookings of ``resource``, and recently cancelled ones (to remove them)."""
    now = now or utcnow()
    return _bookings(
        select(Booking).where(
            Booking.resource_id == resource.id,
            Booking.ends_at >= now - timedelta(days=HISTORY_DAYS),
            or_(
                Booking.status.in_(ACTIVE_STATUSES),
                and_(
                    Booking.status.in_(CLOSED_STATUSES),
                    Booking.updated_at >= now - timedelta(days=CANCELLED_KEPT_DAYS),
                ),
            ),
        )
    )


def request_bookings(resource_request: ResourceRequest) -> list[Booking]:
    """The confirmed bookings of one request."""
    return _bookings(
        select(Booking).where(
            Booking.request_id == resource_request.id,
            Booking.status == BookingStatus.CONFIRMED,
        )
    )


def user_by_calendar_token(token: str) -> User | None:
    """The active user whose personal feed ``token`` opens, if any."""
    if not token:
        return None
    return db.session.scalar(
        select(User).where(User.calendar_token == token, User.status == UserStatus.ACTIVE)
    )


def can_follow_resource(user: User, resource: Resource) -> bool:
    """Whether ``user`` may subscribe to ``resource``'s staff feed: active staff, who see every
    request and so every booking (the same rule as the resource's logged-in feed)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_staff
        and user.is_approved
        and resource is not None
    )


def resource_feed_url(user: User, resource: Resource) -> str | None:
    """The secret subscription URL of ``resource``'s feed for ``user``: built on the user's personal
    calendar token, so regenerating that link revokes it too. ``None`` when the user has no
    token yet or may not follow the resource."""
    if not can_follow_resource(user, resource) or not user.calendar_token:
        return None
    return absolute_url(
        "feeds.resource_subscription", token=user.calendar_token, code=resource.code
    )


def personal_calendar(user: User, now: datetime | None = None) -> bytes:
    """The personal feed of ``user``."""
    with force_locale(user.locale or "en"):
        name = _("My IPK RRC bookings")
    return build_calendar(personal_bookings(user, now), name=name, now=now)


def resource_calendar(resource: Resource, now: datetime | None = None) -> bytes:
    """The staff feed of one resource (events name the request and organisation)."""
    return build_calendar(
        resource_bookings(resource, now),
        name=f"{resource.code} {resource.name}",
        staff_view=True,
        now=now,
    )


def request_calendar(resource_request: ResourceRequest, viewer: User) -> bytes:
    """The confirmed sessions of one request, for download."""
    return build_calendar(
        request_bookings(resource_request),
        name=resource_request.reference,
        staff_view=viewer.is_staff,
    )


def create_calendar_link(user: User) -> str:
    """Give ``user`` a personal feed token, or a new one replacing the old (which stops working)."""
    regenerated = user.calendar_token is not None
    user.calendar_token = secrets.token_urlsafe(32)
    audit.record(
        user, "calendar.link_regenerated" if regenerated else "calendar.link_created", target=user
    )
    db.session.flush()
    return user.calendar_token


def personal_feed_url(user: User) -> str | None:
    """The absolute URL of the user's personal feed (from ``BASE_URL``), if created."""
    if not user.calendar_token:
        return None
    return absolute_url("feeds.personal", token=user.calendar_token)
