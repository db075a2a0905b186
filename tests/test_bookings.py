"""Booking integrity: rules, overlaps, closures, and concurrency that cannot double-book."""

import itertools
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from rrc.bookings import services as bookings
from rrc.extensions import db
from rrc.models import Booking, BookingStatus, Closure, ResourceRequest
from rrc.models.types import utcnow
from rrc.requests import services as requests
from tests.conftest import COMMON, is_postgres

SEOUL = ZoneInfo("Asia/Seoul")


def next_weekday(weekday: int = 2, weeks: int = 1) -> datetime:
    """Midnight (Seoul) of a given ISO weekday at least a week from now."""
    today = utcnow().astimezone(SEOUL).date() + timedelta(days=7 * weeks)
    while today.isoweekday() != weekday:
        today += timedelta(days=1)
    return datetime(today.year, today.month, today.day, tzinfo=SEOUL)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute).astimezone(UTC)


@pytest.fixture
def instrument(factory):
    facility = factory.facility(timezone="Asia/Seoul")
    return factory.resource(
        facility=facility,
        slot_granularity_minutes=30,
        min_duration_minutes=60,
        max_duration_minutes=240,
        min_notice_hours=24,
        max_advance_days=60,
        buffer_minutes=0,
    )


def make_request(factory, resource, partner=None) -> ResourceRequest:
    partner = partner or factory.partner()
    draft = requests.create_draft(partner, resource, dict(COMMON))
    db.session.commit()
    return draft


def test_adjacent_accepted_overlapping_contained_identical_refused(factory, instrument):
    day = next_weekday()
    first = make_request(factory, instrument)
    bookings.hold(first, [(at(day, 10), at(day, 11))])
    db.session.commit()
    adjacent = make_request(factory, instrument)
    bookings.hold(adjacent, [(at(day, 11), at(day, 12)), (at(day, 9), at(day, 10))])
    db.session.commit()
    for start, end in [
        (at(day, 10), at(day, 11)),  # identical
        (at(day, 10, 30), at(day, 11, 30)),  # overlapping
        (at(day, 9), at(day, 12)),  # containing
    ]:
        other = make_request(factory, instrument)
        with pytest.raises(bookings.SlotConflict) as conflict:
            bookings.hold(other, [(start, end)])
        db.session.rollback()
        assert "just taken" in conflict.value.message
        assert conflict.value.suggestions  # the nearest free slots are offered
        assert all(s >= at(day, 12) for s, _e in conflict.value.suggestions)
    assert db.session.scalar(select(func.count(Booking.id))) == 3


def test_buffers_widen_and_closures_block(factory, instrument):
    instrument.buffer_minutes = 30
    db.session.commit()
    day = next_weekday()
    bookings.hold(make_request(factory, instrument), [(at(day, 10), at(day, 11))])
    db.session.commit()
    with pytest.raises(bookings.SlotConflict):
        bookings.hold(make_request(factory, instrument), [(at(day, 11), at(day, 12))])
    db.session.rollback()
    bookings.hold(make_request(factory, instrument), [(at(day, 11, 30), at(day, 12, 30))])
    db.session.commit()
    db.session.add(
        Closure(
            facility_id=instrument.facility_id,
            starts_at=at(day, 14),
            ends_at=at(day, 16),
            reason="Maintenance",
        )
    )
    db.session.commit()
    with pytest.raises(bookings.SlotConflict):
        bookings.hold(make_request(factory, instrument), [(at(day, 15), at(day, 16))])


@pytest.mark.parametrize(
    ("slot", "rule", "message"),
    [
        (lambda d: (at(d, 10, 15), at(d, 11, 15)), "granularity", "30-minute grid"),
        (lambda d: (at(d, 10), at(d, 11, 15)), "granularity", "multiple of 30 minutes"),
        (lambda d: (at(d, 10), at(d, 10, 30)), "min_duration", "at least 60 minutes"),
        (lambda d: (at(d, 9), at(d, 13, 30)), "max_duration", "at most 240 minutes"),
        (lambda d: (at(d, 7), at(d, 8)), "opening_hours", "between 09:00 and 18:00"),
        (lambda d: (at(d, 17), at(d, 19)), "opening_hours", "between 09:00 and 18:00"),
        (
            lambda d: (at(d + timedelta(days=4), 10), at(d + timedelta(days=4), 11)),
            "opening_hours",
            "closed on",
        ),
        (
            lambda d: (utcnow() + timedelta(hours=2), utcnow() + timedelta(hours=3)),
            None,
            "hours ahead",
        ),
        (
            lambda d: (at(d + timedelta(days=70), 10), at(d + timedelta(days=70), 11)),
            None,
            "days ahead",
        ),
    ],
)
def test_every_rule_says_which_and_what_is_allowed(factory, instrument, slot, rule, message):
    start, end = slot(next_weekday(2))  # a Tuesday; +4 days is Saturday
    with pytest.raises(bookings.RuleViolation) as violation:
        bookings.check_rules(instrument, start, end, utcnow())
    assert message in violation.value.message
    if rule:
        assert violation.value.rule == rule


def test_lifecycle_with_the_request(factory, instrument, people):
    instrument.facility = people["facility"]
    instrument.approval_chain = ["coordinator"]
    db.session.commit()
    day = next_weekday()
    draft = make_request(factory, instrument, people["partner"])
    draft.requested_slots = [
        {"start": at(day, 10).isoformat(), "end": at(day, 12).isoformat()},
        {"start": at(day, 14).isoformat(), "end": at(day, 15).isoformat()},
    ]
    draft.usage_mode = "self_use"
    draft.agent_name, draft.risk_group = "None (fixed cells)", 1
    requests.submit(people["partner"], draft)
    db.session.commit()
    held = bookings.request_bookings(draft)
    assert [b.status for b in held] == [BookingStatus.HELD, BookingStatus.HELD]
    assert draft.estimate_snapshot["quantity"] == 3  # three started hours
    requests.approve(people["coordinator"], draft, draft.current_step.id)
    db.session.commit()
    assert {b.status for b in bookings.request_bookings(draft)} == {BookingStatus.CONFIRMED}
    second = make_request(factory, instrument, people["partner"])
    second.requested_slots = [{"start": at(day, 16).isoformat(), "end": at(day, 17).isoformat()}]
    second.usage_mode = "self_use"
    second.agent_name, second.risk_group = "None", 1
    requests.submit(people["partner"], second)
    requests.reject(people["coordinator"], second, second.current_step.id, "No.")
    db.session.commit()
    assert {b.status for b in bookings.request_bookings(second)} == {BookingStatus.RELEASED}
    requests.cancel(people["partner"], draft, "Plans changed")
    db.session.commit()
    cancelled = bookings.request_bookings(draft)
    assert {b.status for b in cancelled} == {BookingStatus.CANCELLED}
    assert all(not b.late_cancellation for b in cancelled)  # a week ahead: in time


def test_submission_with_a_taken_slot_is_refused_and_nothing_is_held(factory, instrument, people):
    instrument.facility = people["facility"]
    db.session.commit()
    day = next_weekday()
    bookings.hold(make_request(factory, instrument), [(at(day, 10), at(day, 11))])
    db.session.commit()
    draft = make_request(factory, instrument, people["partner"])
    draft.requested_slots = [
        {"start": at(day, 12).isoformat(), "end": at(day, 13).isoformat()},
        {"start": at(day, 10).isoformat(), "end": at(day, 11).isoformat()},
    ]
    draft.usage_mode, draft.agent_name, draft.risk_group = "self_use", "None", 1
    with pytest.raises(requests.IncompleteRequest) as refusal:
        requests.submit(people["partner"], draft)
    assert "just taken" in refusal.value.problems["requested_slots"]
    db.session.rollback()
    assert db.session.get(ResourceRequest, draft.id).status.value == "draft"
    assert db.session.scalar(select(func.count(Booking.id))) == 1


def test_move_keeps_integrity(factory, instrument):
    day = next_weekday()
    first = bookings.hold(make_request(factory, instrument), [(at(day, 10), at(day, 11))])[0]
    bookings.hold(make_request(factory, instrument), [(at(day, 12), at(day, 13))])
    db.session.commit()
    with pytest.raises(bookings.SlotConflict):
        bookings.move(first, at(day, 12, 30), at(day, 13, 30))
    db.session.rollback()
    first = db.session.get(Booking, first.id)
    sequence = first.sequence
    bookings.move(first, at(day, 10, 30), at(day, 11, 30))  # overlapping only itself: fine
    db.session.commit()
    assert first.sequence == sequence + 1


def race(app, count, work):
    """Run ``work(index)`` in ``count`` threads released together; return results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        # As in a web worker handling a POST: on SQLite its transaction begins IMMEDIATE.
        with app.test_request_context("/", method="POST"):
            try:
                barrier.wait(timeout=30)
                work(index)
                db.session.commit()
                results[index] = "ok"
            except bookings.SlotConflict:
                db.session.rollback()
                results[index] = "conflict"
            except Exception as error:  # pragma: no cover - reported by the assertion
                db.session.rollback()
                results[index] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_partners_racing_for_overlapping_slots_get_one_booking(app, factory, instrument):
    day = next_weekday()
    drafts = [make_request(factory, instrument).id for _ in range(20)]
    resource_id = instrument.id

    def book(index):
        resource_request = db.session.get(ResourceRequest, drafts[index])
        start = at(day, 10, 30 if index % 2 else 0)
        bookings.hold(resource_request, [(start, start + timedelta(hours=1))])

    results = race(app, 20, book)
    assert results.count("ok") == 1, results
    assert results.count("conflict") == 19, results
    db.session.rollback()  # end the test body's read snapshot
    active = db.session.scalar(
        select(func.count(Booking.id)).where(Booking.resource_id == resource_id)
    )
    assert active == 1


def test_two_staff_moving_into_the_same_slot(app, factory, instrument):
    day = next_weekday()
    ids = [
        bookings.hold(
            make_request(factory, instrument), [(at(day, 9 + 2 * n), at(day, 10 + 2 * n))]
        )[0].id
        for n in range(2)
    ]
    db.session.commit()

    def move(index):
        booking = db.session.get(Booking, ids[index])
        bookings.move(booking, at(day, 15), at(day, 16))

    results = race(app, 2, move)
    assert sorted(results) == ["conflict", "ok"], results


@pytest.mark.skipif(not is_postgres(), reason="the exclusion constraint exists on PostgreSQL only")
def test_postgres_refuses_a_raw_overlapping_insert(factory, instrument):
    day = next_weekday()
    booking = bookings.hold(make_request(factory, instrument), [(at(day, 10), at(day, 11))])[0]
    db.session.commit()
    statement = text(
        "INSERT INTO booking (resource_id, request_id, starts_at, ends_at, status, sequence, "
        "late_cancellation, created_at, updated_at) VALUES (:r, :q, :s, :e, 'held', 0, false, "
        "now(), now())"
    )
    with pytest.raises(IntegrityError, match="ex_booking_no_overlap"):
        db.session.execute(
            statement,
            {
                "r": instrument.id,
                "q": booking.request_id,
                "s": at(day, 10, 30),
                "e": at(day, 11, 30),
            },
        )
    db.session.rollback()
    # Inactive bookings do not block, and adjacent ones are fine.
    db.session.execute(
        statement, {"r": instrument.id, "q": booking.request_id, "s": at(day, 11), "e": at(day, 12)}
    )
    db.session.commit()


def test_random_operations_never_leave_overlapping_active_bookings(app, factory, instrument):
    """Hypothesis drives book, cancel, move, approve and reject in random order."""
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st
    from hypothesis.stateful import (
        RuleBasedStateMachine,
        invariant,
        rule,
        run_state_machine_as_test,
    )

    day = next_weekday()
    partner = factory.partner()
    hours = st.integers(min_value=9, max_value=16)
    halves = st.sampled_from([0, 30])
    lengths = st.sampled_from([60, 90, 120])

    class Bookings(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            db.session.rollback()
            db.session.execute(Booking.__table__.delete())
            db.session.commit()

        def _slot(self, hour, half, length):
            start = at(day, hour, half)
            return start, start + timedelta(minutes=length)

        def _any(self, statuses, index):
            rows = list(
                db.session.scalars(
                    select(Booking).where(Booking.status.in_(statuses)).order_by(Booking.id)
                )
            )
            return rows[index % len(rows)] if rows else None

        @rule(hour=hours, half=halves, length=lengths)
        def book(self, hour, half, length):
            start, end = self._slot(hour, half, length)
            if end > at(day, 18):
                return
            draft = requests.create_draft(partner, instrument, {})
            try:
                bookings.hold(draft, [(start, end)])
                db.session.commit()
            except bookings.BookingError:
                db.session.rollback()

        @rule(index=st.integers(0, 50), cancelled=st.booleans())
        def cancel_or_reject(self, index, cancelled):
            booking = self._any([BookingStatus.HELD, BookingStatus.CONFIRMED], index)
            if booking is not None:
                bookings.release(booking.resource_request, cancelled=cancelled)
                db.session.commit()

        @rule(index=st.integers(0, 50))
        def approve(self, index):
            booking = self._any([BookingStatus.HELD], index)
            if booking is not None:
                bookings.confirm(booking.resource_request)
                db.session.commit()

        @rule(index=st.integers(0, 50), hour=hours, half=halves, length=lengths)
        def move(self, index, hour, half, length):
            booking = self._any([BookingStatus.HELD, BookingStatus.CONFIRMED], index)
            start, end = self._slot(hour, half, length)
            if booking is None or end > at(day, 18):
                return
            try:
                bookings.move(booking, start, end)
                db.session.commit()
            except bookings.BookingError:
                db.session.rollback()

        @invariant()
        def no_overlap(self):
            active = list(
                db.session.scalars(
                    select(Booking)
                    .where(Booking.status.in_([BookingStatus.HELD, BookingStatus.CONFIRMED]))
                    .order_by(Booking.starts_at)
                )
            )
            for first, second in itertools.pairwise(active):
                assert first.ends_at <= second.starts_at, (first, second)

    run_state_machine_as_test(
        Bookings,
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_approved_mail_carries_the_sessions_as_ics(factory, instrument, people, smtp_server):
    import email
    from email import policy

    from icalendar import Calendar

    from rrc.mail.relay import deliver_due
    from tests.conftest import outbox

    instrument.facility = people["facility"]
    instrument.approval_chain = ["coordinator"]
    db.session.commit()
    day = next_weekday()
    draft = make_request(factory, instrument, people["partner"])
    draft.requested_slots = [
        {"start": at(day, 10).isoformat(), "end": at(day, 11).isoformat()},
        {"start": at(day, 14).isoformat(), "end": at(day, 16).isoformat()},
    ]
    draft.usage_mode, draft.agent_name, draft.risk_group = "self_use", "None", 1
    requests.submit(people["partner"], draft)
    requests.approve(people["coordinator"], draft, draft.current_step.id)
    db.session.commit()
    (approved,) = [m for m in outbox(recipient=people["partner"].email) if "approved" in m.subject]
    assert [a["filename"] for a in approved.attachments] == [f"{draft.reference}.ics"]
    deliver_due()
    parsed = [
        email.message_from_bytes(envelope.original_content, policy=policy.default)
        for envelope in smtp_server.messages
    ]
    (message,) = [m for m in parsed if m["Subject"] == approved.subject]
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    events = calendar.walk("VEVENT")
    assert len(events) == 2
    assert {str(event["STATUS"]) for event in events} == {"CONFIRMED"}
    assert all(str(event["UID"]).startswith("booking-") for event in events)


def test_receipt_and_approval_mails_list_the_sessions(factory, instrument, people):
    from tests.conftest import outbox

    instrument.facility = people["facility"]
    instrument.approval_chain = ["coordinator"]
    db.session.commit()
    day = next_weekday()
    draft = make_request(factory, instrument, people["partner"])
    draft.requested_slots = [{"start": at(day, 10).isoformat(), "end": at(day, 11).isoformat()}]
    draft.usage_mode, draft.agent_name, draft.risk_group = "self_use", "None", 1
    requests.submit(people["partner"], draft)
    requests.approve(people["coordinator"], draft, draft.current_step.id)
    db.session.commit()
    local = f"{day:%Y-%m-%d} 10:00 - 11:00"
    received, approved = outbox(recipient=people["partner"].email)
    assert "held for you" in received.text_body and local in received.text_body
    assert "confirmed sessions" in approved.text_body and local in approved.text_body
    assert ".ics" in approved.text_body and "contacts you about dates" not in approved.text_body
