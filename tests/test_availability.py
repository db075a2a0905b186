"""The week view of slot resources and the request form's slot picker."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from rrc.bookings import availability
from rrc.bookings import services as bookings
from rrc.extensions import db
from rrc.models import Booking, BookingStatus, Closure, RequestStatus, ResourceRequest
from rrc.models.types import utcnow
from rrc.requests import services as requests
from tests.conftest import COMMON, count_queries, login, post_form

SEOUL = ZoneInfo("Asia/Seoul")
PARIS = ZoneInfo("Europe/Paris")
XSS = "<script>alert(1)</script>"


def monday_in(weeks: int, zone: ZoneInfo = SEOUL) -> date:
    """The Monday ``weeks`` weeks after this one (in ``zone``)."""
    today = utcnow().astimezone(zone).date()
    return today - timedelta(days=today.weekday()) + timedelta(days=7 * weeks)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SEOUL) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def cell_at(week: availability.Week, day: date, hour: int, minute: int = 0):
    column = week.days.index(day)
    row = next(row for row in week.rows if row.time == time(hour, minute))
    return row.cells[column]


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
        approval_chain=["coordinator"],
    )


def make_request(factory, resource, partner=None) -> ResourceRequest:
    partner = partner or factory.partner()
    draft = requests.create_draft(partner, resource, dict(COMMON))
    db.session.commit()
    return draft


def held(factory, resource, start, end, *, confirm=False) -> ResourceRequest:
    resource_request = make_request(factory, resource)
    bookings.hold(resource_request, [(start, end)])
    if confirm:
        bookings.confirm(resource_request)
    db.session.commit()
    return resource_request


def test_cells_say_free_held_booked_closed_outside_and_too_soon(factory, instrument):
    monday = monday_in(2)
    tuesday = monday + timedelta(days=1)
    holder = held(factory, instrument, at(monday, 10), at(monday, 11))
    held(factory, instrument, at(tuesday, 10), at(tuesday, 11), confirm=True)
    db.session.add(
        Closure(
            resource_id=instrument.id,
            starts_at=at(tuesday, 14),
            ends_at=at(tuesday, 16),
            reason="Service",
        )
    )
    db.session.commit()
    coordinator = factory.coordinator()
    week = availability.week(instrument, monday + timedelta(days=3), coordinator)
    assert week.start == monday and len(week.days) == 7
    assert week.rows[0].time == time(9) and week.rows[-1].time == time(17, 30)
    assert cell_at(week, monday, 9).state == availability.CellState.FREE
    assert cell_at(week, monday, 10).state == availability.CellState.HELD
    assert cell_at(week, monday, 10, 30).reference == holder.reference  # staff see who
    assert cell_at(week, monday, 11).state == availability.CellState.FREE  # half-open
    assert cell_at(week, tuesday, 10).state == availability.CellState.BOOKED
    assert cell_at(week, tuesday, 15).state == availability.CellState.CLOSED
    assert cell_at(week, monday + timedelta(days=5), 10).state == availability.CellState.OUTSIDE
    partner_week = availability.week(instrument, monday, factory.partner())
    assert cell_at(partner_week, monday, 10).reference is None
    # Within the minimum notice: this week's cells from now to now + 24 h.
    now = at(monday, 8)
    soon = availability.week(instrument, monday, None, now=now)
    assert cell_at(soon, monday, 9).state == availability.CellState.TOO_SOON
    assert cell_at(soon, tuesday, 9).state == availability.CellState.FREE
    assert cell_at(soon, tuesday, 10).state == availability.CellState.BOOKED


def test_week_page_shows_busy_never_who(factory, instrument, client):
    monday = monday_in(2)
    holder = held(factory, instrument, at(monday, 10), at(monday, 11), confirm=True)
    partner = factory.partner()
    login(client, partner.email)
    response = client.get(f"/bookings/{instrument.code}/week?start={monday.isoformat()}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<caption>" in page and 'scope="col"' in page and 'scope="row"' in page
    assert "Booked" in page and "Free" in page and "Outside opening hours" in page
    assert holder.reference not in page
    assert holder.requester.name not in page
    assert holder.organisation.name not in page
    assert 'name="slot"' not in page  # the public view is not a form


def test_staff_see_the_reference(factory, instrument, client):
    monday = monday_in(2)
    holder = held(factory, instrument, at(monday, 10), at(monday, 11))
    login(client, factory.coordinator().email)
    page = client.get(f"/bookings/{instrument.code}/week?start={monday}").get_data(as_text=True)
    assert holder.reference in page and "Held" in page


def test_week_navigation_and_bad_input(factory, instrument, client):
    monday = monday_in(3)
    page = client.get(
        f"/bookings/{instrument.code}/week?start={(monday + timedelta(days=2)).isoformat()}"
    ).get_data(as_text=True)
    assert f"start={(monday - timedelta(days=7)).isoformat()}" in page
    assert f"start={(monday + timedelta(days=7)).isoformat()}" in page
    assert f"from {monday.isoformat()} to {(monday + timedelta(days=6)).isoformat()}" in page
    assert client.get(f"/bookings/{instrument.code}/week?start=nonsense").status_code == 400
    assert client.get("/bookings/NO-SUCH/week").status_code == 404
    assert client.get(f"/bookings/{instrument.code}/week").status_code == 200
    quantity = factory.resource(booking_mode="quantity", unit_label="vial")
    assert client.get(f"/bookings/{quantity.code}/week").status_code == 404
    catalogue = client.get(f"/catalogue/{instrument.code}").get_data(as_text=True)
    assert f"/bookings/{instrument.code}/week" in catalogue and "See availability" in catalogue


def test_week_view_query_count_is_constant(factory, instrument, client):
    monday = monday_in(2)
    url = f"/bookings/{instrument.code}/week?start={monday.isoformat()}"
    client.get(url)  # warm up
    counts = [count_queries(client, url)]
    held(factory, instrument, at(monday, 9), at(monday, 10))
    counts.append(count_queries(client, url))
    for number in range(29):
        day = monday + timedelta(days=number % 5)
        hour = 10 + number // 5
        held(factory, instrument, at(day, hour), at(day, hour + 1))
    assert db.session.scalar(select(func.count(Booking.id))) == 30
    counts.append(count_queries(client, url))
    assert counts[0] == counts[1] == counts[2], counts


@pytest.mark.parametrize("month", [3, 10])
def test_daylight_saving_weeks_keep_wall_clock_rows(factory, month):
    facility = factory.facility(
        timezone="Europe/Paris",
        opening_hours={str(day): ["01:00", "05:00"] for day in range(1, 8)},
    )
    resource = factory.resource(
        facility=facility, min_notice_hours=0, max_advance_days=10000, slot_granularity_minutes=60
    )
    year = utcnow().year + 1
    last_sunday = date(year, month, 31)
    while last_sunday.isoweekday() != 7:
        last_sunday -= timedelta(days=1)
    week = availability.week(resource, last_sunday, None, now=datetime(year, 1, 1, tzinfo=UTC))
    assert [row.time for row in week.rows] == [time(1), time(2), time(3), time(4)]
    saturday = last_sunday - timedelta(days=1)
    # Before the change, 03:00 Paris is 02:00 UTC (March) or 01:00 UTC (October).
    before = cell_at(week, saturday, 3)
    after = cell_at(week, last_sunday, 3)
    assert before.local_start.hour == after.local_start.hour == 3
    if month == 3:
        assert before.start.hour == 2 and after.start.hour == 1  # CET → CEST
        # 02:00 does not exist on that Sunday: it cannot be booked.
        assert cell_at(week, last_sunday, 2).state == availability.CellState.OUTSIDE
        assert cell_at(week, last_sunday, 1).state == availability.CellState.FREE
    else:
        assert before.start.hour == 1 and after.start.hour == 2  # CEST → CET
        assert cell_at(week, last_sunday, 2).state == availability.CellState.FREE
    assert all(
        cell.end - cell.start == timedelta(hours=1) for row in week.rows for cell in row.cells
    )
    # The cell keys are UTC starts that pass the booking rules.
    for row in week.rows:
        for cell in row.cells:
            if cell.state == availability.CellState.FREE:
                bookings.check_rules(
                    resource, cell.start, cell.end, datetime(year, 1, 1, tzinfo=UTC)
                )


# --- the slot picker in the request form ------------------------------------------------------

SEND = {"send": "Submit for review"}
SAVE = {"save_draft": "Save draft"}


@pytest.fixture
def bench(factory):
    """A slot resource without hazard blocks, reviewed by the coordinator."""
    return factory.resource(
        name="Confocal microscope",
        biosafety_level=1,
        slot_granularity_minutes=30,
        min_duration_minutes=60,
        max_duration_minutes=240,
        min_notice_hours=24,
        max_advance_days=60,
        approval_chain=["coordinator"],
    )


def form_data(**extra) -> dict:
    data = {key: value for key, value in COMMON.items() if key != "accept_terms"}
    return {**data, "accept_terms": "y", "usage_mode": "self_use", **extra}


def cells(day: date, *times: tuple[int, int]) -> list[str]:
    return [at(day, hour, minute).isoformat() for hour, minute in times]


def the_request(reference: str | None = None) -> ResourceRequest:
    db.session.expire_all()
    statement = select(ResourceRequest).order_by(ResourceRequest.id)
    if reference:
        statement = statement.where(ResourceRequest.reference == reference)
    return db.session.scalar(statement)


def test_picking_two_sessions_and_submitting_holds_two_bookings(factory, bench, client):
    partner = factory.partner()
    login(client, partner.email)
    monday = monday_in(2)
    tuesday, wednesday = monday + timedelta(days=1), monday + timedelta(days=2)
    url = f"/requests/new/{bench.code}?week={monday.isoformat()}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="slot"' in page and f'value="{at(tuesday, 10).isoformat()}"' in page
    picked = cells(tuesday, (10, 0), (10, 30)) + cells(wednesday, (14, 0), (14, 30), (15, 0))
    response = post_form(client, url, form_data(slot=picked, week=monday.isoformat(), **SEND))
    assert response.status_code == 302, response.get_data(as_text=True)
    resource_request = the_request()
    assert resource_request.status == RequestStatus.IN_REVIEW
    assert resource_request.requested_minutes == 150
    assert resource_request.estimate_snapshot["quantity"] == 3  # 1 h + 1 h 30 (2 started)
    held_bookings = db.session.scalars(select(Booking).order_by(Booking.starts_at)).all()
    assert [(b.starts_at, b.ends_at, b.status) for b in held_bookings] == [
        (at(tuesday, 10), at(tuesday, 11), BookingStatus.HELD),
        (at(wednesday, 14), at(wednesday, 15, 30), BookingStatus.HELD),
    ]
    client.get(response.headers["Location"])  # shows the flash message naming the reference
    # The public week now shows them held, never by whom.
    week_page = client.get(f"/bookings/{bench.code}/week?start={monday}").get_data(as_text=True)
    assert "Held" in week_page and resource_request.reference not in week_page


def test_a_rule_violation_is_shown_beside_the_picker_and_nothing_is_saved(factory, bench, client):
    partner = factory.partner()
    login(client, partner.email)
    monday = monday_in(2)
    tuesday = monday + timedelta(days=1)
    url = f"/requests/new/{bench.code}?week={monday.isoformat()}"
    lonely = cells(tuesday, (10, 0))
    response = post_form(client, url, form_data(slot=lonely, week=monday.isoformat(), **SEND))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="slot-error"' in page and "Sessions last at least 60 minutes" in page
    assert f'value="{lonely[0]}" id=' in page and "checked" in page  # the input is kept
    resource_request = the_request()
    assert resource_request.status == RequestStatus.DRAFT
    assert resource_request.requested_slots == []
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_week_navigation_keeps_the_picks_and_sessions_can_be_removed(factory, bench, client):
    partner = factory.partner()
    login(client, partner.email)
    first = monday_in(2)
    second = first + timedelta(days=7)
    url = f"/requests/new/{bench.code}?week={first.isoformat()}"
    response = post_form(
        client,
        url,
        form_data(
            slot=cells(first, (9, 0), (9, 30)),
            week=first.isoformat(),
            show_week=second.isoformat(),
            title="Looking around",
        ),
    )
    # Looking at another week of a new request creates no draft: the page carries everything.
    assert response.status_code == 200
    assert the_request() is None
    page = response.get_data(as_text=True)
    assert f'name="week" value="{second.isoformat()}"' in page
    kept = f"{at(first, 9).isoformat()}|{at(first, 10).isoformat()}"
    assert f'name="session" value="{kept}"' in page
    assert 'name="remove_session"' in page and "09:00 to 10:00" in page
    assert 'value="Looking around"' in page
    assert "nothing is saved until you save the draft or submit" in page
    assert "Please correct the fields marked below." not in page
    thursday = second + timedelta(days=3)
    # Removing a carried session does not create a draft either.
    response = post_form(
        client,
        url,
        form_data(session=[kept], week=second.isoformat(), remove_session=at(first, 9).isoformat()),
    )
    assert response.status_code == 200 and the_request() is None
    assert 'name="session"' not in response.get_data(as_text=True)
    # Saving from the second week keeps the carried session of the first.
    response = post_form(
        client,
        url,
        form_data(
            session=[kept],
            slot=cells(thursday, (16, 0), (16, 30), (17, 0)),
            week=second.isoformat(),
            **SAVE,
        ),
    )
    assert response.status_code == 302
    resource_request = the_request()
    assert response.headers["Location"] == (
        f"/requests/{resource_request.reference}/edit?week={second.isoformat()}"
    )
    assert db.session.scalar(select(func.count(ResourceRequest.id))) == 1
    assert resource_request.requested_minutes == 150
    edit_url = f"/requests/{resource_request.reference}/edit?week={second.isoformat()}"
    thursday = second + timedelta(days=3)
    # On a draft, changing the week saves the ticks of the week left.
    friday = second + timedelta(days=4)
    response = post_form(
        client,
        edit_url,
        form_data(
            slot=cells(thursday, (16, 0), (16, 30), (17, 0)) + cells(friday, (9, 0), (9, 30)),
            week=second.isoformat(),
            show_week=first.isoformat(),
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"edit?week={first.isoformat()}")
    assert len(the_request().requested_slots) == 3
    assert the_request().requested_minutes == 210
    response = post_form(
        client,
        edit_url,
        form_data(
            slot=cells(thursday, (16, 0), (16, 30), (17, 0)), week=second.isoformat(), **SAVE
        ),
    )
    assert response.status_code == 302
    assert len(the_request().requested_slots) == 2
    assert the_request().requested_minutes == 150
    # Back to the first week: its session is ticked; removing it keeps the other week's.
    first_url = f"/requests/{resource_request.reference}/edit?week={first.isoformat()}"
    page = client.get(first_url).get_data(as_text=True)
    assert re.search(rf'value="{re.escape(at(first, 9).isoformat())}" id="[^"]+" checked', page)
    response = post_form(
        client,
        first_url,
        form_data(
            slot=cells(first, (9, 0), (9, 30)),
            week=first.isoformat(),
            remove_session=at(first, 9).isoformat(),
        ),
    )
    assert response.status_code == 302
    assert the_request().requested_slots == [
        {"start": at(thursday, 16).isoformat(), "end": at(thursday, 17, 30).isoformat()}
    ]


def test_a_taken_slot_comes_back_with_suggestions(factory, bench, client):
    partner = factory.partner()
    login(client, partner.email)
    monday = monday_in(2)
    tuesday = monday + timedelta(days=1)
    url = f"/requests/new/{bench.code}?week={monday.isoformat()}"
    picked = cells(tuesday, (10, 0), (10, 30))
    response = post_form(client, url, form_data(slot=picked, week=monday.isoformat(), **SAVE))
    assert response.status_code == 302
    draft = the_request()
    held(factory, bench, at(tuesday, 10), at(tuesday, 11))  # someone else is quicker
    edit_url = f"/requests/{draft.reference}/edit?week={monday.isoformat()}"
    suggestion = f"{at(tuesday, 10).isoformat()}|{at(tuesday, 11).isoformat()}|"
    # Re-opening the draft says so at once, with the nearest free times; so does saving it.
    for response in (
        client.get(edit_url),
        client.get(f"/requests/{draft.reference}/edit"),  # opens on the session's week
        post_form(
            client,
            edit_url,
            form_data(slot=picked, week=monday.isoformat(), **SAVE),
            follow_redirects=True,
        ),
    ):
        page = response.get_data(as_text=True)
        assert 'id="session-problems"' in page and "is just taken or closed" in page
        assert f'name="pick_suggestion" value="{suggestion}' in page
        assert "No longer available" in page
    assert "can no longer be booked: see the free times suggested below" in page
    assert the_request(draft.reference).status == RequestStatus.DRAFT
    response = post_form(client, edit_url, form_data(slot=picked, week=monday.isoformat(), **SEND))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The only problem is the taken session: the page says that, not "complete the fields".
    assert "was just taken by someone else or closed" in page
    assert "Not submitted: complete the marked fields" not in page
    assert "Please correct the fields marked below." not in page
    assert 'id="slot-error"' not in page and 'id="session-problems"' in page
    assert f'name="pick_suggestion" value="{suggestion}' in page
    assert the_request(draft.reference).status == RequestStatus.DRAFT
    # The request page's own submit button says the same.
    detail = f"/requests/{draft.reference}"
    response = post_form(client, detail, {}, action=f"{detail}/submit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "was just taken by someone else or closed" in page
    assert "complete the marked fields" not in page and 'id="session-problems"' in page
    response = post_form(
        client,
        edit_url,
        form_data(
            slot=picked,
            week=monday.isoformat(),
            pick_suggestion=f"{suggestion}{at(tuesday, 12).isoformat()}",
        ),
    )
    assert response.status_code == 302
    assert the_request(draft.reference).requested_slots == [
        {"start": at(tuesday, 11).isoformat(), "end": at(tuesday, 12).isoformat()}
    ]
    response = post_form(
        client,
        edit_url,
        form_data(week=monday.isoformat(), slot=cells(tuesday, (11, 0), (11, 30)), **SEND),
    )
    assert response.status_code == 302
    assert the_request(draft.reference).status == RequestStatus.IN_REVIEW
    assert db.session.scalar(select(func.count(Booking.id))) == 2


def test_names_are_escaped(factory, client):
    facility = factory.facility(name=XSS)
    resource = factory.resource(facility=facility, name=XSS, biosafety_level=1)
    partner = factory.partner()
    week_page = client.get(f"/bookings/{resource.code}/week").get_data(as_text=True)
    assert XSS not in week_page and "&lt;script&gt;" in week_page
    login(client, partner.email)
    form_page = client.get(f"/requests/new/{resource.code}").get_data(as_text=True)
    assert 'name="slot"' in form_page
    assert XSS not in form_page
    response = post_form(
        client,
        f"/requests/new/{resource.code}",
        form_data(slot=[XSS], week="not-a-date", **SAVE),
    )
    assert response.status_code == 302  # no picker week: the picks are left alone
    response = post_form(
        client,
        f"/requests/new/{resource.code}",
        form_data(slot=[XSS], week=monday_in(2).isoformat(), **SAVE),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Choose sessions on the calendar." in page
    assert XSS not in page


def test_held_sessions_are_read_only_after_submission(factory, bench, client):
    partner = factory.partner()
    coordinator = factory.coordinator()
    login(client, partner.email)
    monday = monday_in(2)
    tuesday = monday + timedelta(days=1)
    url = f"/requests/new/{bench.code}?week={monday.isoformat()}"
    picked = cells(tuesday, (10, 0), (10, 30))
    response = post_form(client, url, form_data(slot=picked, week=monday.isoformat(), **SEND))
    assert response.status_code == 302
    resource_request = the_request()
    requests.request_changes(
        coordinator, resource_request, resource_request.current_step.id, "Add the PI's phone."
    )
    db.session.commit()
    edit_url = f"/requests/{resource_request.reference}/edit?week={monday.isoformat()}"
    page = client.get(edit_url).get_data(as_text=True)
    assert "held for your request" in page and 'name="slot"' not in page
    # Ticks posted anyway change nothing; the service refuses a change outright.
    other = cells(tuesday, (14, 0), (14, 30))
    response = post_form(client, edit_url, form_data(slot=other, week=monday.isoformat(), **SAVE))
    assert response.status_code == 302
    assert requests.requested_sessions(the_request()) == [(at(tuesday, 10), at(tuesday, 11))]
    with pytest.raises(requests.RequestError):
        availability.choose_sessions(partner, the_request(), [(at(tuesday, 14), at(tuesday, 15))])


def test_the_first_bookable_week_skips_a_closed_weekend(factory, instrument):
    friday_noon = at(monday_in(2) + timedelta(days=4), 12)
    assert availability.first_bookable_week(instrument, friday_noon) == monday_in(3)
    assert availability.first_bookable_week(instrument, friday_noon - timedelta(days=3)) == (
        monday_in(2)
    )


def test_day_labels_follow_each_language_order(app, factory, bench, client):
    from flask_babel import force_locale

    tuesday = date(2026, 12, 1)
    with app.test_request_context():
        with force_locale("ko"):
            assert availability.day_label(tuesday) == "12월 1일 (화)"
            assert availability.long_day_label(tuesday) == "2026년 12월 1일 (화)"
        with force_locale("en"):
            assert availability.day_label(tuesday) == "Tue, Dec 1"
            assert availability.long_day_label(tuesday) == "Tue, Dec 1, 2026"
    # The week grid and the picker's chosen sessions, for a Korean reader.
    partner = factory.partner(locale="ko")
    login(client, partner.email)
    monday = monday_in(2)
    day = monday + timedelta(days=1)
    week_page = client.get(f"/bookings/{bench.code}/week?start={monday}").get_data(as_text=True)
    assert f"{day.month}월 {day.day}일 (화)</th>" in week_page
    assert f"화, {day.month}월 {day.day}<" not in week_page
    url = f"/requests/new/{bench.code}?week={monday.isoformat()}"
    picked = cells(day, (10, 0), (10, 30))
    response = post_form(client, url, form_data(slot=picked, week=monday.isoformat(), **SAVE))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{day.year}년 {day.month}월 {day.day}일 (화)" in page


def test_staff_week_links_each_booking_once_and_offers_no_request_button(
    app, factory, instrument, client
):
    monday = monday_in(2)
    holder = held(factory, instrument, at(monday, 10), at(monday, 11, 30))
    other = held(factory, instrument, at(monday, 11, 30), at(monday, 12, 30), confirm=True)
    url = f"/bookings/{instrument.code}/week?start={monday}"
    login(client, factory.coordinator().email)
    page = client.get(url).get_data(as_text=True)
    # One link per booking (in its first cell); the following cells name it as text.
    assert page.count(f'href="/requests/{holder.reference}"') == 1
    assert page.count(f'href="/requests/{other.reference}"') == 1
    assert page.count(f">{holder.reference}<") == 3
    assert "the request holding each taken time" in page and "never by whom" not in page
    assert "Request this" not in page
    week = availability.week(instrument, monday, factory.coordinator())
    assert not cell_at(week, monday, 10).continues and cell_at(week, monday, 10, 30).continues
    assert not cell_at(week, monday, 11, 30).continues  # the next booking starts
    # Partners and visitors: no names, no links, and the way to request.
    partner_client = app.test_client()
    login(partner_client, factory.partner().email)
    for viewer in (partner_client, app.test_client()):
        page = viewer.get(url).get_data(as_text=True)
        assert "never by whom" in page and "Request this" in page
        assert holder.reference not in page and "/requests/RRC-" not in page


# --- the reviewer's walk through the partner's form -----------------------------------------

EXTREME_DAYS = ("0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01")


@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_extreme_dates_are_a_bad_request_or_ignored_never_a_500(factory, bench, client, day):
    partner = factory.partner()
    # The week view: 400, like a malformed date.
    assert client.get(f"/bookings/{bench.code}/week?start={day}").status_code == 400
    login(client, partner.email)
    default = f'name="week" value="{availability.first_bookable_week(bench).isoformat()}"'
    # The form falls back to the first bookable week, as it does for garbage.
    page = client.get(f"/requests/new/{bench.code}?week={day}").get_data(as_text=True)
    assert default in page
    url = f"/requests/new/{bench.code}"
    monday = monday_in(2).isoformat()
    low, high = f"{day}T00:00:00+09:00", f"{day}T23:30:00-09:00"
    for posted in (
        {"show_week": day, "week": monday},
        {"show_week": monday, "week": day},
        {"slot": [low], "week": monday, "show_week": monday},
        {"slot": [high], "week": monday, "show_week": monday},
        {"session": [f"{low}|{high}"], "week": monday, "show_week": monday},
        {"pick_suggestion": f"{low}|{low}|{high}", "week": monday},
        {"remove_session": low, "week": monday},
    ):
        response = post_form(client, url, form_data(**posted))
        assert response.status_code == 200, posted
        assert the_request() is None  # browsing a new request saves nothing
    response = post_form(client, url, form_data(slot=[low], week=monday, **SAVE))
    assert response.status_code == 200
    assert "Choose sessions on the calendar." in response.get_data(as_text=True)
    draft = the_request()
    page = client.get(f"/requests/{draft.reference}/edit?week={day}").get_data(as_text=True)
    assert default in page
    response = post_form(
        client,
        f"/requests/{draft.reference}/edit",
        form_data(week=day, show_week=day, **SAVE),
    )
    assert response.status_code == 302 and day not in response.headers["Location"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_extreme_dates_in_staff_filters_and_forms_are_refused_beside_the_field(
    factory, bench, client, day
):
    booking_request = held(factory, bench, at(monday_in(2), 10), at(monday_in(2), 11))
    booking = db.session.scalar(select(Booking).where(Booking.request_id == booking_request.id))
    login(client, factory.admin().email)
    for url in (
        f"/admin/audit?date_from={day}",
        f"/admin/audit?date_to={day}",
        f"/staff/requests/?submitted_from={day}",
        f"/staff/requests/?submitted_to={day}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Enter a date between 1900-01-01 and 2999-12-31." in response.get_data(as_text=True)
    response = post_form(
        client,
        f"/staff/bookings/{booking.id}/move",
        {"starts_at": f"{day}T00:00", "ends_at": f"{day}T05:00"},
    )
    assert response.status_code == 200
    assert "Enter a date between 1900-01-01 and 2999-12-31." in response.get_data(as_text=True)
    closures = f"/staff/catalogue/facilities/{bench.facility_id}/closures"
    response = post_form(
        client,
        closures,
        {"scope": "", "starts_at": f"{day}T00:00", "ends_at": f"{day}T05:00", "reason": "x"},
    )
    assert response.status_code == 200
    assert "Enter a date between 1900-01-01 and 2999-12-31." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Closure.id))) == 0


def test_cells_beyond_the_maximum_advance_cannot_be_picked(factory, bench, client):
    now = utcnow()
    latest = now + timedelta(days=bench.max_advance_days)
    last_day = latest.astimezone(SEOUL).date()
    week = availability.week(bench, last_day, None, now=now)
    cells_of_week = [cell for row in week.rows for cell in row.cells]
    assert any(cell.state == availability.CellState.TOO_FAR for cell in cells_of_week)
    for cell in cells_of_week:
        if cell.state == availability.CellState.FREE:
            assert now + timedelta(hours=bench.min_notice_hours) <= cell.start <= latest
        if cell.start > latest and cell.state != availability.CellState.OUTSIDE:
            assert cell.state == availability.CellState.TOO_FAR
    far = next(cell for cell in cells_of_week if cell.state == availability.CellState.TOO_FAR)
    partner = factory.partner()
    login(client, partner.email)
    page = client.get(f"/requests/new/{bench.code}?week={last_day.isoformat()}").get_data(
        as_text=True
    )
    assert f'value="{far.key}"' not in page  # no checkbox
    assert "Not bookable yet" in page
    reason = "Further ahead than this resource can be booked (at most 60 days in advance)."
    assert f'<span class="visually-hidden"> ({reason})</span>' in page  # read out in the cell
    assert reason in page.split("week-legend")[1]  # and in the legend
    public = client.get(f"/bookings/{bench.code}/week?start={last_day}").get_data(as_text=True)
    assert "Not bookable yet" in public and reason in public


def test_a_draft_session_that_now_breaks_a_rule_or_is_closed_is_marked(factory, bench, client):
    partner = factory.partner()
    login(client, partner.email)
    monday = monday_in(2)
    tuesday = monday + timedelta(days=1)
    draft = requests.create_draft(partner, bench, form_data())
    # Picked when still allowed: one session now inside the minimum notice, one closed since.
    soon = utcnow().astimezone(SEOUL).replace(minute=0, second=0, microsecond=0)
    soon = soon.astimezone(UTC) + timedelta(hours=2)
    draft.requested_slots = [
        {"start": soon.isoformat(), "end": (soon + timedelta(hours=1)).isoformat()},
        {"start": at(tuesday, 10).isoformat(), "end": at(tuesday, 11).isoformat()},
    ]
    db.session.add(
        Closure(
            resource_id=bench.id,
            starts_at=at(tuesday, 9),
            ends_at=at(tuesday, 12),
            reason="Laser service",
        )
    )
    db.session.commit()
    page = client.get(f"/requests/{draft.reference}/edit").get_data(as_text=True)
    assert page.count("No longer available") == 2
    assert "Book at least 24 hours ahead" in page
    assert f"{at(tuesday, 10).astimezone(SEOUL):%Y-%m-%d %H:%M} to 11:00 is just taken" in page
    # Each comes with the nearest free times of the same length, after the notice.
    values = re.findall(r'name="pick_suggestion" value="([^"]+)"', page)
    starts = [availability.parse_cell(value.split("|")[1]) for value in values]
    assert starts and all(start >= utcnow() + timedelta(hours=24) for start in starts)
    assert any(value.startswith(at(tuesday, 10).isoformat()) for value in values)


def test_a_new_request_whose_session_is_taken_at_submission(factory, bench, client):
    partner = factory.partner()
    login(client, partner.email)
    monday = monday_in(2)
    tuesday = monday + timedelta(days=1)
    url = f"/requests/new/{bench.code}?week={monday.isoformat()}"
    page = client.get(url).get_data(as_text=True)
    held(factory, bench, at(tuesday, 10), at(tuesday, 11))  # taken while the partner fills in
    payload = {
        **dict(re.findall(r'name="(csrf_token|draft_key)" type="hidden" value="([^"]+)"', page)),
        **form_data(slot=cells(tuesday, (10, 0), (10, 30)), week=monday.isoformat(), **SEND),
    }
    response = client.post(url, data=payload)
    draft = next(
        request
        for request in db.session.scalars(select(ResourceRequest)).all()
        if request.requester_id == partner.id
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/requests/{draft.reference}/edit?check=1"
    assert draft.status == RequestStatus.DRAFT
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was just taken by someone else or closed" in page
    assert "Not submitted: complete the marked fields" not in page
    assert "Please correct the fields marked below." not in page
    assert 'id="session-problems"' in page and 'name="pick_suggestion"' in page
    # Posting the same new form again (a reload) reaches that draft: no second one.
    again = client.post(url, data=payload)
    assert again.status_code == 200
    mine = [r for r in db.session.scalars(select(ResourceRequest)) if r.requester_id == partner.id]
    assert len(mine) == 1


def test_the_time_request_is_optional_and_shows_the_total_once_sessions_are_picked(
    factory, bench, client
):
    partner = factory.partner()
    login(client, partner.email)
    monday = monday_in(2)
    tuesday = monday + timedelta(days=1)
    url = f"/requests/new/{bench.code}?week={monday.isoformat()}"
    star = r'for="{}">[^<]*</label> <span class="text-danger" aria-hidden="true">\*</span>'
    page = client.get(url).get_data(as_text=True)
    assert re.search(star.format("requested_minutes"), page)
    assert re.search(star.format("preferred_dates"), page)
    assert re.search(star.format("usage_mode"), page)
    # A draft with a session: no stars on the time request, the sessions' total shown.
    response = post_form(
        client,
        url,
        form_data(slot=cells(tuesday, (10, 0), (10, 30)), week=monday.isoformat(), **SAVE),
    )
    edit_url = response.headers["Location"]
    page = client.get(edit_url).get_data(as_text=True)
    assert not re.search(star.format("requested_minutes"), page)
    assert not re.search(star.format("preferred_dates"), page)
    assert re.search(star.format("usage_mode"), page)
    assert '<option selected value="60">1 h</option>' in page
    # Re-rendered with an error elsewhere, it still shows the (new) total, not "—".
    response = post_form(
        client,
        edit_url,
        form_data(
            slot=cells(tuesday, (10, 0), (10, 30), (11, 0)),
            week=monday.isoformat(),
            billing_email="not-an-email",
            requested_minutes="",
            **SEND,
        ),
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Enter a valid e-mail address." in page
    assert '<option selected value="90">1 h 30 min</option>' in page
    assert not re.search(star.format("requested_minutes"), page)
    assert 'id="requested_minutes-error"' not in page and 'id="preferred_dates-error"' not in page
    # The same on a new request whose sessions are carried through a week change.
    response = post_form(
        client,
        url,
        form_data(
            slot=cells(tuesday, (14, 0), (14, 30)),
            week=monday.isoformat(),
            show_week=(monday + timedelta(days=7)).isoformat(),
            requested_minutes="",
        ),
    )
    page = response.get_data(as_text=True)
    assert not re.search(star.format("requested_minutes"), page)
    assert '<option selected value="60">1 h</option>' in page
