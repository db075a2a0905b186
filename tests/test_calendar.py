"""Calendar feeds: personal secret-URL feed, staff resource feed, a request's .ics download."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from rrc.bookings import services as bookings
from rrc.extensions import db
from rrc.models import AuditLog, Booking, BookingStatus, ResourceRequest
from rrc.models.types import utcnow
from rrc.requests import services as requests
from tests.conftest import COMMON, login, post_form

SEOUL = ZoneInfo("Asia/Seoul")


def next_weekday(weekday: int = 3, weeks: int = 1) -> datetime:
    """Midnight (Seoul) of a given ISO weekday at least ``weeks`` weeks from now."""
    today = utcnow().astimezone(SEOUL).date() + timedelta(days=7 * weeks)
    while today.isoweekday() != weekday:
        today += timedelta(days=1)
    return datetime(today.year, today.month, today.day, tzinfo=SEOUL)


def at(day: datetime, hour: int) -> datetime:
    return day.replace(hour=hour).astimezone(UTC)


@pytest.fixture
def instrument(factory):
    facility = factory.facility(location="Building B, room 204", timezone="Asia/Seoul")
    return factory.resource(
        code="INS-CAL-01",
        name="Confocal microscope",
        facility=facility,
        slot_granularity_minutes=60,
        min_duration_minutes=60,
        max_duration_minutes=240,
        min_notice_hours=24,
        max_advance_days=60,
    )


def make_request(partner, resource) -> ResourceRequest:
    draft = requests.create_draft(partner, resource, dict(COMMON))
    db.session.commit()
    return draft


def add_booking(resource_request, start, hours=1, status=BookingStatus.CONFIRMED) -> Booking:
    booking = Booking(
        resource=resource_request.resource,
        resource_request=resource_request,
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        status=status,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def events(response) -> dict[str, dict]:
    """The VEVENTs of an .ics response, by UID."""
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "RRC" in str(calendar["PRODID"])
    return {str(component["UID"]): component for component in calendar.walk("VEVENT")}


def create_link(client, user) -> str:
    """Press "Create my calendar link" as ``user`` (already logged in) and return the token."""
    response = post_form(client, "/account/profile", {}, action="/calendar/link")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/profile#calendar")
    db.session.expire_all()
    assert user.calendar_token
    return user.calendar_token


def test_personal_feed_statuses_uids_and_times(app, client, factory, instrument):
    partner = factory.partner(name="Calendar Partner")
    day = next_weekday()
    mine = make_request(partner, instrument)
    held = add_booking(mine, at(day, 10), status=BookingStatus.HELD)
    confirmed = add_booking(mine, at(day, 13), hours=2)
    cancelled = add_booking(mine, at(day, 16), status=BookingStatus.CANCELLED)
    released = add_booking(make_request(partner, instrument), at(day, 17), status="released")
    # Cancelled long ago: calendar clients have long removed it.
    old_cancel = add_booking(mine, at(day, 9), status=BookingStatus.CANCELLED)
    old_cancel.updated_at = utcnow() - timedelta(days=31)
    db.session.commit()
    # Someone else's booking, even in the same organisation, is not in this feed.
    colleague = factory.partner(organisation=partner.organisation, is_org_manager=True)
    add_booking(make_request(colleague, instrument), at(day, 11))

    login(client, partner.email)
    token = create_link(client, partner)
    anonymous = app.test_client()
    found = events(anonymous.get(f"/calendar/{token}.ics"))

    assert set(found) == {
        f"booking-{booking.id}@rrc.ip-korea.org"
        for booking in (held, confirmed, cancelled, released)
    }
    assert str(found[f"booking-{held.id}@rrc.ip-korea.org"]["STATUS"]) == "TENTATIVE"
    assert str(found[f"booking-{cancelled.id}@rrc.ip-korea.org"]["STATUS"]) == "CANCELLED"
    assert str(found[f"booking-{released.id}@rrc.ip-korea.org"]["STATUS"]) == "CANCELLED"
    event = found[f"booking-{confirmed.id}@rrc.ip-korea.org"]
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == at(day, 13)
    assert event.decoded("DTEND") == at(day, 15)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert str(event["SUMMARY"]) == "INS-CAL-01 Confocal microscope"
    assert str(event["LOCATION"]) == "Building B, room 204"
    link = f"https://rrc.example.test/requests/{mine.reference}"
    assert link in str(event["DESCRIPTION"])
    assert int(event["SEQUENCE"]) == confirmed.sequence


def test_moved_booking_keeps_uid_and_sequence_grows_cancel_shows_cancelled(
    client, factory, instrument
):
    partner = factory.partner()
    day = next_weekday()
    resource_request = make_request(partner, instrument)
    bookings.hold(resource_request, [(at(day, 10), at(day, 11))])
    db.session.commit()
    bookings.confirm(resource_request)
    db.session.commit()
    booking = db.session.scalar(select(Booking).where(Booking.request_id == resource_request.id))
    uid = f"booking-{booking.id}@rrc.ip-korea.org"
    login(client, partner.email)
    token = create_link(client, partner)

    before = events(client.get(f"/calendar/{token}.ics"))[uid]
    bookings.move(booking, at(day, 14), at(day, 15))
    db.session.commit()
    after = events(client.get(f"/calendar/{token}.ics"))[uid]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("DTSTART") == at(day, 14)

    bookings.release(resource_request, cancelled=True)
    db.session.commit()
    gone = events(client.get(f"/calendar/{token}.ics"))
    assert list(gone) == [uid]
    assert str(gone[uid]["STATUS"]) == "CANCELLED"
    assert int(gone[uid]["SEQUENCE"]) > int(after["SEQUENCE"])


def test_wrong_or_regenerated_token_is_404(client, factory, instrument):
    partner = factory.partner()
    other = factory.partner()
    add_booking(make_request(other, instrument), at(next_weekday(), 10))
    assert client.get("/calendar/no-such-token.ics").status_code == 404

    login(client, partner.email)
    old_token = create_link(client, partner)
    assert client.get(f"/calendar/{old_token}.ics").status_code == 200
    # Another user's feed is not reachable with this user's token, nor with a guess.
    assert client.get(f"/calendar/{old_token}x.ics").status_code == 404

    response = post_form(client, "/account/profile", {}, action="/calendar/link/regenerate")
    assert response.status_code == 302
    db.session.expire_all()
    new_token = partner.calendar_token
    assert new_token and new_token != old_token
    assert client.get(f"/calendar/{old_token}.ics").status_code == 404
    assert client.get(f"/calendar/{new_token}.ics").status_code == 200
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.actor_id == partner.id).order_by(AuditLog.id)
    ).all()
    assert "calendar.link_created" in actions and "calendar.link_regenerated" in actions

    # A suspended account's feed stops.
    partner.status = "suspended"
    db.session.commit()
    assert client.get(f"/calendar/{new_token}.ics").status_code == 404


def test_profile_shows_absolute_link_and_link_changes_need_csrf(client, factory):
    partner = factory.partner()
    login(client, partner.email)
    page = client.get("/account/profile").get_data(as_text=True)
    assert "Create my calendar link" in page
    assert client.post("/calendar/link").status_code == 400  # no CSRF token
    db.session.expire_all()
    assert partner.calendar_token is None
    assert client.get("/calendar/link").status_code == 405  # never a GET

    token = create_link(client, partner)
    page = client.get("/account/profile").get_data(as_text=True)
    assert f"https://rrc.example.test/calendar/{token}.ics" in page
    assert "Regenerate my calendar link" in page


def test_resource_feed_needs_staff_and_shows_request_details(app, client, factory, instrument):
    partner = factory.partner()
    day = next_weekday()
    resource_request = make_request(partner, instrument)
    active = add_booking(resource_request, at(day, 10), status=BookingStatus.HELD)
    confirmed = add_booking(resource_request, at(day, 12))
    add_booking(resource_request, at(day, 15), status=BookingStatus.COMPLETED)
    url = "/calendar/resource/INS-CAL-01.ics"

    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, partner.email)
    assert client.get(url).status_code == 403

    staff_client = app.test_client()
    staff = factory.staff(name="Any Staff")
    login(staff_client, staff.email)
    found = events(staff_client.get(url))
    assert set(found) == {
        f"booking-{active.id}@rrc.ip-korea.org",
        f"booking-{confirmed.id}@rrc.ip-korea.org",
    }
    summary = str(found[f"booking-{confirmed.id}@rrc.ip-korea.org"]["SUMMARY"])
    assert resource_request.reference in summary
    assert partner.organisation.name in summary
    assert staff_client.get("/calendar/resource/NOPE-01.ics").status_code == 404


def test_request_ics_confirmed_only_and_scoped(app, client, factory, instrument):
    partner = factory.partner()
    day = next_weekday()
    resource_request = make_request(partner, instrument)
    confirmed = add_booking(resource_request, at(day, 10))
    add_booking(resource_request, at(day, 12), status=BookingStatus.HELD)
    add_booking(resource_request, at(day, 14), status=BookingStatus.CANCELLED)
    url = f"/calendar/request/{resource_request.reference}.ics"

    login(client, partner.email)
    response = client.get(url)
    assert "attachment" in response.headers["Content-Disposition"]
    assert set(events(response)) == {f"booking-{confirmed.id}@rrc.ip-korea.org"}

    # A partner of another organisation (even its manager) gets 404.
    outsider_client = app.test_client()
    login(outsider_client, factory.partner(is_org_manager=True).email)
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.get("/calendar/request/RRC-0000-99999.ics").status_code == 404

    # The requester's organisation manager may see it.
    manager_client = app.test_client()
    manager = factory.partner(organisation=partner.organisation, is_org_manager=True)
    login(manager_client, manager.email)
    assert set(events(manager_client.get(url))) == {f"booking-{confirmed.id}@rrc.ip-korea.org"}


def test_resource_subscription_url_works_without_login_for_staff_tokens_only(
    app, client, factory, instrument
):
    partner = factory.partner()
    day = next_weekday()
    resource_request = make_request(partner, instrument)
    held = add_booking(resource_request, at(day, 10), status=BookingStatus.HELD)
    confirmed = add_booking(resource_request, at(day, 12))
    cancelled = add_booking(resource_request, at(day, 14), status=BookingStatus.CANCELLED)
    other_resource = factory.resource(facility=instrument.facility)
    add_booking(make_request(partner, other_resource), at(day, 10))

    manager = factory.facility_manager(instrument.facility)
    login(client, manager.email)
    # Before the personal link exists, the staff pages say how to get one.
    week = client.get(f"/bookings/{instrument.code}/week").get_data(as_text=True)
    assert 'id="resource-feed"' in week and "first create your personal calendar link" in week
    token = create_link(client, manager)
    subscription = f"/calendar/{token}/resources/INS-CAL-01.ics"
    for page_url in (
        f"/bookings/{instrument.code}/week",
        "/staff/bookings/resources/INS-CAL-01/month",
    ):
        page = client.get(page_url).get_data(as_text=True)
        assert f'value="https://rrc.example.test{subscription}"' in page, page_url
        assert "regenerating that link on your profile page stops this address" in page

    anonymous = app.test_client()
    found = events(anonymous.get(subscription))
    uids = {booking: f"booking-{booking.id}@rrc.ip-korea.org" for booking in (held, confirmed)}
    assert set(found) == {*uids.values(), f"booking-{cancelled.id}@rrc.ip-korea.org"}
    assert str(found[uids[held]]["STATUS"]) == "TENTATIVE"
    assert str(found[f"booking-{cancelled.id}@rrc.ip-korea.org"]["STATUS"]) == "CANCELLED"
    event = found[uids[confirmed]]
    assert event.decoded("DTSTART") == at(day, 12)
    assert resource_request.reference in str(event["SUMMARY"])
    assert partner.organisation.name in str(event["SUMMARY"])
    response = anonymous.get(subscription)
    assert response.headers["Cache-Control"] == "private, no-store"

    # Wrong token, unknown resource: 404.
    assert anonymous.get(f"/calendar/{token}x/resources/INS-CAL-01.ics").status_code == 404
    assert anonymous.get(f"/calendar/{token}/resources/NOPE-01.ics").status_code == 404
    # A partner's personal token opens their own feed, never a resource feed.
    partner_client = app.test_client()
    login(partner_client, partner.email)
    partner_token = create_link(partner_client, partner)
    assert anonymous.get(f"/calendar/{partner_token}.ics").status_code == 200
    assert anonymous.get(f"/calendar/{partner_token}/resources/INS-CAL-01.ics").status_code == 404
    partner_page = partner_client.get(f"/bookings/{instrument.code}/week").get_data(as_text=True)
    assert (
        "/resources/INS-CAL-01.ics" not in partner_page and 'id="resource-feed"' not in partner_page
    )

    # Regenerating the personal link revokes the resource URL built on it.
    response = post_form(client, "/account/profile", {}, action="/calendar/link/regenerate")
    assert response.status_code == 302
    db.session.expire_all()
    new_token = manager.calendar_token
    assert anonymous.get(subscription).status_code == 404
    assert anonymous.get(f"/calendar/{new_token}/resources/INS-CAL-01.ics").status_code == 200
    # A staff account that is suspended stops too.
    manager.status = "suspended"
    db.session.commit()
    assert anonymous.get(f"/calendar/{new_token}/resources/INS-CAL-01.ics").status_code == 404
