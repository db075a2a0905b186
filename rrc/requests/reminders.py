"""The reminder digest: one e-mail per decider listing the requests that waited too long on them.

Run daily from cron (``flask --app rrc remind``). Each digest carries the idempotency key
``remind-digest:<user id>:<the recipient's local date>``, so a second run on the same day queues
nothing new and the next day's run queues a fresh digest.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from rrc.bookings.reminders import send_booking_reminders
from rrc.extensions import db
from rrc.mail.outbox import absolute_url, queue_mail
from rrc.models import ApprovalStep, Capability, ResourceRequest, User, UserKind, UserStatus
from rrc.models.types import utcnow
from rrc.requests.queries import overdue_steps
from rrc.requests.workflow import may_decide_step


@dataclass
class DigestItem:
    """One overdue request in a digest."""

    resource_request: ResourceRequest
    step: ApprovalStep
    days: int
    link: str


@dataclass
class ReminderRun:
    """What one run of the reminder did."""

    overdue: int = 0
    queued: list[User] = field(default_factory=list)
    already_sent: list[User] = field(default_factory=list)


def days_waited(step: ApprovalStep, now: datetime) -> int:
    """Whole days (periods of 24 hours) ``step`` has been pending at ``now``."""
    if step.pending_since is None:
        return 0
    return max((now - step.pending_since).days, 0)


def _active_staff() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.kind == UserKind.STAFF, User.status == UserStatus.ACTIVE)
            .order_by(User.id)
        )
    )


def reminded_deciders(step: ApprovalStep, staff: list[User]) -> list[User]:
    """Who is reminded of ``step``: as ``services.deciders`` (admins only when nobody else can
    decide), drawn from the active ``staff``; a step assigned to someone no longer active falls
    back to the admins."""
    resource_request = step.resource_request
    if step.assignee_id is not None:
        assignee = next((member for member in staff if member.id == step.assignee_id), None)
        if assignee is not None:
            return [assignee]
    else:
        able = [
            member
            for member in staff
            if not member.is_admin and may_decide_step(member, resource_request, step)
        ]
        if able:
            return able
    return [member for member in staff if member.has_capability(Capability.ADMIN)]


def digests(now: datetime, after_days: int) -> tuple[int, list[tuple[User, list[DigestItem]]]]:
    """The overdue step count, and each decider with the overdue requests waiting on them."""
    steps = overdue_steps(now - timedelta(days=after_days))
    if not steps:
        return 0, []
    staff = _active_staff()
    by_user: dict[int, tuple[User, list[DigestItem]]] = {}
    for step in steps:
        resource_request = step.resource_request
        item = DigestItem(
            resource_request=resource_request,
            step=step,
            days=days_waited(step, now),
            link=absolute_url("requests.detail", reference=resource_request.reference),
        )
        for decider in reminded_deciders(step, staff):
            by_user.setdefault(decider.id, (decider, []))[1].append(item)
    return len(steps), [by_user[user_id] for user_id in sorted(by_user)]


def _local_date(user: User, now: datetime) -> date:
    try:
        zone = ZoneInfo(user.timezone or current_app.config["DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return now.astimezone(zone).date()


def send_digests(now: datetime | None = None) -> ReminderRun:
    """Queue today's digest for each decider with overdue requests (flushes, never commits)."""
    now = now or utcnow()
    after_days = current_app.config["REMIND_AFTER_DAYS"]
    overdue, recipients = digests(now, after_days)
    run = ReminderRun(overdue=overdue)
    for user, items in recipients:
        message = queue_mail(
            "remind_digest",
            recipient=user,
            idempotency_key=f"remind-digest:{user.id}:{_local_date(user, now).isoformat()}",
            items=items,
            after_days=after_days,
            queue_link=absolute_url("queue.waiting"),
        )
        (run.queued if message is not None else run.already_sent).append(user)
    db.session.flush()
    return run


@click.command("remind")
@with_appcontext
def remind_command() -> None:
    """Mail deciders their digest of overdue requests, and partners their next-day sessions."""
    run = send_digests()
    bookings_run = send_booking_reminders()
    db.session.commit()
    click.echo(
        f"Reminder digests: {len(run.queued)} queued, {len(run.already_sent)} already sent "
        f"today; {run.overdue} overdue step(s), "
        f"waiting over {current_app.config['REMIND_AFTER_DAYS']} day(s)."
    )
    click.echo(
        f"Booking reminders: {len(bookings_run.queued)} queued, "
        f"{len(bookings_run.already_sent)} already sent."
    )
