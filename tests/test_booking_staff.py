"""Staff booking operations (move, completed, no-show) and closures over active bookings."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from rrc.bookings import services as bookings
from rrc.extensions import db
from rrc.models import AuditLog, Booking, BookingStatus, Closure, RequestEvent, ResourceRequest
from rrc.models.types import utcnow
from rrc.requests import services as requests
from tests.conftest import COMMON, csrf_tokens, login, outbox, post_form

SEOUL = ZoneInfo("Asia/Seoul")


def next_weekday(weekday: int = 2, weeks: int = 1) -> datetime:
    """Midnight (Seoul) of a given ISO weekday at least ``weeks`` weeks from now."""
    today = utcnow().astimezone(SEOUL).date() + timedelta(days=7 * weeks)
    while today.isoweekday() != weekday:
        today += timedelta(days=1)
    return datetime(today.year, today.month, today.day, tzinfo=SEOUL)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute).astimezone(UTC)


def local(day: datetime, hour: int, minute: int = 0) -> str:
    """The value of a datetime-local field in the facility's zone."""
    return f"{day:%Y-%m-%d}T{hour:02d}:{minute:02d}"


@pytest.fixture
def setting(factory):
    """A Seoul facility with a slot instrument, its manager, another manager and a partner."""
    facility = factory.facility(code="FAC-HCS", timezone="Asia/Seoul")
    instrument = factory.resource(
        facility=facility,
        code="INS-HCS-02",
        slot_granularity_minutes=30,
        min_duration_minutes=60,
        max_duration_minutes=240,
        min_notice_hours=24,
        max_advance_days=60,
        buffer_minutes=0,
        approval_chain=["coordinator"],
    )
    return {
        "facility": facility,
        "instrument": instrument,
        "manager": factory.facility_manager(facility, name="Manager Person"),
        "other_manager": factory.facility_manager(factory.facility(), name="Other Manager"),
        "coordinator": factory.coordinator(name="Coordinator Person"),
        "partner": factory.partner(name="Partner Person"),
    }


def approved_booking(factory, setting, start, end, partner=None) -> Booking:
    """A submitted and approved request holding one confirmed booking."""
    partner = partner or setting["partner"]
    draft = requests.create_draft(partner, setting["instrument"], dict(COMMON))
    draft.requested_slots = [{"start": start.isoformat(), "end": end.isoformat()}]
    draft.usage_mode, draft.agent_name, draft.risk_group = "self_use", "None (fixed cells)", 1
    requests.submit(partner, draft)
    requests.approve(setting["coordinator"], draft, draft.current_step.id)
    db.session.commit()
    (booking,) = bookings.request_bookings(draft)
    assert booking.status == BookingStatus.CONFIRMED
    return booking


def past_booking(factory, setting, status=BookingStatus.CONFIRMED, days_ago=1) -> Booking:
    """A booking that ended ``days_ago`` days ago (written directly: rules refuse past slots)."""
    draft = requests.create_draft(setting["partner"], setting["instrument"], dict(COMMON))
    end = utcnow().replace(microsecond=0) - timedelta(days=days_ago)
    booking = Booking(
        resource=setting["instrument"],
        resource_request=draft,
        starts_at=end - timedelta(hours=2),
        ends_at=end,
        status=status,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def mails_about(word: str, recipient: str | None = None):
    return [
        message
        for message in outbox()
        if word in message.subject and (recipient is None or message.recipient == recipient)
    ]


def event_kinds(resource_request_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(RequestEvent.kind)
            .where(RequestEvent.request_id == resource_request_id)
            .order_by(RequestEvent.id)
        )
    )


def audit_actions(prefix: str) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditLog.action).where(AuditLog.action.startswith(prefix)).order_by(AuditLog.id)
        )
    )


def detail_url(booking: Booking) -> str:
    return f"/requests/{booking.resource_request.reference}"


# --- moving -------------------------------------------------------------------------------------


def test_facility_manager_moves_a_booking_and_the_partner_is_told(client, factory, setting):
    day = next_weekday()
    booking = approved_booking(factory, setting, at(day, 10), at(day, 11))
    sequence = booking.sequence
    login(client, setting["manager"].email)
    page = client.get(detail_url(booking)).get_data(as_text=True)
    move_url = f"/staff/bookings/{booking.id}/move"
    assert move_url in page
    form = client.get(move_url).get_data(as_text=True)
    assert local(day, 10) in form  # the current time, in the facility's zone
    response = post_form(
        client, move_url, {"starts_at": local(day, 14), "ends_at": local(day, 15, 30)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(detail_url(booking))
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert (booking.starts_at, booking.ends_at) == (at(day, 14), at(day, 15, 30))
    assert booking.sequence == sequence + 1  # calendar clients replace the event
    assert booking.status == BookingStatus.CONFIRMED
    assert event_kinds(booking.request_id)[-1] == "booking_moved"
    assert audit_actions("booking.") == ["booking.moved"]
    (mail,) = mails_about("moved")
    assert mail.recipient == setting["partner"].email
    assert booking.resource_request.reference in mail.subject
    # Old and new time, in the recipient's zone (the default, Asia/Seoul).
    assert "10:00" in mail.text_body and "2:00" in mail.text_body
    assert "Before:" in mail.text_body and "Now:" in mail.text_body
    timeline = client.get(detail_url(booking)).get_data(as_text=True)
    assert "14:00" in timeline.split('id="bookings"')[1]


def test_move_into_a_taken_slot_shows_the_conflict_and_changes_nothing(client, factory, setting):
    day = next_weekday()
    booking = approved_booking(factory, setting, at(day, 10), at(day, 11))
    approved_booking(factory, setting, at(day, 12), at(day, 13), partner=factory.partner())
    before = len(outbox())
    login(client, setting["coordinator"].email)
    move_url = f"/staff/bookings/{booking.id}/move"
    response = post_form(
        client, move_url, {"starts_at": local(day, 12, 30), "ends_at": local(day, 13, 30)}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "just taken" in page
    assert 'id="suggestions"' in page  # the nearest free times, each a button
    assert f'value="{local(day, 13)}"' in page
    assert local(day, 12, 30) in page  # the input is kept
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert (booking.starts_at, booking.ends_at) == (at(day, 10), at(day, 11))
    assert len(outbox()) == before
    assert "booking_moved" not in event_kinds(booking.request_id)

    # The booking's own time is never offered as a place to move it to.
    approved_booking(factory, setting, at(day, 9), at(day, 10), partner=factory.partner())
    response = post_form(client, move_url, {"starts_at": local(day, 9), "ends_at": local(day, 10)})
    page = response.get_data(as_text=True)
    offered = re.findall(r'name="starts_at" value="([^"]+)"', page)
    assert offered and local(day, 10) not in offered, offered  # where it already is
    assert local(day, 10, 30) in offered

    # A rule violation is shown beside the field too.
    response = post_form(
        client, move_url, {"starts_at": local(day, 10, 15), "ends_at": local(day, 11, 15)}
    )
    assert response.status_code == 200
    assert "30-minute grid" in response.get_data(as_text=True)


def test_other_facility_manager_and_partner_cannot_move_or_close(client, factory, setting):
    day = next_weekday()
    booking = approved_booking(factory, setting, at(day, 10), at(day, 11))
    ended = past_booking(factory, setting)
    move_url = f"/staff/bookings/{booking.id}/move"
    data = {"starts_at": local(day, 14), "ends_at": local(day, 15)}

    login(client, setting["other_manager"].email)
    assert client.get(move_url).status_code == 404
    token = csrf_tokens(client.get("/").get_data(as_text=True)) or {}
    assert client.post(move_url, data={**data, **token}).status_code == 404
    assert client.post(f"/staff/bookings/{ended.id}/complete", data=token).status_code == 404
    client.post("/logout", data=token)

    client.delete_cookie("session")
    login(client, setting["partner"].email)
    page = client.get(detail_url(booking)).get_data(as_text=True)
    assert 'id="bookings"' in page and "/staff/bookings/" not in page
    assert client.get(move_url).status_code in (403, 404)
    assert client.post(move_url, data=data).status_code in (400, 403, 404)
    assert client.post(f"/staff/bookings/{ended.id}/no-show").status_code in (400, 403, 404)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).starts_at == at(day, 10)
    assert db.session.get(Booking, ended.id).status == BookingStatus.CONFIRMED
    assert audit_actions("booking.") == []


def test_completed_and_no_show_only_for_confirmed_bookings_that_ended(client, factory, setting):
    day = next_weekday()
    future = approved_booking(factory, setting, at(day, 10), at(day, 11))
    ended = past_booking(factory, setting)
    missed = past_booking(factory, setting, days_ago=2)
    held = past_booking(factory, setting, status=BookingStatus.HELD, days_ago=3)
    login(client, setting["manager"].email)

    page = client.get(detail_url(future)).get_data(as_text=True)
    assert f"/staff/bookings/{future.id}/complete" not in page
    response = post_form(
        client, detail_url(future), {}, action=f"/staff/bookings/{future.id}/complete"
    )
    assert response.status_code == 302
    assert "have ended" in client.get(detail_url(future)).get_data(as_text=True)

    page = client.get(detail_url(ended)).get_data(as_text=True)
    assert f"/staff/bookings/{ended.id}/complete" in page
    assert f"/staff/bookings/{ended.id}/move" not in page  # past bookings are not moved
    post_form(client, detail_url(ended), {}, action=f"/staff/bookings/{ended.id}/complete")
    post_form(client, detail_url(missed), {}, action=f"/staff/bookings/{missed.id}/no-show")
    post_form(client, detail_url(held), {}, action=f"/staff/bookings/{held.id}/complete")
    # Closing twice is refused kindly.
    post_form(client, detail_url(ended), {}, action=f"/staff/bookings/{ended.id}/no-show")

    db.session.expire_all()
    assert db.session.get(Booking, future.id).status == BookingStatus.CONFIRMED
    assert db.session.get(Booking, ended.id).status == BookingStatus.COMPLETED
    assert db.session.get(Booking, missed.id).status == BookingStatus.NO_SHOW
    assert db.session.get(Booking, held.id).status == BookingStatus.HELD
    assert event_kinds(ended.request_id)[-1] == "booking_completed"
    assert event_kinds(missed.request_id)[-1] == "booking_no_show"
    assert audit_actions("booking.") == ["booking.completed", "booking.no_show"]


def test_move_requires_csrf(client, factory, setting):
    day = next_weekday()
    booking = approved_booking(factory, setting, at(day, 10), at(day, 11))
    login(client, setting["manager"].email)
    response = client.post(
        f"/staff/bookings/{booking.id}/move",
        data={"starts_at": local(day, 14), "ends_at": local(day, 15)},
    )
    assert response.status_code in (200, 400)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).starts_at == at(day, 10)


# --- closures over bookings ---------------------------------------------------------------------


def closure_url(setting) -> str:
    return f"/staff/catalogue/facilities/{setting['facility'].id}/closures"


def two_bookings(factory, setting, day):
    first_partner = factory.partner(name="First Partner")
    second_partner = factory.partner(name="Second Partner")
    first = approved_booking(factory, setting, at(day, 10), at(day, 11), partner=first_partner)
    second = approved_booking(factory, setting, at(day, 14), at(day, 16), partner=second_partner)
    outside = approved_booking(factory, setting, at(day, 16), at(day, 17))
    return first, second, outside, first_partner, second_partner


def ask_for_closure(client, setting, day, scope=""):
    """Post the closure form; return the confirmation page."""
    response = post_form(
        client,
        closure_url(setting),
        {
            "scope": scope,
            "starts_at": local(day, 9),
            "ends_at": local(day, 16),
            "reason": "Chiller repair",
        },
    )
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def hidden_fields(page: str) -> dict[str, str]:
    section = page.split('id="affected-bookings"')[1]
    fields = dict(re.findall(r'type="hidden" name="([\w-]+)" value="([^"]*)"', section))
    return {**fields, **csrf_tokens(section)}


def closure_count() -> int:
    return db.session.scalar(select(func.count(Closure.id)))


def test_closure_over_bookings_lists_them_and_creates_nothing_before_the_choice(
    client, factory, setting
):
    day = next_weekday()
    first, second, outside, *_partners = two_bookings(factory, setting, day)
    before = len(outbox())
    login(client, setting["manager"].email)
    page = ask_for_closure(client, setting, day)
    section = page.split('id="affected-bookings"')[1]
    for booking in (first, second):
        assert booking.resource_request.reference in section
        assert booking.resource_request.organisation.name in section
    assert outside.resource_request.reference not in section  # ends exactly at 16:00: adjacent
    assert section.count("Confirmed") == 2  # each booking's status
    assert "INS-HCS-02" in section
    assert "Cancel these bookings and notify the partners" in page
    assert "Keep them" in page
    fields = hidden_fields(page)
    assert fields["reason"] == "Chiller repair" and fields["starts_at"] == local(day, 9)
    assert closure_count() == 0
    assert len(outbox()) == before

    # "Go back" shows the form again with the input kept; still nothing written.
    response = client.post(closure_url(setting), data={**fields, "on_bookings": "back"})
    assert response.status_code == 200
    assert 'value="Chiller repair"' in response.get_data(as_text=True)
    assert closure_count() == 0

    # A choice made on a list that is no longer true is asked again.
    stale = {**fields, "shown_bookings": str(first.id), "on_bookings": "cancel"}
    response = client.post(closure_url(setting), data=stale)
    assert response.status_code == 200
    assert 'id="affected-bookings"' in response.get_data(as_text=True)
    assert closure_count() == 0
    db.session.expire_all()
    assert {b.status for b in db.session.scalars(select(Booking))} == {BookingStatus.CONFIRMED}


def test_cancel_and_notify_cancels_both_and_mails_both_partners(client, factory, setting):
    day = next_weekday()
    first, second, outside, first_partner, second_partner = two_bookings(factory, setting, day)
    login(client, setting["manager"].email)
    page = ask_for_closure(client, setting, day, scope=str(setting["instrument"].id))
    response = client.post(
        closure_url(setting), data={**hidden_fields(page), "on_bookings": "cancel"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    (closure,) = db.session.scalars(select(Closure))
    assert closure.resource_id == setting["instrument"].id and closure.reason == "Chiller repair"
    for booking, partner in ((first, first_partner), (second, second_partner)):
        booking = db.session.get(Booking, booking.id)
        assert booking.status == BookingStatus.CANCELLED
        assert booking.late_cancellation is False
        assert booking.sequence == 2  # confirmed, then cancelled
        assert event_kinds(booking.request_id)[-1] == "booking_cancelled_by_closure"
        assert not db.session.get(ResourceRequest, booking.request_id).late_cancellation
        (mail,) = mails_about("cancelled (facility closed)", partner.email)
        assert "Chiller repair" in mail.text_body and "Chiller repair" in mail.html_body
        assert booking.resource_request.reference in mail.subject
    assert db.session.get(Booking, outside.id).status == BookingStatus.CONFIRMED
    assert audit_actions("booking.") == ["booking.cancelled_by_closure"] * 2
    (created,) = db.session.scalars(
        select(AuditLog.detail).where(AuditLog.action == "catalogue.closure_created")
    )
    assert "cancelled bookings" in created
    # The freed time is closed for new bookings too.
    other = requests.create_draft(factory.partner(), setting["instrument"], dict(COMMON))
    with pytest.raises(bookings.SlotConflict):
        bookings.hold(other, [(at(day, 10), at(day, 11))])
    db.session.rollback()


def test_keep_keeps_the_bookings_and_still_creates_the_closure(client, factory, setting):
    day = next_weekday()
    first, second, *_rest = two_bookings(factory, setting, day)
    before = len(outbox())
    login(client, setting["coordinator"].email)
    page = ask_for_closure(client, setting, day)
    response = client.post(
        closure_url(setting), data={**hidden_fields(page), "on_bookings": "keep"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    (closure,) = db.session.scalars(select(Closure))
    assert closure.facility_id == setting["facility"].id
    assert {db.session.get(Booking, b.id).status for b in (first, second)} == {
        BookingStatus.CONFIRMED
    }
    assert len(outbox()) == before
    (created,) = db.session.scalars(
        select(AuditLog.detail).where(AuditLog.action == "catalogue.closure_created")
    )
    assert f"kept bookings {first.id},{second.id}" in created
    # New bookings in the closed period are still refused.
    other = requests.create_draft(factory.partner(), setting["instrument"], dict(COMMON))
    with pytest.raises(bookings.SlotConflict):
        bookings.hold(other, [(at(day, 12), at(day, 13))])
    db.session.rollback()


def test_closure_without_bookings_is_created_at_once(client, factory, setting):
    day = next_weekday()
    login(client, setting["manager"].email)
    response = post_form(
        client,
        closure_url(setting),
        {"scope": "", "starts_at": local(day, 9), "ends_at": local(day, 16), "reason": "Audit"},
    )
    assert response.status_code == 302
    assert closure_count() == 1


def test_a_request_whose_sessions_a_closure_cancelled_cannot_be_approved(client, factory, setting):
    day = next_weekday()
    draft = requests.create_draft(setting["partner"], setting["instrument"], dict(COMMON))
    draft.requested_slots = [{"start": at(day, 10).isoformat(), "end": at(day, 11).isoformat()}]
    draft.usage_mode, draft.agent_name, draft.risk_group = "self_use", "None (fixed cells)", 1
    requests.submit(setting["partner"], draft)
    db.session.commit()
    login(client, setting["manager"].email)
    page = ask_for_closure(client, setting, day, scope=str(setting["instrument"].id))
    response = client.post(
        closure_url(setting), data={**hidden_fields(page), "on_bookings": "cancel"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    in_review = db.session.get(ResourceRequest, draft.id)
    with pytest.raises(requests.RequestError, match="nothing left to approve"):
        requests.approve(setting["coordinator"], in_review, in_review.current_step.id)
    db.session.rollback()
    in_review = db.session.get(ResourceRequest, draft.id)
    assert in_review.status.value == "in_review"
    requests.reject(setting["coordinator"], in_review, in_review.current_step.id, "Closed.")
    db.session.commit()
    assert db.session.get(ResourceRequest, draft.id).status.value == "rejected"


def test_the_cancel_box_states_the_notice_and_warns_before_a_late_cancellation(
    client, factory, setting
):
    day = next_weekday()
    booking = approved_booking(factory, setting, at(day, 10), at(day, 11))
    reference = booking.resource_request.reference
    login(client, setting["partner"].email)
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    notice = setting["instrument"].cancellation_notice_hours
    assert f"free of charge up to {notice} hours before they start" in page
    assert "Cancelling now is late" not in page

    setting["instrument"].cancellation_notice_hours = 24 * 30
    db.session.commit()
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    assert "Cancelling now is late for 1 session" in page
    response = post_form(
        client,
        f"/requests/{reference}",
        {"cancel-reason": "Plans changed."},
        action=f"/requests/{reference}/cancel",
    )
    assert response.status_code == 302
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.CANCELLED and booking.late_cancellation
    assert booking.resource_request.late_cancellation


def test_my_requests_lists_the_partners_upcoming_sessions_and_nobody_elses(
    client, factory, setting
):
    from tests.test_availability import count_queries

    day = next_weekday()
    partner = setting["partner"]
    login(client, partner.email)
    assert 'id="upcoming"' not in client.get("/requests/").get_data(as_text=True)
    later = approved_booking(factory, setting, at(day, 14), at(day, 15))
    first = approved_booking(factory, setting, at(day, 10), at(day, 11))
    queries_for_two = count_queries(client, "/requests/")
    past_booking(factory, setting)
    stranger = approved_booking(factory, setting, at(day, 16), at(day, 17), factory.partner())
    cancelled = approved_booking(factory, setting, at(day, 12), at(day, 13))
    requests.cancel(partner, cancelled.resource_request, "Not needed.")
    db.session.commit()
    page = client.get("/requests/").get_data(as_text=True)
    section = page.split('id="upcoming"')[1].split("</table>")[0]
    references = re.findall(r">(RRC-\d{4}-\d{5})<", section)
    assert references == [first.resource_request.reference, later.resource_request.reference]
    assert stranger.resource_request.reference not in page
    assert count_queries(client, "/requests/") == queries_for_two
