"""Booking reminders: one mail a day before each confirmed session, in the partner's language."""

from datetime import UTC, datetime, timedelta

import pytest

from rrc.bookings.reminders import send_booking_reminders
from rrc.extensions import db
from rrc.models import Booking, BookingStatus, OutboxMessage
from rrc.requests import services as requests
from tests.conftest import COMMON, outbox

# A fixed "now": Wednesday 2026-12-02 09:00 in Seoul.
NOW = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


@pytest.fixture
def instrument(factory):
    facility = factory.facility(
        location="Building C, BSL-2 suite 3",
        timezone="Asia/Seoul",
        contact_email="imaging@ipk.example",
    )
    return factory.resource(
        code="INS-REM-01",
        name="Live-cell imager",
        name_ko="생세포 이미징 장비",
        facility=facility,
        cancellation_notice_hours=48,
        training_requirement="Complete the imaging safety training.",
    )


def booking_for(factory, resource, start, status=BookingStatus.CONFIRMED, partner=None):
    """A booking of a fresh request of ``partner`` (a new partner by default)."""
    partner = partner or factory.partner(name="Reminder Partner")
    resource_request = requests.create_draft(partner, resource, dict(COMMON))
    booking = Booking(
        resource=resource,
        resource_request=resource_request,
        starts_at=start,
        ends_at=start + timedelta(minutes=20),
        status=status,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def reminders() -> list[OutboxMessage]:
    return outbox(template="booking_reminder")


def test_sent_once_within_24_hours_only_for_confirmed(factory, instrument):
    due = booking_for(factory, instrument, NOW + timedelta(hours=5))
    edge = booking_for(factory, instrument, NOW + timedelta(hours=24))
    too_far = booking_for(factory, instrument, NOW + timedelta(hours=24, minutes=30))
    started = booking_for(factory, instrument, NOW - timedelta(minutes=30))
    held = booking_for(factory, instrument, NOW + timedelta(hours=3), BookingStatus.HELD)
    cancelled = booking_for(factory, instrument, NOW + timedelta(hours=3), BookingStatus.CANCELLED)
    released = booking_for(factory, instrument, NOW + timedelta(hours=4), BookingStatus.RELEASED)

    run = send_booking_reminders(NOW)
    db.session.commit()
    assert {booking.id for booking in run.queued} == {due.id, edge.id}
    messages = reminders()
    assert {message.recipient for message in messages} == {
        due.resource_request.requester.email,
        edge.resource_request.requester.email,
    }
    assert {message.idempotency_key for message in messages} == {
        f"booking-reminder:{due.id}:{due.sequence}",
        f"booking-reminder:{edge.id}:{edge.sequence}",
    }
    for booking in (due, edge):
        assert booking.reminded_at == NOW
    for booking in (too_far, started, held, cancelled, released):
        assert booking.reminded_at is None

    # A second run sends nothing new.
    again = send_booking_reminders(NOW + timedelta(minutes=10))
    db.session.commit()
    assert again.queued == []
    assert len(reminders()) == 2

    # An hour later the booking further out enters the window and is reminded, once.
    later = send_booking_reminders(NOW + timedelta(hours=1))
    db.session.commit()
    assert [booking.id for booking in later.queued] == [too_far.id]
    assert len(reminders()) == 3


def test_content_local_time_location_and_notes(factory, instrument):
    # 14:00 UTC on 2 December is 23:00 in Seoul.
    booking = booking_for(factory, instrument, datetime(2026, 12, 2, 14, 0, tzinfo=UTC))
    send_booking_reminders(NOW)
    db.session.commit()
    (message,) = reminders()
    assert message.locale == "en"
    assert "INS-REM-01" in message.subject
    for body in (message.text_body, message.html_body):
        assert "11:00\u202fPM" in body or "11:00 PM" in body
        assert "Asia/Seoul" in body
        assert "Building C, BSL-2 suite 3" in body
        assert "Complete the imaging safety training." in body
        assert "48 hours" in body
        assert "imaging@ipk.example" in body
        assert booking.resource_request.reference in body
        assert f"https://rrc.example.test/requests/{booking.resource_request.reference}" in body


def test_moved_booking_gets_a_new_reminder(factory, instrument):
    booking = booking_for(factory, instrument, NOW + timedelta(hours=20))
    send_booking_reminders(NOW)
    db.session.commit()
    assert len(reminders()) == 1

    # Staff move the session (as bookings.move does: new times, SEQUENCE grows).
    booking.starts_at = NOW + timedelta(hours=8)
    booking.ends_at = NOW + timedelta(hours=10)
    booking.sequence += 1
    db.session.commit()
    run = send_booking_reminders(NOW + timedelta(hours=1))
    db.session.commit()
    assert [queued.id for queued in run.queued] == [booking.id]
    keys = [message.idempotency_key for message in reminders()]
    assert keys == [
        f"booking-reminder:{booking.id}:{booking.sequence - 1}",
        f"booking-reminder:{booking.id}:{booking.sequence}",
    ]
    assert send_booking_reminders(NOW + timedelta(hours=2)).queued == []


def test_korean_recipient_gets_korean(factory, instrument):
    partner = factory.partner(name="김연구", locale="ko")
    booking_for(factory, instrument, NOW + timedelta(hours=6), partner=partner)
    send_booking_reminders(NOW)
    db.session.commit()
    (message,) = reminders()
    assert message.locale == "ko"
    assert message.recipient == partner.email
    assert "생세포 이미징 장비" in message.text_body
    assert "2026년 12월 2일" in message.text_body  # the date is written the Korean way


def test_inactive_requester_not_reminded(factory, instrument):
    partner = factory.partner()
    booking_for(factory, instrument, NOW + timedelta(hours=6), partner=partner)
    partner.status = "suspended"
    db.session.commit()
    assert send_booking_reminders(NOW).queued == []
    assert reminders() == []


def test_remind_command_sends_booking_reminders(factory, instrument, runner):
    booking_for(factory, instrument, datetime.now(UTC) + timedelta(hours=3))
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0, result.output
    assert "Booking reminders: 1 queued, 0 already sent." in result.output
    result = runner.invoke(args=["remind"])
    assert "Booking reminders: 0 queued, 1 already sent." in result.output
    assert len(reminders()) == 1
