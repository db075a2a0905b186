"""The staff month overview of a slot resource: bookings and closures day by day."""

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from rrc.extensions import db
from rrc.models import Booking, BookingStatus, Closure, ResourceRequest
from rrc.models.types import utcnow
from rrc.requests import services as requests
from tests.conftest import COMMON, count_queries, login

SEOUL = ZoneInfo("Asia/Seoul")
PARIS = ZoneInfo("Europe/Paris")
XSS = "<script>alert(1)</script>"
# A month far enough ahead that nothing else in the suite touches it (rows are written directly).
DECEMBER = date(2030, 12, 1)


def span(start: str, end: str) -> str:
    """A time range as the overview writes it (with an en dash)."""
    return f"{start}\N{EN DASH}{end}"


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SEOUL) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


@pytest.fixture
def setting(factory):
    """A Seoul facility with a slot instrument, its manager and staff of every kind."""
    facility = factory.facility(code="FAC-MON", timezone="Asia/Seoul")
    instrument = factory.resource(facility=facility, code="INS-MON-01", name="Plate reader")
    return {
        "facility": facility,
        "instrument": instrument,
        "manager": factory.facility_manager(facility, name="Manager Person"),
        "other_manager": factory.facility_manager(factory.facility(), name="Other Manager"),
        "coordinator": factory.coordinator(),
        "admin": factory.admin(),
        "partner": factory.partner(name="Partner Person"),
    }


def make_request(partner, resource) -> ResourceRequest:
    draft = requests.create_draft(partner, resource, dict(COMMON))
    db.session.commit()
    return draft


def add_booking(resource_request, start, end, status=BookingStatus.CONFIRMED) -> Booking:
    booking = Booking(
        resource=resource_request.resource,
        resource_request=resource_request,
        starts_at=start,
        ends_at=end,
        status=status,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def url(code: str, month: str | None = None) -> str:
    base = f"/staff/bookings/resources/{code}/month"
    return f"{base}?month={month}" if month is not None else base


def day_cell(page: str, day: date) -> str:
    """The HTML of one day's cell."""
    match = re.search(rf'<td [^>]*id="day-{day.isoformat()}"[^>]*>(.*?)</td>', page, re.S)
    assert match, f"no cell for {day}"
    return match.group(1)


def test_days_list_bookings_with_status_and_request_link_and_closures(client, factory, setting):
    instrument = setting["instrument"]
    partner = setting["partner"]
    first = make_request(partner, instrument)
    second = make_request(factory.partner(), instrument)
    tuesday = date(2030, 12, 3)
    add_booking(first, at(tuesday, 10), at(tuesday, 11), BookingStatus.HELD)
    add_booking(second, at(tuesday, 13), at(tuesday, 15, 30))
    add_booking(first, at(date(2030, 12, 2), 9), at(date(2030, 12, 2), 10), "completed")
    add_booking(second, at(date(2030, 12, 4), 9), at(date(2030, 12, 4), 10), "no_show")
    # Cancelled and released bookings are not listed.
    cancelled = make_request(factory.partner(), instrument)
    add_booking(cancelled, at(tuesday, 16), at(tuesday, 17), BookingStatus.CANCELLED)
    released = make_request(factory.partner(), instrument)
    add_booking(released, at(tuesday, 17), at(tuesday, 18), BookingStatus.RELEASED)
    # Another resource's booking is not listed.
    other = make_request(factory.partner(), factory.resource(facility=setting["facility"]))
    add_booking(other, at(tuesday, 9), at(tuesday, 10))
    # A booking from New Year's Eve into January shows on the 31st only, up to midnight.
    new_year = make_request(factory.partner(), instrument)
    add_booking(new_year, at(date(2030, 12, 31), 22), at(date(2031, 1, 1), 2))
    # November's last hour stays out.
    add_booking(
        make_request(factory.partner(), instrument),
        at(date(2030, 11, 30), 23),
        at(date(2030, 12, 1), 0),
    )
    db.session.add_all(
        [
            Closure(
                resource_id=instrument.id,
                starts_at=at(tuesday, 18),
                ends_at=at(tuesday, 20),
                reason="Laser alignment",
            ),
            Closure(
                facility_id=setting["facility"].id,
                starts_at=at(date(2030, 12, 24), 0),
                ends_at=at(date(2030, 12, 26), 12),
                reason="Christmas",
            ),
        ]
    )
    db.session.commit()

    login(client, setting["manager"].email)
    response = client.get(url("INS-MON-01", "2030-12"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<caption>" in page and "December 2030" in page and "Asia/Seoul" in page
    assert re.findall(r'<th scope="col">(\w+)</th>', page) == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    # 1 December 2030 is a Sunday: six weeks from Monday 25 November to Sunday 5 January.
    assert page.count('<th scope="row"') == 6
    assert 'id="day-2030-11-30"' not in page and 'id="day-2031-01-01"' not in page

    cell = day_cell(page, tuesday)
    assert span("10:00", "11:00") in cell and "Held (under review)" in cell
    assert f'<a href="/requests/{first.reference}">{first.reference}</a>' in cell
    assert span("13:00", "15:30") in cell and "Confirmed" in cell
    assert f'href="/requests/{second.reference}"' in cell
    assert partner.organisation.name in cell
    assert (
        cell.index(span("10:00", "11:00"))
        < cell.index(span("13:00", "15:30"))
        < cell.index(span("18:00", "20:00"))
    )
    assert "Laser alignment" in cell and "whole facility" not in cell
    for hidden in (cancelled, released, other):
        assert hidden.reference not in page
    assert "Completed" in day_cell(page, date(2030, 12, 2))
    assert "No-show" in day_cell(page, date(2030, 12, 4))
    assert span("22:00", "24:00") in day_cell(page, date(2030, 12, 31))
    assert new_year.reference in day_cell(page, date(2030, 12, 31))
    assert "23:00" not in day_cell(page, date(2030, 12, 1))
    # The facility's closure: two whole days, then the morning of the third.
    for day in (24, 25):
        christmas = day_cell(page, date(2030, 12, day))
        assert "Christmas" in christmas and "all day" in christmas and "whole facility" in christmas
    assert span("00:00", "12:00") in day_cell(page, date(2030, 12, 26))
    assert day_cell(page, date(2030, 12, 27)).count("<li") == 0

    # Navigation: previous and next month, by links; each week leads to its week view.
    assert f'href="{url("INS-MON-01", "2030-11")}"' in page
    assert f'href="{url("INS-MON-01", "2031-01")}"' in page
    assert 'rel="prev"' in page and 'rel="next"' in page
    assert 'href="/bookings/INS-MON-01/week?start=2030-11-25"' in page
    assert 'name="month" value="2030-12"' in page  # the jump form, a plain GET


def test_the_month_is_the_facility_s_and_defaults_to_this_month(client, factory):
    facility = factory.facility(timezone="Europe/Paris")
    resource = factory.resource(facility=facility, code="INS-PAR-01")
    resource_request = make_request(factory.partner(), resource)
    # 23:30 UTC on 2 December is 00:30 on 3 December in Paris.
    add_booking(
        resource_request,
        datetime(2030, 12, 2, 23, 30, tzinfo=UTC),
        datetime(2030, 12, 3, 1, 30, tzinfo=UTC),
    )
    login(client, factory.coordinator().email)
    page = client.get(url("INS-PAR-01", "2030-12")).get_data(as_text=True)
    assert "Europe/Paris" in page
    assert span("00:30", "02:30") in day_cell(page, date(2030, 12, 3))
    assert resource_request.reference not in day_cell(page, date(2030, 12, 2))

    today = utcnow().astimezone(PARIS).date()
    page = client.get(url("INS-PAR-01")).get_data(as_text=True)
    assert f'name="month" value="{today:%Y-%m}"' in page
    assert re.search(rf'id="day-{today.isoformat()}"[^>]*aria-current="date"', page)


def test_only_the_facility_s_managers_coordinators_and_admins(app, client, factory, setting):
    target = url("INS-MON-01", "2030-12")
    response = client.get(target)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for user, status in (
        (setting["partner"], 403),
        (factory.staff(), 403),
        (factory.staff(is_biosafety_officer=True), 403),
        (setting["other_manager"], 404),
        (setting["manager"], 200),
        (setting["coordinator"], 200),
        (setting["admin"], 200),
    ):
        user_client = app.test_client()
        login(user_client, user.email)
        assert user_client.get(target).status_code == status, user.email
    login(client, setting["coordinator"].email)
    assert client.get(url("NO-SUCH-01")).status_code == 404
    quantity = factory.resource(booking_mode="quantity", unit_label="vial", code="MAT-MON-01")
    assert client.get(url(quantity.code)).status_code == 404


@pytest.mark.parametrize(
    "value",
    [
        "nonsense",
        "2030-13",
        "2030-00",
        "2030-1",
        "2030-12-01",
        "0001-01",
        "0000-01",
        "1899-12",
        "3000-01",
        "9999-12",
        "-2030-12",
        "\uff12\uff10\uff13\uff10-\uff11\uff12",  # full-width digits
        "2030-12" * 200,
    ],
)
def test_bad_or_extreme_months_are_400(client, setting, value):
    login(client, setting["manager"].email)
    assert client.get(url("INS-MON-01", value)).status_code == 400


def test_the_first_and_last_months_have_no_link_beyond(client, setting):
    login(client, setting["manager"].email)
    first = client.get(url("INS-MON-01", "1900-01"))
    assert first.status_code == 200
    assert 'rel="prev"' not in first.get_data(as_text=True)
    assert 'rel="next"' in first.get_data(as_text=True)
    last = client.get(url("INS-MON-01", "2999-12"))
    assert last.status_code == 200
    assert 'rel="next"' not in last.get_data(as_text=True)


def test_query_count_does_not_grow_with_the_bookings_shown(client, factory, setting):
    instrument = setting["instrument"]
    target = url(instrument.code, "2030-12")
    login(client, setting["manager"].email)
    client.get(target)  # warm up
    counts = [count_queries(client, target)]
    resource_request = make_request(factory.partner(), instrument)
    add_booking(resource_request, at(date(2030, 12, 2), 9), at(date(2030, 12, 2), 10))
    counts.append(count_queries(client, target))
    for number in range(29):
        day = date(2030, 12, 3 + number % 20)
        hour = 10 + number // 20
        other = make_request(factory.partner(), instrument)
        add_booking(other, at(day, hour), at(day, hour + 1), BookingStatus.HELD)
    db.session.add(
        Closure(
            resource_id=instrument.id,
            starts_at=at(date(2030, 12, 29), 0),
            ends_at=at(date(2030, 12, 31), 0),
            reason="Service",
        )
    )
    db.session.commit()
    page = client.get(target).get_data(as_text=True)
    assert page.count('class="mb-1 booking-entry"') == 30
    counts.append(count_queries(client, target))
    assert counts[0] == counts[1] == counts[2], counts


def test_korean_month_and_names_are_escaped(client, factory):
    facility = factory.facility(name=XSS, timezone="Asia/Seoul")
    resource = factory.resource(facility=facility, name=XSS, code="INS-XSS-01")
    organisation = factory.organisation(name=XSS)
    resource_request = make_request(factory.partner(organisation=organisation), resource)
    add_booking(resource_request, at(date(2030, 12, 3), 10), at(date(2030, 12, 3), 11))
    db.session.add(
        Closure(
            resource_id=resource.id,
            starts_at=at(date(2030, 12, 4), 10),
            ends_at=at(date(2030, 12, 4), 11),
            reason=XSS,
        )
    )
    db.session.commit()
    login(client, factory.coordinator(locale="ko").email)
    page = client.get(url("INS-XSS-01", "2030-12")).get_data(as_text=True)
    assert XSS not in page and "&lt;script&gt;" in page
    assert "2030년 12월" in page
    assert '<th scope="col">월요일</th>' in page


def test_staff_pages_link_the_month_overview(app, client, factory, setting):
    instrument = setting["instrument"]
    login(client, setting["manager"].email)
    week = client.get(f"/bookings/{instrument.code}/week").get_data(as_text=True)
    assert f"/staff/bookings/resources/{instrument.code}/month?month=" in week
    edit = client.get(f"/staff/catalogue/resources/{instrument.id}").get_data(as_text=True)
    assert f'href="/staff/bookings/resources/{instrument.code}/month"' in edit
    # Nobody else is shown the link.
    for user in (setting["other_manager"], setting["partner"], factory.staff()):
        other_client = app.test_client()
        login(other_client, user.email)
        page = other_client.get(f"/bookings/{instrument.code}/week").get_data(as_text=True)
        assert "/month" not in page, user.email
