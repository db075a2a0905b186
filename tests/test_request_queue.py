"""Staff queues: "Waiting for me" per role, every request with filters, counts, query counts."""

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from rrc.extensions import db
from rrc.models import (
    BookingMode,
    RequestStatus,
    ResourceKind,
    ResourceRequest,
    User,
    UserStatus,
)
from rrc.models.types import utcnow
from rrc.requests import queries, queue_views, services
from rrc.requests.workflow import Role, may_decide_step, roles_of
from tests.conftest import login

COMMON = {
    "title": "Antiviral screen",
    "purpose": "Testing compounds against SARS-CoV-2.",
    "principal_investigator": "Prof. Kim",
    "payer": "Hanbit University",
    "billing_contact": "Finance office",
    "billing_email": "finance@hanbit.example",
    "accept_terms": True,
    "quantity": 2,
    "samples_description": "Ten compounds in DMSO",
    "desired_timeline": "Within two months",
    "deliverables": "IC50 report",
    "agent_name": "SARS-CoV-2 (pseudovirus)",
    "risk_group": 2,
}
FULL_CHAIN = ["coordinator", "facility_manager", "biosafety"]
REFERENCE = re.compile(r">(RRC-\d{4}-\d{5})</a>")


def service(factory, facility, chain=None, **values):
    """A BSL-2 screening service of ``facility``, priced by plate."""
    return factory.resource(
        kind=ResourceKind.SERVICE,
        booking_mode=BookingMode.QUANTITY,
        unit_label="384-well plate",
        biosafety_level=2,
        facility=facility,
        approval_chain=chain or FULL_CHAIN,
        **values,
    )


def submitted(partner, resource, **fields) -> ResourceRequest:
    """A request filed and submitted through the services."""
    draft = services.create_draft(partner, resource, {**COMMON, **fields})
    services.submit(partner, draft)
    db.session.commit()
    return draft


def approve_current(user, resource_request) -> None:
    """``user`` approves the request's current step."""
    services.approve(user, resource_request, resource_request.current_step.id)
    db.session.commit()


def age(resource_request, days=0, hours=0) -> None:
    """Pretend the current step became pending ``days`` and ``hours`` ago."""
    resource_request.current_step.pending_since = utcnow() - timedelta(days=days, hours=hours)
    db.session.commit()


def references(html: str) -> list[str]:
    """The request references linked in a queue page, in order."""
    return REFERENCE.findall(html)


@dataclass
class World:
    """Staff of two facilities, partners, resources, and requests at every stage of review."""

    people: dict
    resources: dict
    facilities: dict
    requests: dict = field(default_factory=dict)


@pytest.fixture
def cast(factory) -> World:
    """The people, facilities and resources, with no request yet."""
    facility_a = factory.facility(code="FAC-HCS", name="Screening platform")
    facility_b = factory.facility(code="FAC-BANK", name="Bioresource bank")
    people = {
        "coordinator": factory.coordinator(name="Coordinator Person"),
        "manager_a": factory.facility_manager(facility_a, name="Manager A"),
        "manager_b": factory.facility_manager(facility_b, name="Manager B"),
        "deputy": factory.facility_manager(facility_a, name="Deputy A"),
        "biosafety": factory.staff(is_biosafety_officer=True, name="Biosafety Person"),
        "admin": factory.admin(name="Admin Person"),
        "plain_staff": factory.staff(name="Plain Staff"),
        "manager_nowhere": factory.facility_manager(name="Manager Nowhere"),
        "partner": factory.partner(name="Alice Partner"),
        "other_partner": factory.partner(name="Bob Partner"),
    }
    resources = {
        "a": service(factory, facility_a, code="SVC-HTS-01", name="Phenotypic screening"),
        "a2": service(factory, facility_a, code="INS-HCS-02", name="Operetta imaging"),
        "b": service(factory, facility_b, code="BIO-CELL-01", name="Vero E6 cell stock"),
    }
    return World(people=people, resources=resources, facilities={"a": facility_a, "b": facility_b})


@pytest.fixture
def world(cast) -> World:
    """Requests waiting at each kind of step, assigned, sent back, decided, and a draft."""
    people, resources, requests = cast.people, cast.resources, cast.requests
    partner, other = people["partner"], people["other_partner"]
    coordinator, manager_a = people["coordinator"], people["manager_a"]
    requests["a_coordinator"] = submitted(partner, resources["a"])
    requests["a_manager"] = submitted(partner, resources["a"])
    approve_current(coordinator, requests["a_manager"])
    requests["b_manager"] = submitted(other, resources["b"])
    approve_current(coordinator, requests["b_manager"])
    requests["a_biosafety"] = submitted(other, resources["a"])
    approve_current(coordinator, requests["a_biosafety"])
    approve_current(manager_a, requests["a_biosafety"])
    requests["a_assigned"] = submitted(partner, resources["a"])
    approve_current(coordinator, requests["a_assigned"])
    services.reassign_step(
        coordinator,
        requests["a_assigned"],
        requests["a_assigned"].current_step.id,
        people["deputy"],
        "Holiday cover",
    )
    db.session.commit()
    requests["a_changes"] = submitted(partner, resources["a"])
    approve_current(coordinator, requests["a_changes"])
    services.request_changes(
        manager_a, requests["a_changes"], requests["a_changes"].current_step.id, "Fewer plates."
    )
    db.session.commit()
    requests["approved"] = submitted(other, resources["b"])
    approve_current(coordinator, requests["approved"])
    approve_current(people["manager_b"], requests["approved"])
    approve_current(people["biosafety"], requests["approved"])
    requests["rejected"] = submitted(other, resources["b"])
    services.reject(
        coordinator, requests["rejected"], requests["rejected"].current_step.id, "Out of scope."
    )
    db.session.commit()
    requests["draft"] = services.create_draft(partner, resources["a"], COMMON)
    requests["b_coordinator"] = submitted(other, resources["b"])
    db.session.commit()
    return cast


EXPECTED_WAITING = {
    "coordinator": {"a_coordinator", "b_coordinator"},
    "manager_a": {"a_manager"},
    "manager_b": {"b_manager"},
    "deputy": {"a_manager", "a_assigned"},
    "biosafety": {"a_biosafety"},
    "admin": {
        "a_coordinator",
        "b_coordinator",
        "a_manager",
        "b_manager",
        "a_biosafety",
        "a_assigned",
    },
    "plain_staff": set(),
    "manager_nowhere": set(),
}


@pytest.mark.parametrize("who", sorted(EXPECTED_WAITING))
def test_waiting_for_me_per_role(world, client, who):
    login(client, world.people[who].email)
    page = client.get("/staff/requests/waiting")
    assert page.status_code == 200
    shown = set(references(page.get_data(as_text=True)))
    expected = {world.requests[name].reference for name in EXPECTED_WAITING[who]}
    assert shown == expected


def test_waiting_row_shows_what_a_decider_needs(world, client):
    login(client, world.people["deputy"].email)
    html = client.get("/staff/requests/waiting").get_data(as_text=True)
    assigned = world.requests["a_assigned"]
    assert f'href="/requests/{assigned.reference}"' in html
    assert "Phenotypic screening" in html and "SVC-HTS-01" in html
    assert assigned.organisation.name in html
    assert "Alice Partner" in html and world.people["partner"].email in html
    assert "Facility manager review" in html
    assert "assigned to Deputy A" in html


def test_waiting_is_ordered_by_time_at_the_step(world, client):
    requests = world.requests
    age(requests["a_coordinator"], days=1)
    age(requests["b_coordinator"], days=3, hours=2)
    login(client, world.people["coordinator"].email)
    html = client.get("/staff/requests/waiting").get_data(as_text=True)
    assert references(html) == [
        requests["b_coordinator"].reference,
        requests["a_coordinator"].reference,
    ]
    assert ">3 days 2 hours<" in html and ">1 day<" in html
    assert html.count("Overdue") == 1  # only the one over REMIND_AFTER_DAYS (2)
    age(requests["a_coordinator"], days=5)
    html = client.get("/staff/requests/waiting").get_data(as_text=True)
    assert references(html)[0] == requests["a_coordinator"].reference


def test_waiting_shows_hours_for_fresh_steps(world, client):
    age(world.requests["b_manager"], hours=5)
    login(client, world.people["manager_b"].email)
    html = client.get("/staff/requests/waiting").get_data(as_text=True)
    assert ">5 hours<" in html


@pytest.mark.parametrize(
    ("elapsed", "text"),
    [
        (timedelta(minutes=20), "less than an hour"),
        (timedelta(hours=1, minutes=59), "1 hour"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=2, hours=1), "2 days 1 hour"),
        (timedelta(days=-1), "less than an hour"),  # clocks disagreeing never show negatives
    ],
)
def test_waited_wording(app, elapsed, text):
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    with app.test_request_context():
        assert queue_views.waited(now - elapsed, now) == text


def test_sql_agrees_with_the_workflow(world, factory):
    """The SQL "may decide" gives exactly what workflow.may_decide_step and roles_of give."""
    people = world.people
    both = factory.staff(is_coordinator=True, is_biosafety_officer=True, name="Both Hats")
    withdrawn = factory.facility_manager(world.facilities["b"], name="Former Manager")
    withdrawn.is_facility_manager = False  # still listed on the facility, capability withdrawn
    suspended = factory.coordinator(name="Suspended Coordinator", status=UserStatus.SUSPENDED)
    # One more request at every kind of step, assigned to the coordinator with two hats.
    extra = submitted(people["other_partner"], world.resources["b"])
    approve_current(people["coordinator"], extra)
    approve_current(people["manager_b"], extra)
    services.reassign_step(people["admin"], extra, extra.current_step.id, both, "Expert")
    db.session.commit()
    staff = [*people.values(), both, withdrawn, suspended]
    everything = list(db.session.scalars(select(ResourceRequest)))
    assert len(everything) >= 11
    for user in staff:
        if user.is_partner:
            continue
        from_sql = {
            step.resource_request.id for step in db.session.scalars(queries.waiting_for(user))
        }
        by_step = {
            item.id
            for item in everything
            if item.status == RequestStatus.IN_REVIEW
            and item.current_step is not None
            and may_decide_step(user, item, item.current_step)
        }
        by_role = {item.id for item in everything if Role.DECIDER in roles_of(user, item)}
        assert from_sql == by_step == by_role, user.name
        assert queries.count_waiting_for(user) == len(from_sql)
    assert {step.resource_request.id for step in db.session.scalars(queries.waiting_for(both))} >= {
        extra.id
    }


@pytest.mark.parametrize("path", ["/staff/requests/waiting", "/staff/requests/"])
def test_partners_and_visitors_are_kept_out(world, client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, world.people["partner"].email)
    assert client.get(path).status_code == 403


def test_nav_item_and_staff_home_counts(world, client):
    age(world.requests["a_coordinator"], days=3)
    login(client, world.people["coordinator"].email)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/staff/requests/waiting"' in html
    counts = dict(re.findall(r'card-title">([^<]+)</h3>\s*<p class="display-6">(\d+)</p>', html))
    assert counts == {
        "Waiting for me": "2",
        "In review": "6",
        "Approved, not started": "1",
        "In progress": "0",
    }
    assert "/staff/requests/?status=in_review" in html
    manager_client = client.application.test_client()
    login(manager_client, world.people["manager_b"].email)
    html = manager_client.get("/").get_data(as_text=True)
    assert re.search(r'Waiting for me</h3>\s*<p class="display-6">1</p>', html)


def test_partner_sees_no_staff_nav(world, client):
    login(client, world.people["partner"].email)
    assert "/staff/requests/waiting" not in client.get("/").get_data(as_text=True)


# --- all requests ------------------------------------------------------------------------


@pytest.fixture
def listed(cast):
    """Four requests with distinct requesters, resources, texts and dates."""
    people, resources = cast.people, cast.resources
    first = submitted(people["partner"], resources["a"], title="Antiviral screen")
    second = submitted(people["other_partner"], resources["b"], title="Imaging run")
    approve_current(people["coordinator"], second)
    approve_current(people["manager_b"], second)
    approve_current(people["biosafety"], second)
    draft = services.create_draft(people["partner"], resources["a"], {**COMMON, "title": "Unsent"})
    fourth = submitted(
        people["other_partner"], resources["a2"], title="Cell painting", purpose="Zebrafish eggs."
    )
    stamps = {
        first: (datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)),
        second: (datetime(2026, 3, 31, 20, tzinfo=UTC), datetime(2026, 6, 3, tzinfo=UTC)),
        fourth: (datetime(2026, 5, 20, 9, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC)),
    }
    for resource_request, (submitted_at, updated_at) in stamps.items():
        resource_request.submitted_at = submitted_at
        resource_request.updated_at = updated_at
    db.session.commit()
    return {"first": first, "second": second, "draft": draft, "fourth": fourth, "world": cast}


def listing(client, **args) -> list[str]:
    response = client.get("/staff/requests/", query_string=args)
    assert response.status_code == 200
    return references(response.get_data(as_text=True))


def refs(listed, *names) -> list[str]:
    return [listed[name].reference for name in names]


def test_all_requests_filters(listed, client):
    world = listed["world"]
    login(client, world.people["plain_staff"].email)  # any active staff may see the list
    assert set(listing(client)) == set(refs(listed, "first", "second", "fourth"))
    assert listing(client, status="draft") == refs(listed, "draft")
    assert listing(client, status="approved") == refs(listed, "second")
    assert set(listing(client, status="in_review")) == set(refs(listed, "first", "fourth"))
    facility_a = world.facilities["a"].id
    assert set(listing(client, facility=facility_a)) == set(refs(listed, "first", "fourth"))
    assert listing(client, resource=listed["fourth"].resource_id) == refs(listed, "fourth")
    organisation = world.people["other_partner"].organisation_id
    assert set(listing(client, organisation=organisation)) == set(refs(listed, "second", "fourth"))
    # Resources and organisations are typed (thousands after ten years): part of a code or name.
    assert listing(client, resource="hcs-02") == refs(listed, "fourth")
    assert listing(client, resource="OPERETTA") == refs(listed, "fourth")
    name = world.people["other_partner"].organisation.name
    assert set(listing(client, organisation=name.upper())) == set(refs(listed, "second", "fourth"))
    assert listing(client, organisation="no such organisation") == []
    assert listing(client, requester="alice") == refs(listed, "first")
    email = world.people["other_partner"].email
    assert set(listing(client, requester=email.upper())) == set(refs(listed, "second", "fourth"))
    assert listing(client, q=listed["first"].reference.lower()) == refs(listed, "first")
    assert listing(client, q="IMAGING") == refs(listed, "second")
    assert listing(client, q="zebrafish") == refs(listed, "fourth")
    assert listing(client, q="100%") == []  # wildcards are literal
    # Dates are calendar days in the viewer's zone (Asia/Seoul): 2026-03-31 20:00 UTC is April 1.
    assert set(listing(client, submitted_from="2026-04-01")) == set(
        refs(listed, "second", "fourth")
    )
    assert set(listing(client, submitted_to="2026-03-31")) == set(refs(listed, "first"))
    assert listing(client, submitted_from="2026-04-01", submitted_to="2026-04-30") == refs(
        listed, "second"
    )
    assert listing(client, status="in_review", facility=facility_a, requester="bob") == refs(
        listed, "fourth"
    )


def test_bad_filters_are_explained_beside_the_field(listed, client):
    login(client, listed["world"].people["coordinator"].email)
    response = client.get(
        "/staff/requests/",
        query_string={"submitted_from": "2026-05-01", "submitted_to": "2026-04-01", "q": "keep me"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The end date comes before the start date." in html
    assert 'id="submitted_to-error"' in html and 'value="keep me"' in html
    assert references(html) == []
    html = client.get("/staff/requests/", query_string={"facility": "999999"}).get_data(
        as_text=True
    )
    assert 'id="facility-error"' in html and references(html) == []
    html = client.get("/staff/requests/", query_string={"submitted_from": "31/02/2026"}).get_data(
        as_text=True
    )
    assert 'id="submitted_from-error"' in html


def test_all_requests_sorting(listed, client):
    login(client, listed["world"].people["coordinator"].email)
    assert listing(client) == refs(listed, "fourth", "second", "first")  # newest submitted first
    assert listing(client, order="asc") == refs(listed, "first", "second", "fourth")
    assert listing(client, sort="reference", order="asc") == refs(
        listed, "first", "second", "fourth"
    )
    assert listing(client, sort="reference") == refs(listed, "fourth", "second", "first")
    assert listing(client, sort="updated") == refs(listed, "second", "fourth", "first")
    # By the request's life: in review before approved.
    assert listing(client, sort="status", order="asc") == refs(listed, "first", "fourth", "second")
    assert listing(client, sort="status", order="desc") == refs(listed, "second", "fourth", "first")
    assert listing(client, sort="nonsense") == []  # an unknown choice is refused


def test_all_requests_pagination_keeps_filters(listed, client, monkeypatch):
    monkeypatch.setattr(queue_views, "PER_PAGE", 2)
    login(client, listed["world"].people["coordinator"].email)
    html = client.get("/staff/requests/", query_string={"order": "asc"}).get_data(as_text=True)
    assert references(html) == refs(listed, "first", "second")
    assert "Page 1 of 2" in html and "3 requests" in html
    next_link = re.search(r'href="(/staff/requests/\?[^"]*page=2[^"]*)"', html).group(1)
    assert "order=asc" in next_link
    html = client.get(next_link.replace("&amp;", "&")).get_data(as_text=True)
    assert references(html) == refs(listed, "fourth")


def test_all_requests_shows_what_each_waits_for(listed, client):
    login(client, listed["world"].people["coordinator"].email)
    html = client.get("/staff/requests/").get_data(as_text=True)
    assert "waiting for: RRC coordinator review" in html
    assert "Operetta imaging" in html and "Alice Partner" in html


# --- query counts ------------------------------------------------------------------------


@contextmanager
def counted_queries():
    """Count the SQL statements run inside the block."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _queries_for(client, path: str) -> int:
    client.get(path)  # warm up: anything cached per process
    with counted_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


def test_query_count_does_not_grow_with_rows(factory, client):
    facility = factory.facility()
    coordinator = factory.coordinator()
    resources = [service(factory, facility, chain=["coordinator"]) for _ in range(3)]
    first = submitted(factory.partner(), resources[0])
    login(client, coordinator.email)
    waiting_one = _queries_for(client, "/staff/requests/waiting")
    all_one = _queries_for(client, "/staff/requests/")
    home_one = _queries_for(client, "/")
    for number in range(49):
        submitted(factory.partner(), resources[number % 3])
    assert queries.count_waiting_for(db.session.get(User, coordinator.id)) == 50
    waiting_fifty = _queries_for(client, "/staff/requests/waiting")
    all_fifty = _queries_for(client, "/staff/requests/")
    assert (waiting_one, all_one) == (waiting_fifty, all_fifty)
    assert _queries_for(client, "/") == home_one
    html = client.get("/staff/requests/waiting").get_data(as_text=True)
    assert len(references(html)) == 50 and first.reference in html
