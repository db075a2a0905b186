"""Staff management of the catalogue: permissions, facilities, resources and rates, photos,
closures, audit entries, escaping and query counts."""

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, select

from rrc.catalogue import photos
from rrc.catalogue.search import CatalogueQuery, search, upcoming_closures
from rrc.catalogue_admin import services
from rrc.extensions import db
from rrc.models import (
    AuditLog,
    BookingMode,
    Closure,
    Facility,
    PriceTier,
    Rate,
    Resource,
    ResourceKind,
)
from rrc.models.types import utcnow
from tests.conftest import count_queries, csrf_tokens, login, post_form

BASE = "/staff/catalogue"
XSS = '<script>alert("x")</script>'


def resource_form_data(facility: Facility, **overrides) -> dict:
    """A complete, valid submission of the resource form."""
    data = {
        "code": "INS-NEW-01",
        "facility": str(facility.id),
        "name": "Confocal microscope",
        "name_ko": "공초점 현미경",
        "kind": "instrument",
        "summary": "Live-cell confocal imaging.",
        "summary_ko": "",
        "description": "Spinning-disk confocal.\nIncubation chamber.",
        "description_ko": "",
        "booking_mode": "slot",
        "unit_label": "hour",
        "unit_label_ko": "시간",
        "unit_minutes": "60",
        "slot_granularity_minutes": "30",
        "min_duration_minutes": "60",
        "max_duration_minutes": "240",
        "min_notice_hours": "24",
        "max_advance_days": "60",
        "buffer_minutes": "15",
        "cancellation_notice_hours": "48",
        "lead_time_days": "",
        "availability_note": "Mornings are busiest.",
        "training_requirement": "Instrument training by facility staff.",
        "required_documents": ["training_certificate", "sop"],
        "approval_chain": ["coordinator", "facility_manager"],
        "biosafety_level": "2",
        "gmo": "y",
        "price_internal": "20000",
        "setup_internal": "",
        "price_academic": "50000",
        "setup_academic": "",
        "price_sme": "75000",
        "setup_sme": "100000",
        "price_industry": "",
        "setup_industry": "",
        "quote_industry": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def reload(model, object_id):
    """A fresh copy of a row, as the database holds it now."""
    db.session.expire_all()
    return db.session.get(model, object_id)


def audit_actions(**filters) -> list[str]:
    """Audit log actions, oldest first."""
    db.session.expire_all()
    statement = select(AuditLog).order_by(AuditLog.id)
    for name, value in filters.items():
        statement = statement.where(getattr(AuditLog, name) == value)
    return [entry.action for entry in db.session.scalars(statement)]


def png_bytes(size=(40, 30), mode="RGB") -> bytes:
    output = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128)).save(
        output, format="PNG"
    )
    return output.getvalue()


def jpeg_bytes(size=(50, 50)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(output, format="JPEG")
    return output.getvalue()


@pytest.fixture
def two_facilities(factory):
    """Two facilities, each with a resource and its own facility manager."""
    mine = factory.facility(code="FAC-MINE", name="My facility")
    theirs = factory.facility(code="FAC-THEIRS", name="Their facility")
    my_resource = factory.resource(facility=mine, code="INS-MINE-01")
    their_resource = factory.resource(facility=theirs, code="INS-THEIRS-01")
    manager = factory.facility_manager(mine, email="fm@ipk.example", name="Facility Manager")
    factory.facility_manager(theirs, email="other-fm@ipk.example")
    return mine, theirs, my_resource, their_resource, manager


# --- who may reach the pages -------------------------------------------------------------------


def staff_urls(facility: Facility, resource: Resource) -> list[str]:
    return [
        f"{BASE}/",
        f"{BASE}/facilities/new",
        f"{BASE}/facilities/{facility.id}",
        f"{BASE}/facilities/{facility.id}/closures",
        f"{BASE}/resources/new",
        f"{BASE}/resources/{resource.id}",
        f"{BASE}/resources/{resource.id}/photo",
        f"{BASE}/resources/{resource.id}/photo/file",
        f"{BASE}/export.csv",
        f"{BASE}/import",
    ]


def post_urls(facility: Facility, resource: Resource) -> list[str]:
    return [
        f"{BASE}/facilities/new",
        f"{BASE}/facilities/{facility.id}",
        f"{BASE}/facilities/{facility.id}/retire",
        f"{BASE}/facilities/{facility.id}/reactivate",
        f"{BASE}/facilities/{facility.id}/closures",
        f"{BASE}/resources/new",
        f"{BASE}/resources/{resource.id}",
        f"{BASE}/resources/{resource.id}/retire",
        f"{BASE}/resources/{resource.id}/photo",
        f"{BASE}/resources/{resource.id}/photo/remove",
        f"{BASE}/import",
    ]


def test_visitors_are_sent_to_the_login_page(client, factory):
    resource = factory.resource()
    for url in staff_urls(resource.facility, resource):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url
    for url in post_urls(resource.facility, resource):
        response = client.post(url, data={})
        assert response.status_code in (302, 400), url
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], url


def test_partners_and_other_staff_cannot_reach_any_page(client, factory):
    resource = factory.resource()
    partner = factory.partner(email="partner@example.org")
    login(client, partner.email)
    home = client.get("/").get_data(as_text=True)
    assert "Manage catalogue" not in home
    csrf = csrf_tokens(home)
    for url in staff_urls(resource.facility, resource):
        assert client.get(url).status_code == 403, url
    for url in post_urls(resource.facility, resource):
        assert client.post(url, data=csrf).status_code == 403, url

    biosafety_officer = factory.staff(is_biosafety_officer=True, email="bso@ipk.example")
    client.post("/logout", data=csrf)
    login(client, biosafety_officer.email)
    assert client.get(f"{BASE}/").status_code == 403


def test_navigation_shows_manage_catalogue_to_catalogue_staff(client, two_facilities):
    manager = two_facilities[4]
    login(client, manager.email)
    page = client.get("/").get_data(as_text=True)
    assert "Manage catalogue" in page
    assert f'href="{BASE}/"' in page


def test_facility_manager_cannot_edit_another_facilitys_resource(client, two_facilities):
    _mine, theirs, _my_resource, their_resource, manager = two_facilities
    login(client, manager.email)
    edit_url = f"{BASE}/resources/{their_resource.id}"
    assert client.get(edit_url).status_code in (403, 404)
    assert client.get(f"{BASE}/resources/{their_resource.id}/photo").status_code in (403, 404)

    # A forged POST with a valid CSRF token from a page the manager may see changes nothing.
    csrf = csrf_tokens(client.get(f"{BASE}/").get_data(as_text=True))
    forged = resource_form_data(theirs, name="Hijacked", price_academic="1")
    forged.pop("code")
    response = client.post(edit_url, data={**csrf, **forged})
    assert response.status_code in (403, 404)
    for action in ("retire", "photo/remove"):
        response = client.post(
            f"{edit_url}/{action}", data={"state-csrf_token": csrf["csrf_token"]}
        )
        assert response.status_code in (403, 404)
    resource = reload(Resource, their_resource.id)
    assert resource.name != "Hijacked"
    assert resource.active
    assert resource.rate_for(PriceTier.ACADEMIC).unit_price == 60_000
    assert not [
        action for action in audit_actions(actor_id=manager.id) if action.startswith("catalogue.")
    ]


def test_facility_manager_cannot_move_a_resource_or_create_one_elsewhere(client, two_facilities):
    mine, theirs, my_resource, _their, manager = two_facilities
    login(client, manager.email)
    page = client.get(f"{BASE}/resources/new").get_data(as_text=True)
    assert "FAC-MINE" in page and "FAC-THEIRS" not in page
    response = post_form(
        client, f"{BASE}/resources/new", resource_form_data(theirs, code="INS-SNEAK-01")
    )
    assert response.status_code == 200  # not a choice: refused beside the field
    assert db.session.scalar(select(Resource).where(Resource.code == "INS-SNEAK-01")) is None

    data = resource_form_data(theirs)
    data.pop("code")
    post_form(client, f"{BASE}/resources/{my_resource.id}", data)
    assert reload(Resource, my_resource.id).facility_id == mine.id


def test_facility_manager_cannot_add_or_delete_a_closure_elsewhere(client, factory, two_facilities):
    _mine, theirs, _my_resource, their_resource, manager = two_facilities
    closure = Closure(
        facility_id=theirs.id,
        starts_at=utcnow() + timedelta(days=3),
        ends_at=utcnow() + timedelta(days=4),
        reason="Maintenance",
    )
    db.session.add(closure)
    db.session.commit()
    login(client, manager.email)
    url = f"{BASE}/facilities/{theirs.id}/closures"
    assert client.get(url).status_code in (403, 404)
    csrf = csrf_tokens(client.get(f"{BASE}/").get_data(as_text=True))
    response = client.post(
        url,
        data={
            **csrf,
            "scope": str(their_resource.id),
            "starts_at": "2031-01-01T09:00",
            "ends_at": "2031-01-01T12:00",
            "reason": "Sneaky",
        },
    )
    assert response.status_code in (403, 404)
    response = client.post(
        f"{BASE}/closures/{closure.id}/delete", data={"delete-csrf_token": csrf["csrf_token"]}
    )
    assert response.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Closure.id))) == 1


def test_only_coordinators_manage_facilities(client, two_facilities):
    mine, _theirs, _my_resource, _their, manager = two_facilities
    login(client, manager.email)
    assert client.get(f"{BASE}/facilities/new").status_code == 403
    assert client.get(f"{BASE}/facilities/{mine.id}").status_code == 403
    csrf = csrf_tokens(client.get(f"{BASE}/").get_data(as_text=True))
    response = client.post(
        f"{BASE}/facilities/{mine.id}/retire", data={"state-csrf_token": csrf["csrf_token"]}
    )
    assert response.status_code == 403
    assert reload(Facility, mine.id).active
    assert client.get(f"{BASE}/import").status_code == 403


def test_index_lists_what_each_person_edits(client, factory, two_facilities):
    _mine, _theirs, my_resource, their_resource, manager = two_facilities
    retired = factory.resource(facility=two_facilities[0], code="INS-OLD-01", active=False)
    login(client, manager.email)
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert my_resource.code in page
    assert their_resource.code not in page
    assert retired.code not in page
    page = client.get(f"{BASE}/?status=retired").get_data(as_text=True)
    assert retired.code in page and my_resource.code not in page

    coordinator = factory.coordinator()
    client.post("/logout", data=csrf_tokens(page))
    login(client, coordinator.email)
    page = client.get(f"{BASE}/?status=all").get_data(as_text=True)
    for code in (my_resource.code, their_resource.code, retired.code):
        assert code in page
    page = client.get(f"{BASE}/?facility=FAC-THEIRS").get_data(as_text=True)
    assert their_resource.code in page and my_resource.code not in page
    page = client.get(f"{BASE}/?q=mine").get_data(as_text=True)
    assert my_resource.code in page and their_resource.code not in page


def test_index_issues_a_constant_number_of_queries(client, factory):
    coordinator = factory.coordinator()
    first = factory.facility()
    factory.resource(facility=first)
    factory.facility_manager(first)
    login(client, coordinator.email)
    count_queries(client, f"{BASE}/")  # warm up (babel, first-use queries)
    few = count_queries(client, f"{BASE}/?status=all")
    for number in range(6):
        facility = factory.facility()
        factory.facility_manager(facility)
        for _ in range(4):
            factory.resource(facility=facility, active=number % 2 == 0)
    many = count_queries(client, f"{BASE}/?status=all")
    assert few == many


# --- facilities --------------------------------------------------------------------------------


def facility_form_data(**overrides) -> dict:
    data = {
        "code": "fac-hcs",
        "name": "Screening platform",
        "name_ko": "스크리닝 플랫폼",
        "description": "High-content screening.",
        "description_ko": "",
        "location": "Building B, 3rd floor",
        "biosafety_level": "2",
        "timezone": "Asia/Seoul",
        "contact_email": "hcs@ipk.example",
        "contact_phone": "+82 31 8018 8000",
        "opens_1": "09:00",
        "closes_1": "18:00",
        "opens_6": "10:00",
        "closes_6": "13:00",
    }
    data.update(overrides)
    return data


def test_coordinator_creates_edits_and_retires_a_facility(client, factory):
    coordinator = factory.coordinator()
    manager = factory.facility_manager(name="Kim Manager")
    login(client, coordinator.email)
    response = post_form(
        client, f"{BASE}/facilities/new", facility_form_data(managers=[str(manager.id)])
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    facility = db.session.scalar(select(Facility).where(Facility.code == "FAC-HCS"))
    assert facility.name_ko == "스크리닝 플랫폼"
    assert facility.opening_hours == {"1": ["09:00", "18:00"], "6": ["10:00", "13:00"]}
    assert [user.id for user in facility.managers] == [manager.id]
    assert facility.contact_phone == "+82 31 8018 8000"

    url = f"{BASE}/facilities/{facility.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="10:00"' in page and "Kim Manager" in page
    data = facility_form_data(timezone="Europe/Paris", name="HCS platform")
    data.pop("code")
    response = post_form(client, url, data)  # no manager ticked: the manager is removed
    assert response.status_code == 302
    facility = reload(Facility, facility.id)
    assert facility.timezone == "Europe/Paris" and facility.managers == []
    assert facility.code == "FAC-HCS"

    post_form(client, url, {}, action=f"{url}/retire")
    assert reload(Facility, facility.id).active is False
    post_form(client, url, {}, action=f"{url}/reactivate")
    assert reload(Facility, facility.id).active is True
    assert audit_actions(target_type="facility") == [
        "catalogue.facility_created",
        "catalogue.facility_updated",
        "catalogue.facility_retired",
        "catalogue.facility_reactivated",
    ]
    detail = db.session.scalar(
        select(AuditLog.detail).where(AuditLog.action == "catalogue.facility_updated")
    )
    assert "timezone: Asia/Seoul → Europe/Paris" in detail
    assert "managers:" in detail


def test_facility_form_errors_are_shown_beside_the_fields(client, factory):
    coordinator = factory.coordinator()
    factory.facility(code="FAC-TAKEN")
    partner = factory.partner()
    login(client, coordinator.email)
    data = facility_form_data(
        code="FAC-TAKEN",
        timezone="Mars/Olympus",
        opens_2="09:00",
        closes_3="17:00",
        opens_3="18:00",
        closes_6="09:00",
        managers=[str(partner.id)],
    )
    response = post_form(client, f"{BASE}/facilities/new", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="timezone-error"' in page
    assert 'id="closes_2-error"' in page and "Give both times, or neither." in page
    assert 'id="closes_3-error"' in page and "Must be after the opening time." in page
    assert 'id="closes_6-error"' in page
    assert 'value="Screening platform"' in page  # the input is kept
    assert db.session.scalar(select(func.count(Facility.id))) == 1

    response = post_form(client, f"{BASE}/facilities/new", facility_form_data(code="FAC-TAKEN"))
    page = response.get_data(as_text=True)
    assert 'id="code-error"' in page and "Another facility already has the code" in page
    assert db.session.scalar(select(func.count(Facility.id))) == 1


# --- resources ---------------------------------------------------------------------------------


def test_coordinator_creates_a_resource_with_every_field(client, factory):
    facility = factory.facility(code="FAC-IMG")
    coordinator = factory.coordinator()
    login(client, coordinator.email)
    data = resource_form_data(facility, opens_1="08:00", closes_1="20:00", lead_time_days="3")
    response = post_form(client, f"{BASE}/resources/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    resource = db.session.scalar(select(Resource).where(Resource.code == "INS-NEW-01"))
    assert resource.facility_id == facility.id
    assert resource.name_ko == "공초점 현미경"
    assert resource.summary_ko is None
    assert resource.description == "Spinning-disk confocal.\nIncubation chamber."
    assert resource.kind == ResourceKind.INSTRUMENT
    assert resource.booking_mode == BookingMode.SLOT
    assert (resource.unit_minutes, resource.min_duration_minutes) == (60, 60)
    assert (resource.max_duration_minutes, resource.buffer_minutes) == (240, 15)
    assert resource.lead_time_days == 3
    assert resource.gmo and not resource.high_risk_pathogen
    assert resource.opening_hours == {"1": ["08:00", "20:00"]}
    assert resource.required_documents == ["training_certificate", "sop"]
    assert resource.approval_chain == ["coordinator", "facility_manager"]
    rates = {rate.tier: rate for rate in resource.rates}
    assert rates[PriceTier.SME].unit_price == 75_000
    assert rates[PriceTier.SME].setup_fee == 100_000
    assert rates[PriceTier.INDUSTRY].on_quote and rates[PriceTier.INDUSTRY].unit_price is None
    (entry,) = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "catalogue.resource_created")
    )
    assert entry.actor_id == coordinator.id and entry.target_id == resource.id
    assert "INS-NEW-01" in entry.detail and "industry on quote" in entry.detail


def test_approval_chain_is_stored_in_its_fixed_order(client, factory):
    facility = factory.facility()
    login(client, factory.coordinator().email)
    data = resource_form_data(facility, approval_chain=["biosafety", "coordinator"])
    assert post_form(client, f"{BASE}/resources/new", data).status_code == 302
    resource = db.session.scalar(select(Resource).where(Resource.code == "INS-NEW-01"))
    assert resource.approval_chain == ["coordinator", "biosafety"]


def test_bad_resource_input_is_shown_beside_fields_and_nothing_is_saved(client, factory):
    facility = factory.facility()
    factory.resource(facility=facility, code="INS-TAKEN-01")
    login(client, factory.coordinator().email)
    before = db.session.scalar(select(func.count(Resource.id)))
    data = resource_form_data(
        facility,
        name="Keep this name",
        unit_minutes="",
        price_academic="-5",
        price_internal="abc",
        price_sme="",
        setup_sme="",
        quote_industry=None,
    )
    response = post_form(client, f"{BASE}/resources/new", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Please correct the fields marked below." in page
    assert 'id="price_academic-error"' in page and "Must not be negative." in page
    assert 'id="price_internal-error"' in page
    assert 'value="Keep this name"' in page and 'value="abc"' in page

    # The form is fine, the business rules are not: slot resources need unit minutes, prices.
    response = post_form(
        client, f"{BASE}/resources/new", {**data, "price_academic": "1", "price_internal": "1"}
    )
    page = response.get_data(as_text=True)
    assert 'id="unit_minutes-error"' in page
    assert 'id="price_sme-error"' in page and "on quote" in page
    assert 'id="price_industry-error"' in page

    response = post_form(
        client,
        f"{BASE}/resources/new",
        resource_form_data(
            facility,
            slot_granularity_minutes="45",
            min_duration_minutes="60",
            max_duration_minutes="90",
            min_notice_hours="-1",
        ),
    )
    page = response.get_data(as_text=True)
    assert 'id="min_duration_minutes-error"' in page and "multiple of the granularity" in page
    assert 'id="min_notice_hours-error"' in page
    response = post_form(
        client, f"{BASE}/resources/new", resource_form_data(facility, code="ins-taken-01")
    )
    page = response.get_data(as_text=True)
    assert 'id="code-error"' in page and "Another resource already has the code" in page
    response = post_form(
        client,
        f"{BASE}/resources/new",
        resource_form_data(facility, min_duration_minutes="120", max_duration_minutes="60"),
    )
    assert "must not be shorter than the minimum" in response.get_data(as_text=True)
    response = post_form(
        client,
        f"{BASE}/resources/new",
        resource_form_data(facility, price_academic="100", quote_academic="y", code="bad code"),
    )
    page = response.get_data(as_text=True)
    assert "Leave the price empty when the rate is on quote." in page
    assert 'id="code-error"' in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Resource.id))) == before
    assert db.session.scalar(select(func.count(Rate.id))) == 4 * before


def test_quantity_resources_need_no_unit_minutes(client, factory):
    facility = factory.facility()
    login(client, factory.coordinator().email)
    data = resource_form_data(
        facility, code="BIO-VIAL-01", booking_mode="quantity", unit_minutes="", kind="material"
    )
    assert post_form(client, f"{BASE}/resources/new", data).status_code == 302
    resource = db.session.scalar(select(Resource).where(Resource.code == "BIO-VIAL-01"))
    assert resource.booking_mode == BookingMode.QUANTITY and resource.unit_minutes is None


def test_facility_manager_changes_a_rate_and_it_shows_on_the_public_page(client, two_facilities):
    _mine, _theirs, my_resource, _their, manager = two_facilities
    login(client, manager.email)
    url = f"{BASE}/resources/{my_resource.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="code"' not in page  # codes never change
    data = resource_form_data(
        my_resource.facility,
        name=my_resource.name,
        price_academic="77000",
        price_industry="199000",
        quote_industry=None,
    )
    data.pop("code")
    response = post_form(client, url, data)
    assert response.status_code == 302
    resource = reload(Resource, my_resource.id)
    assert resource.rate_for(PriceTier.ACADEMIC).unit_price == 77_000

    public = client.get(f"/catalogue/{resource.code}")
    assert public.status_code == 200
    text = public.get_data(as_text=True)
    assert "77,000" in text

    entry = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "catalogue.resource_updated")
    )
    assert entry.actor_id == manager.id
    assert "rate_academic: 60000 → 77000" in entry.detail
    assert "rate_industry: 180000 → 199000" in entry.detail

    # Saving again without changes writes nothing.
    post_form(client, url, data)
    assert audit_actions(action="catalogue.resource_updated") == ["catalogue.resource_updated"]


def test_retire_and_reactivate_a_resource(client, two_facilities):
    _mine, _theirs, my_resource, _their, manager = two_facilities
    login(client, manager.email)
    url = f"{BASE}/resources/{my_resource.id}"
    post_form(client, url, {}, action=f"{url}/retire")
    resource = reload(Resource, my_resource.id)
    assert not resource.active and resource.retired_at is not None
    codes = [item.code for item in search(CatalogueQuery()).items]
    assert my_resource.code not in codes
    assert client.get(f"/catalogue/{my_resource.code}").status_code == 404
    assert "Not shown in the public catalogue." in client.get(url).get_data(as_text=True)

    post_form(client, url, {}, action=f"{url}/reactivate")
    resource = reload(Resource, my_resource.id)
    assert resource.active and resource.retired_at is None
    assert my_resource.code in [item.code for item in search(CatalogueQuery()).items]
    assert audit_actions(target_type="resource") == [
        "catalogue.resource_retired",
        "catalogue.resource_reactivated",
    ]


def test_names_are_escaped_on_the_staff_pages(client, factory):
    facility = factory.facility(name=XSS)
    resource = factory.resource(facility=facility, name=XSS, name_ko=XSS)
    db.session.add(
        Closure(
            facility_id=facility.id,
            starts_at=utcnow() + timedelta(days=1),
            ends_at=utcnow() + timedelta(days=2),
            reason=XSS,
        )
    )
    db.session.commit()
    coordinator = factory.coordinator()
    factory.facility_manager(facility, name=XSS)
    login(client, coordinator.email)
    for url in (
        f"{BASE}/?status=all",
        f"{BASE}/facilities/{facility.id}",
        f"{BASE}/facilities/{facility.id}/closures",
        f"{BASE}/resources/{resource.id}",
        f"{BASE}/resources/new",
    ):
        page = client.get(url).get_data(as_text=True)
        assert XSS not in page, url
        assert "&lt;script&gt;" in page, url
    assert XSS not in client.get(f"{BASE}/resources/{resource.id}/photo").get_data(as_text=True)


# --- photos ------------------------------------------------------------------------------------


def upload(client, resource, data: bytes, filename: str):
    url = f"{BASE}/resources/{resource.id}/photo"
    page = client.get(url).get_data(as_text=True)
    tokens = {name: value for name, value in csrf_tokens(page).items() if name == "csrf_token"}
    return client.post(
        url,
        data={**tokens, "photo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_a_non_image_renamed_png_is_refused(client, two_facilities):
    my_resource, manager = two_facilities[2], two_facilities[4]
    login(client, manager.email)
    response = upload(client, my_resource, b"%PDF-1.4 not an image at all", "photo.png")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="photo-error"' in page
    assert "not an image the portal can read" in page
    assert reload(Resource, my_resource.id).photo_filename is None
    assert list(photos.photo_folder().iterdir()) == []


def test_real_images_are_accepted_and_a_replacement_deletes_the_old_file(client, two_facilities):
    my_resource, manager = two_facilities[2], two_facilities[4]
    login(client, manager.email)
    response = upload(client, my_resource, png_bytes(mode="RGBA"), "bench.png")
    assert response.status_code == 302, response.get_data(as_text=True)
    first = reload(Resource, my_resource.id).photo_filename
    assert first.endswith(".png")
    assert photos.photo_file(first).is_file()
    served = client.get(f"{BASE}/resources/{my_resource.id}/photo/file")
    assert served.status_code == 200 and served.mimetype == "image/png"
    served.close()

    response = upload(client, my_resource, jpeg_bytes(), "bench.jpeg")
    assert response.status_code == 302
    second = reload(Resource, my_resource.id).photo_filename
    assert second.endswith(".jpg") and second != first
    assert not photos.photo_file(first).exists()
    assert photos.photo_file(second).is_file()
    with Image.open(photos.photo_file(second)) as stored:
        assert stored.format == "JPEG"

    url = f"{BASE}/resources/{my_resource.id}/photo"
    post_form(client, url, {}, action=f"{url}/remove")
    assert reload(Resource, my_resource.id).photo_filename is None
    assert not photos.photo_file(second).exists()
    assert audit_actions(target_type="resource") == [
        "catalogue.photo_added",
        "catalogue.photo_replaced",
        "catalogue.photo_removed",
    ]


def test_an_empty_photo_upload_is_refused_beside_the_field(client, two_facilities):
    my_resource, manager = two_facilities[2], two_facilities[4]
    login(client, manager.email)
    url = f"{BASE}/resources/{my_resource.id}/photo"
    response = post_form(client, url, {})
    assert 'id="photo-error"' in response.get_data(as_text=True)


# --- closures ----------------------------------------------------------------------------------


def test_closure_entered_in_the_facility_zone_appears_in_upcoming_closures(client, factory):
    facility = factory.facility(code="FAC-PARIS", timezone="Europe/Paris")
    resource = factory.resource(facility=facility)
    other = factory.resource(facility=facility)
    manager = factory.facility_manager(facility)
    login(client, manager.email)
    url = f"{BASE}/facilities/{facility.id}/closures"
    start = (utcnow() + timedelta(days=10)).date()
    response = post_form(
        client,
        url,
        {
            "scope": str(resource.id),
            "starts_at": f"{start:%Y-%m-%d}T09:00",
            "ends_at": f"{start:%Y-%m-%d}T17:30",
            "reason": "Laser alignment",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    (closure,) = upcoming_closures(db.session.get(Resource, resource.id))
    assert closure.reason == "Laser alignment"
    local = closure.starts_at.astimezone(ZoneInfo("Europe/Paris"))
    assert (local.hour, local.minute) == (9, 0)
    assert closure.starts_at.tzinfo is not None
    assert closure.ends_at - closure.starts_at == timedelta(hours=8, minutes=30)
    assert upcoming_closures(db.session.get(Resource, other.id)) == []
    page = client.get(url).get_data(as_text=True)
    assert "Laser alignment" in page and "9:00" in page

    # Facility-wide closures reach every resource of the facility.
    post_form(
        client,
        url,
        {
            "scope": "",
            "starts_at": f"{start:%Y-%m-%d}T00:00",
            "ends_at": f"{start + timedelta(days=1):%Y-%m-%d}T00:00",
            "reason": "Holiday",
        },
    )
    db.session.expire_all()
    assert [item.reason for item in upcoming_closures(db.session.get(Resource, other.id))] == [
        "Holiday"
    ]
    assert audit_actions(target_type="closure") == [
        "catalogue.closure_created",
        "catalogue.closure_created",
    ]


def test_closure_errors_are_shown_beside_the_fields(client, factory):
    facility = factory.facility()
    manager = factory.facility_manager(facility)
    login(client, manager.email)
    url = f"{BASE}/facilities/{facility.id}/closures"
    response = post_form(
        client,
        url,
        {"scope": "", "starts_at": "2031-05-02T10:00", "ends_at": "2031-05-02T09:00", "reason": ""},
    )
    page = response.get_data(as_text=True)
    # Both problems at once: the missing reason does not hide the order of the times.
    assert 'id="reason-error"' in page
    assert 'id="ends_at-error"' in page and "The end must be after the start." in page
    response = post_form(
        client,
        url,
        {
            "scope": "",
            "starts_at": "2031-05-02T10:00",
            "ends_at": "2031-05-02T09:00",
            "reason": "X",
        },
    )
    page = response.get_data(as_text=True)
    assert 'id="ends_at-error"' in page and "The end must be after the start." in page
    assert 'value="2031-05-02T10:00"' in page
    response = post_form(
        client,
        url,
        {
            "scope": "",
            "starts_at": "2020-05-02T10:00",
            "ends_at": "2020-05-03T09:00",
            "reason": "X",
        },
    )
    assert "This period is already over." in response.get_data(as_text=True)
    response = post_form(
        client, url, {"scope": "", "starts_at": "tomorrow", "ends_at": "", "reason": "X"}
    )
    page = response.get_data(as_text=True)
    assert 'id="starts_at-error"' in page and 'id="ends_at-error"' in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Closure.id))) == 0


def test_a_time_skipped_by_a_clock_change_is_refused(client, factory):
    facility = factory.facility(timezone="Europe/Paris")
    login(client, factory.coordinator().email)
    url = f"{BASE}/facilities/{facility.id}/closures"
    response = post_form(
        client,
        url,
        {
            "scope": "",
            "starts_at": "2031-03-30T02:30",
            "ends_at": "2031-03-30T05:00",
            "reason": "X",
        },
    )
    page = response.get_data(as_text=True)
    assert 'id="starts_at-error"' in page and "does not exist" in page


def test_delete_a_closure_but_keep_past_ones(client, factory):
    facility = factory.facility()
    manager = factory.facility_manager(facility)
    future = Closure(
        facility_id=facility.id,
        starts_at=utcnow() + timedelta(days=1),
        ends_at=utcnow() + timedelta(days=2),
        reason="Future",
    )
    past = Closure(
        facility_id=facility.id,
        starts_at=utcnow() - timedelta(days=3),
        ends_at=utcnow() - timedelta(days=2),
        reason="Past",
    )
    db.session.add_all([future, past])
    db.session.commit()
    login(client, manager.email)
    url = f"{BASE}/facilities/{facility.id}/closures"
    post_form(client, url, {}, action=f"{BASE}/closures/{future.id}/delete")
    response = post_form(client, url, {}, action=f"{BASE}/closures/{past.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert [closure.reason for closure in db.session.scalars(select(Closure))] == ["Past"]
    assert audit_actions(action="catalogue.closure_deleted") == ["catalogue.closure_deleted"]
    assert "Past closures are kept" in client.get(url).get_data(as_text=True)


def test_closure_times_are_shown_in_the_facility_zone(client, factory):
    facility = factory.facility(timezone="America/New_York")
    start = datetime(2031, 7, 1, 13, 0, tzinfo=UTC)  # 09:00 in New York (EDT)
    db.session.add(
        Closure(
            facility_id=facility.id,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            reason="Drill",
        )
    )
    db.session.commit()
    login(client, factory.coordinator().email)
    page = client.get(f"{BASE}/facilities/{facility.id}/closures").get_data(as_text=True)
    assert re.search(r"Jul 1, 2031\s+9:00\s+AM", page), page
    assert "9:00:00" not in page


def test_facility_manager_creates_a_resource_in_their_facility(client, two_facilities):
    mine, manager = two_facilities[0], two_facilities[4]
    login(client, manager.email)
    page = client.get(f"{BASE}/resources/new?facility={mine.id}").get_data(as_text=True)
    assert f'<option selected value="{mine.id}">' in page
    response = post_form(client, f"{BASE}/resources/new", resource_form_data(mine))
    assert response.status_code == 302
    resource = db.session.scalar(select(Resource).where(Resource.code == "INS-NEW-01"))
    assert resource.facility_id == mine.id
    assert audit_actions(actor_id=manager.id)[-1] == "catalogue.resource_created"


def test_a_code_saved_at_the_same_time_is_reported_beside_the_field(client, factory, monkeypatch):
    facility = factory.facility()
    factory.resource(facility=facility, code="INS-RACE-01")
    login(client, factory.coordinator().email)
    # Simulate the race: the uniqueness check runs before the other person's row is visible.
    monkeypatch.setattr(services, "_code_taken", lambda code: False)
    response = post_form(
        client, f"{BASE}/resources/new", resource_form_data(facility, code="INS-RACE-01")
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="code-error"' in page and "just saved with this code" in page
    assert db.session.scalar(select(func.count(Resource.id))) == 1


def test_only_facility_manager_staff_can_be_assigned(app, factory):
    coordinator = factory.coordinator()
    partner = factory.partner()
    data = services.FacilityData(
        code="FAC-X",
        name="X",
        timezone="Asia/Seoul",
        contact_email="x@ipk.example",
        managers=[partner],
    )
    with pytest.raises(services.InvalidData) as caught:
        services.create_facility(coordinator, data)
    assert "managers" in caught.value.errors
    manager = factory.facility_manager()
    with pytest.raises(services.NotAllowed):
        services.create_facility(manager, services.FacilityData(code="FAC-Y", name="Y"))
    db.session.rollback()
    assert db.session.scalar(select(func.count(Facility.id))) == 0


def test_index_pages_through_many_resources(client, factory):
    facility = factory.facility()
    codes = [factory.resource(facility=facility).code for _number in range(51)]
    login(client, factory.coordinator().email)
    first = client.get(f"{BASE}/?status=all").get_data(as_text=True)
    assert "status=all&amp;page=2" in first or "page=2&amp;status=all" in first
    assert codes[0] in first and codes[-1] not in first
    second = client.get(f"{BASE}/?status=all&page=2")
    assert second.status_code == 200 and codes[-1] in second.get_data(as_text=True)
