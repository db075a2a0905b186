"""E-mails about requests, queued in the transaction of the change that causes them.

Wording never says "confirmed" for something still under review.
"""

from datetime import datetime

from rrc.mail.outbox import absolute_url, queue_mail
from rrc.models import ApprovalStep, Booking, Closure, RequestEvent, ResourceRequest, User


def _send(
    notice: str,
    resource_request: ResourceRequest,
    event: RequestEvent,
    recipients: list[User],
    *,
    include_actor: bool = False,
    attachments: list | None = None,
    **context,
) -> None:
    """Queue one notice per recipient; whoever acted is not told of their own action."""
    seen: set[int] = set()
    for recipient in recipients:
        if recipient.id in seen:
            continue
        if not include_actor and event.actor_id is not None and recipient.id == event.actor_id:
            continue
        seen.add(recipient.id)
        queue_mail(
            "request_notice",
            attachments=attachments,
            recipient=recipient,
            idempotency_key=f"request:{resource_request.id}:{event.id}:{notice}:{recipient.id}",
            notice=notice,
            resource_request=resource_request,
            event=event,
            link=absolute_url("requests.detail", reference=resource_request.reference),
            **context,
        )


def _partners(resource_request: ResourceRequest) -> list[User]:
    return [resource_request.requester]


def _sessions(resource_request: ResourceRequest) -> dict:
    """The request's active sessions, written in the facility's zone, for the mail body."""
    from rrc.bookings.services import request_bookings, zone_of

    zone = zone_of(resource_request.resource)
    lines = [
        f"{booking.starts_at.astimezone(zone):%Y-%m-%d %H:%M} - "
        f"{booking.ends_at.astimezone(zone):%H:%M}"
        for booking in request_bookings(resource_request)
        if booking.is_active
    ]
    return {"sessions": lines, "sessions_zone": str(zone)}


def submitted(resource_request: ResourceRequest, event: RequestEvent) -> None:
    """A receipt to the partner: received and under review, with the sessions held."""
    _send(
        "received",
        resource_request,
        event,
        _partners(resource_request),
        include_actor=True,
        **_sessions(resource_request),
    )


def step_waiting(
    resource_request: ResourceRequest, step: ApprovalStep, event: RequestEvent
) -> None:
    """Tell the deciders of a step that became current that it waits for them."""
    from rrc.requests.services import deciders

    _send("step_waiting", resource_request, event, deciders(resource_request, step), step=step)


def approved(resource_request: ResourceRequest, event: RequestEvent) -> None:
    """The request is approved; confirmed sessions travel as an .ics attachment."""
    from rrc.bookings.calendar import request_bookings, request_calendar

    attachments = []
    if request_bookings(resource_request):
        attachments.append(
            (
                f"{resource_request.reference}.ics",
                "text/calendar",
                request_calendar(resource_request, resource_request.requester),
            )
        )
    _send(
        "approved",
        resource_request,
        event,
        _partners(resource_request),
        attachments=attachments,
        **_sessions(resource_request),
    )


def rejected(resource_request: ResourceRequest, event: RequestEvent) -> None:
    """The request is rejected, with the reason."""
    _send("rejected", resource_request, event, _partners(resource_request))


def changes_requested(resource_request: ResourceRequest, event: RequestEvent) -> None:
    """A reviewer asks the partner for changes."""
    _send("changes_requested", resource_request, event, _partners(resource_request))


def resubmitted(resource_request: ResourceRequest, step: ApprovalStep, event: RequestEvent) -> None:
    """The partner resubmitted: the step that asked is waiting again."""
    from rrc.requests.services import deciders

    _send("resubmitted", resource_request, event, deciders(resource_request, step), step=step)


def cancelled(
    resource_request: ResourceRequest, event: RequestEvent, recipients: list[User]
) -> None:
    """The partner cancelled: tell the staff who held or will run the request."""
    _send("cancelled", resource_request, event, recipients)


def started(resource_request: ResourceRequest, event: RequestEvent) -> None:
    """Work on the request has started."""
    _send("started", resource_request, event, _partners(resource_request))


def completed(resource_request: ResourceRequest, event: RequestEvent) -> None:
    """The work is completed."""
    _send("completed", resource_request, event, _partners(resource_request))


def commented(resource_request: ResourceRequest, author: User, event: RequestEvent) -> None:
    """A public comment: staff comments go to the partner, partner comments to staff."""
    from rrc.requests.services import staff_concerned

    if author.is_staff:
        _send("comment", resource_request, event, _partners(resource_request), author=author)
    else:
        _send("comment", resource_request, event, staff_concerned(resource_request), author=author)


def booking_moved(
    resource_request: ResourceRequest,
    event: RequestEvent,
    booking: Booking,
    *,
    old_start: datetime,
    old_end: datetime,
) -> None:
    """Staff moved one of the partner's sessions: old and new time."""
    _send(
        "booking_moved",
        resource_request,
        event,
        _partners(resource_request),
        booking=booking,
        old_start=old_start,
        old_end=old_end,
    )


def booking_cancelled_by_closure(
    resource_request: ResourceRequest, event: RequestEvent, booking: Booking, *, closure: Closure
) -> None:
    """A closure cancelled one of the partner's sessions, with the closure's reason."""
    _send(
        "booking_cancelled_by_closure",
        resource_request,
        event,
        _partners(resource_request),
        booking=booking,
        closure=closure,
    )
