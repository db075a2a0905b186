"""The public catalogue: list, search, facets, resource pages, photos, the apply page."""

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import event

from rrc.catalogue.photos import store_photo
from rrc.extensions import db
from rrc.models import (
    BookingMode,
    Closure,
    OrganisationStatus,
    OrganisationType,
    PriceTier,
    ResourceKind,
    UserStatus,
)
from rrc.models.types import utcnow
from tests.conftest import login

OPERETTA = "Operetta high-content imager"
OPERETTA_KO = "오페레타 고함량 이미징 장비"
PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;")


def html(response) -> str:
    """The page's text, after checking it rendered."""
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def main_part(page: str) -> str:
    """The ``<main>`` element only (navigation and footer left out)."""
    start, end = page.find('<main id="main"'), page.find("</main>")
    return page[start:end] if start >= 0 and end >= 0 else page


def result_codes(page: str) -> list[str]:
    """Codes of the resources listed, in order."""
    return re.findall(r'<a href="/catalogue/([^"/?]+)">', main_part(page))


@pytest.fixture
def operetta(factory):
    """The Operetta imager of DOMAIN.md, with an English and a Korean name."""
    facility = factory.facility(code="FAC-SCREEN", name="Screening platform")
    return factory.resource(
        code="INS-HCS-02",
        name=OPERETTA,
        name_ko=OPERETTA_KO,
        summary="Automated confocal imaging of 96- and 384-well plates.",
        facility=facility,
    )


def partner_of(factory, org_type: OrganisationType, **values):
    """An active partner of a verified organisation of ``org_type``."""
    organisation = factory.organisation(org_type=org_type, **values)
    return factory.partner(organisation=organisation)


# --- The list ----------------------------------------------------------------------------------


def test_nav_links_to_the_catalogue_for_everyone(client, factory):
    assert 'href="/catalogue/"' in html(client.get("/"))
    login(client, factory.partner().email)
    assert 'href="/catalogue/"' in html(client.get("/"))


def test_list_shows_active_resources_to_visitors(client, factory, operetta):
    flow = factory.resource(code="INS-FCM-01", name="Flow cytometer, BSL-2 (self-use)")
    page = html(client.get("/catalogue/"))
    assert result_codes(page) == ["INS-FCM-01", "INS-HCS-02"]
    assert OPERETTA in page and flow.name in page
    assert "Screening platform" in page
    assert "2 resources" in page
    # Visitors see the lowest public rate, never the internal one.
    assert "from" in page and "₩60,000 per hour" in page
    assert "₩20,000" not in page


@pytest.mark.parametrize(
    ("org_type", "price", "tier_name"),
    [
        (OrganisationType.UNIVERSITY, "₩60,000", "Academic"),
        (OrganisationType.SME, "₩90,000", "SME"),
        (OrganisationType.LARGE_COMPANY, "₩180,000", "Industry"),
        (OrganisationType.INTERNAL, "₩20,000", "Internal"),
    ],
)
def test_partner_sees_the_price_of_their_tier(
    client, factory, operetta, org_type, price, tier_name
):
    login(client, partner_of(factory, org_type).email)
    listing = main_part(html(client.get("/catalogue/")))
    assert re.search(
        rf'Your price</span><br>\s*<span class="fw-semibold">{price} per hour', listing
    )
    assert f"your organisation's tier: {tier_name}" in listing
    others = {"₩20,000", "₩60,000", "₩90,000", "₩180,000"} - {price}
    assert not any(other in listing for other in others)

    page = main_part(html(client.get("/catalogue/INS-HCS-02")))
    # Their own price comes first, clearly marked, before the table of every tier.
    assert re.search(
        rf'Your price \({tier_name} tier\)</div>\s*<div class="fs-5 fw-semibold">{price} per hour',
        page,
    )
    assert page.index("Your price (") < page.index("Rates per tier")
    # ... and their tier's row of the rate table is marked too.
    assert re.search(
        rf'<tr class="table-primary">\s*<th scope="row">{tier_name} <span class="small">'
        r"\(your tier\)</span></th>\s*<td>" + re.escape(price),
        page,
    )
    if org_type == OrganisationType.INTERNAL:
        assert "₩20,000" in page
    else:
        assert "₩20,000" not in page, "the internal rate is shown to internal users only"


def test_visitor_sees_every_public_tier_but_not_the_internal_rate(client, operetta):
    page = main_part(html(client.get("/catalogue/INS-HCS-02")))
    for tier, price in (("Academic", "₩60,000"), ("SME", "₩90,000"), ("Industry", "₩180,000")):
        assert re.search(rf'<th scope="row">{tier}</th>\s*<td>{price} per hour', page)
    assert "Internal" not in page and "₩20,000" not in page
    assert "Your price" not in page


def test_staff_see_every_tier_including_internal(client, factory, operetta):
    login(client, factory.coordinator().email)
    listing = main_part(html(client.get("/catalogue/")))
    assert "from" in listing and "₩60,000 per hour" in listing
    page = main_part(html(client.get("/catalogue/INS-HCS-02")))
    for price in ("₩20,000", "₩60,000", "₩90,000", "₩180,000"):
        assert price in page
    assert "Your price" not in page


def test_unverified_internal_organisation_does_not_see_the_internal_rate(client, factory, operetta):
    partner = partner_of(factory, OrganisationType.INTERNAL, status=OrganisationStatus.PENDING)
    login(client, partner.email)
    page = main_part(html(client.get("/catalogue/INS-HCS-02")))
    assert "₩20,000" not in page
    assert "Your price" not in page


def test_pending_organisation_sees_its_tier_with_a_note(client, factory, operetta):
    partner = partner_of(factory, OrganisationType.SME, status=OrganisationStatus.PENDING)
    login(client, partner.email)
    page = main_part(html(client.get("/catalogue/INS-HCS-02")))
    assert "Your price (SME tier)" in page
    assert "awaiting verification" in page


@pytest.mark.parametrize("term", ["operetta", "OPERETTA", "imager", "Imager", "이미징", "hcs-02"])
def test_search_finds_the_operetta(client, factory, operetta, term):
    factory.resource(code="INS-QPCR-01", name="Real-time PCR system, 96-well", summary="qPCR")
    page = html(client.get("/catalogue/", query_string={"q": term}))
    assert result_codes(page) == ["INS-HCS-02"]


def test_search_in_korean_shows_korean_names(client, operetta):
    page = html(client.get("/catalogue/?q=이미징", headers={"Accept-Language": "ko"}))
    assert OPERETTA_KO in page
    assert result_codes(page) == ["INS-HCS-02"]


def test_search_that_matches_nothing_shows_a_helpful_empty_state(client, factory, operetta):
    page = main_part(html(client.get("/catalogue/?q=cryo-electron+microscope&kind=instrument")))
    assert result_codes(page) == []
    assert "No resource matches “cryo-electron microscope”." in page
    assert "Search: <strong>cryo-electron microscope</strong>" in page
    assert "Type of resource: <strong>Instrument" in page
    assert '<a href="/catalogue/">Clear all filters and show every resource</a>' in page
    assert 'href="/catalogue/?q=cryo-electron+microscope"' in page
    assert 'href="mailto:rrc@ip-korea.org"' in page


def test_empty_catalogue_says_so(client):
    page = main_part(html(client.get("/catalogue/")))
    assert "The catalogue has no resources yet." in page
    assert "rrc@ip-korea.org" in page


@pytest.fixture
def mixed(factory):
    """Resources that differ on every facet."""
    bsl3 = factory.facility(code="FAC-BSL3", name="BSL-3 laboratory", biosafety_level=3)
    bank = factory.facility(code="FAC-BANK", name="Specimen bank", biosafety_level=2)
    factory.resource(
        code="FAC-BSL3-01",
        name="BSL-3 Suite A",
        kind=ResourceKind.SPACE,
        biosafety_level=3,
        facility=bsl3,
        unit_label="4 h block",
        unit_minutes=240,
    )
    factory.resource(
        code="BIO-PATH-01",
        name="SARS-CoV-2 variant isolate",
        kind=ResourceKind.MATERIAL,
        biosafety_level=3,
        high_risk_pathogen=True,
        booking_mode=BookingMode.QUANTITY,
        facility=bank,
    )
    factory.resource(
        code="BIO-CELL-01",
        name="Vero E6 cell stock",
        kind=ResourceKind.MATERIAL,
        biosafety_level=1,
        booking_mode=BookingMode.QUANTITY,
        facility=bank,
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=material", ["BIO-CELL-01", "BIO-PATH-01"]),
        ("kind=space", ["FAC-BSL3-01"]),
        ("facility=FAC-BANK", ["BIO-CELL-01", "BIO-PATH-01"]),
        ("bsl=3", ["BIO-PATH-01", "FAC-BSL3-01"]),
        ("bsl=1", ["BIO-CELL-01"]),
        ("mode=slot", ["FAC-BSL3-01"]),
        ("mode=quantity&bsl=3", ["BIO-PATH-01"]),
        ("facility=FAC-BANK&q=vero", ["BIO-CELL-01"]),
    ],
)
def test_facets_filter(client, mixed, query, expected):
    assert result_codes(html(client.get(f"/catalogue/?{query}"))) == expected


def test_facets_show_counts_under_the_other_filters(client, mixed):
    page = html(client.get("/catalogue/?facility=FAC-BANK"))
    assert '<option value="material">Material (2)</option>' in page
    assert '<option value="space">Space (0)</option>' in page
    assert '<option value="3">BSL-3 (1)</option>' in page
    # The facility facet ignores its own filter: switching facility shows what you would get.
    assert '<option value="FAC-BSL3">BSL-3 laboratory (1)</option>' in page
    assert '<option selected value="FAC-BANK">Specimen bank (2)</option>' in page
    # The filter in force can be removed on its own.
    assert "Facility: Specimen bank</span>" in page
    assert '<a class="small" href="/catalogue/">Remove filter Facility</a>' in page


@pytest.mark.parametrize(
    "query",
    [
        "kind=bogus",
        "bsl=9",
        "bsl=abc",
        "mode=sideways",
        "sort=1;drop%20table%20resource",
        "facility=NOPE",
        "page=abc",
        "page=-4",
        "page=0",
        "page=1000000000000000000000000",
        "q=" + "x" * 500,
        "q=%25_%5C",
        "kind=material&kind=space",
    ],
)
def test_invalid_filter_values_are_ignored(client, mixed, query):
    page = html(client.get(f"/catalogue/?{query}"))
    assert len(result_codes(page)) in (0, 1, 2, 3)
    if query.split("=")[0] in ("kind", "bsl", "mode", "sort", "facility") and "&" not in query:
        assert len(result_codes(page)) == 3
        assert "Not a valid choice" in page


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("code", ["BIO-CELL-01", "BIO-PATH-01", "FAC-BSL3-01"]),
        ("name", ["FAC-BSL3-01", "BIO-PATH-01", "BIO-CELL-01"]),
        ("facility", ["BIO-CELL-01", "BIO-PATH-01", "FAC-BSL3-01"]),
        ("biosafety", ["BIO-PATH-01", "FAC-BSL3-01", "BIO-CELL-01"]),
    ],
)
def test_sorting(client, mixed, sort, expected):
    assert result_codes(html(client.get(f"/catalogue/?sort={sort}"))) == expected


def test_korean_readers_sort_by_the_names_they_see(client, factory):
    factory.resource(code="A-1", name="Zebra", name_ko="가나다")
    factory.resource(code="A-2", name="Apple", name_ko="하하하")
    factory.resource(code="A-3", name="Mango")
    english = html(client.get("/catalogue/?sort=name"))
    assert result_codes(english) == ["A-2", "A-3", "A-1"]
    korean = html(client.get("/catalogue/?sort=name", headers={"Accept-Language": "ko"}))
    assert result_codes(korean) == ["A-3", "A-1", "A-2"]


def test_pagination(client, factory):
    facility = factory.facility()
    for number in range(25):
        factory.resource(code=f"INS-P-{number:03d}", facility=facility)
    first = html(client.get("/catalogue/?sort=code"))
    assert result_codes(first) == [f"INS-P-{number:03d}" for number in range(20)]
    assert "25 resources" in first
    assert "Page 1 of 2" in first
    assert 'href="/catalogue/?sort=code&amp;page=2"' in first
    second = html(client.get("/catalogue/?sort=code&page=2"))
    assert result_codes(second) == [f"INS-P-{number:03d}" for number in range(20, 25)]
    assert 'href="/catalogue/?sort=code&amp;page=1"' in second
    beyond = html(client.get("/catalogue/?sort=code&page=7"))
    assert result_codes(beyond) == []
    assert "There is no page 7" in beyond
    assert 'href="/catalogue/"' in beyond


# --- Query count ---------------------------------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements the engine runs while active."""

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    def count(self, client, url: str) -> int:
        client.get(url)  # warm-up: the first request may load things once
        self.statements.clear()
        event.listen(db.engine, "before_cursor_execute", self)
        try:
            response = client.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", self)
        assert response.status_code == 200
        return len(self.statements)


def _add_resources(factory, how_many: int, start: int) -> None:
    for number in range(start, start + how_many):
        factory.resource(
            code=f"INS-Q-{number:03d}",
            name=f"Instrument {number}",
            photo_filename=f"{number:032x}.jpg",
            rates={PriceTier.ACADEMIC: (1000 + number, 5000), PriceTier.INDUSTRY: None},
        )


@pytest.mark.parametrize("viewer", ["visitor", "partner", "staff"])
def test_list_issues_the_same_number_of_queries_for_1_and_50_resources(client, factory, viewer):
    if viewer == "partner":
        login(client, partner_of(factory, OrganisationType.UNIVERSITY).email)
    elif viewer == "staff":
        login(client, factory.coordinator().email)
    counter = QueryCounter()
    _add_resources(factory, 1, 0)
    one = counter.count(client, "/catalogue/?sort=name")
    _add_resources(factory, 49, 1)
    fifty = counter.count(client, "/catalogue/?sort=name")
    assert one == fifty, counter.statements
    page = html(client.get("/catalogue/?q=instrument"))
    assert "50 resources" in page


# --- Retired and unknown resources -------------------------------------------------------------


def test_retired_resources_are_absent_and_404(client, factory, operetta):
    retired = factory.resource(code="INS-OLD-01", name="Retired imager", active=False)
    closed = factory.facility(code="FAC-GONE", active=False)
    orphan = factory.resource(
        code="INS-ORPH-01", name="Imager of a closed facility", facility=closed
    )
    page = html(client.get("/catalogue/?q=imager"))
    assert result_codes(page) == ["INS-HCS-02"]
    assert "FAC-GONE" not in page
    for resource in (retired, orphan):
        for suffix in ("", "/apply", "/photo"):
            assert client.get(f"/catalogue/{resource.code}{suffix}").status_code == 404
    assert client.get("/catalogue/NO-SUCH-CODE").status_code == 404
    assert client.get("/catalogue/NO-SUCH-CODE/apply").status_code == 404


# --- Photos --------------------------------------------------------------------------------------


def _image(mode: str, image_format: str) -> bytes:
    buffer = io.BytesIO()
    colour = (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)
    Image.new(mode, (40, 30), colour).save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("mode", "image_format", "mimetype", "magic"),
    [("RGB", "JPEG", "image/jpeg", b"\xff\xd8\xff"), ("RGBA", "PNG", "image/png", b"\x89PNG")],
)
def test_photo_is_served_with_its_type(client, operetta, mode, image_format, mimetype, magic):
    operetta.photo_filename = store_photo(_image(mode, image_format))
    db.session.commit()
    listing = html(client.get("/catalogue/"))
    match = re.search(r'<img src="(/catalogue/INS-HCS-02/photo\?v=[0-9a-f]+)"', listing)
    assert match
    response = client.get(match.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age" in response.headers["Cache-Control"]
    assert response.data.startswith(magic)
    response.close()
    page = html(client.get("/catalogue/INS-HCS-02"))
    assert f'alt="Photo of {OPERETTA}"' in page


def test_photo_404_without_one(client, operetta):
    assert client.get("/catalogue/INS-HCS-02/photo").status_code == 404
    assert "/photo" not in main_part(html(client.get("/catalogue/")))
    # A name recorded without its file is a 404, not a 500.
    operetta.photo_filename = "0123456789abcdef0123456789abcdef.jpg"
    db.session.commit()
    assert client.get("/catalogue/INS-HCS-02/photo").status_code == 404


# --- The resource page ---------------------------------------------------------------------------


def test_resource_page_of_a_slot_instrument(client, factory):
    facility = factory.facility(
        name="Screening platform",
        location="Building B, room 201",
        contact_email="screening@ip-korea.org",
        contact_phone="+82 31 8018 8000",
    )
    factory.resource(
        code="INS-FCM-01",
        name="Flow cytometer",
        facility=facility,
        description="First paragraph.\nSecond line.\n\nAnother paragraph.",
        slot_granularity_minutes=30,
        min_duration_minutes=60,
        max_duration_minutes=270,
        min_notice_hours=48,
        max_advance_days=60,
        buffer_minutes=15,
        cancellation_notice_hours=24,
        opening_hours={"1": ["08:00", "20:00"], "6": ["10:00", "14:00"]},
        training_requirement="Instrument training by the facility staff",
        required_documents=["training_certificate"],
    )
    page = main_part(html(client.get("/catalogue/INS-FCM-01")))
    assert "<p>First paragraph.<br>Second line.</p>" in page
    assert "<p>Another paragraph.</p>" in page
    assert "Building B, room 201" in page
    assert 'href="mailto:screening@ip-korea.org"' in page
    assert 'href="tel:+823180188000"' in page
    for text in (
        "30 minutes",
        "from 1 hour to 4 h 30 min",
        "48 hours before the start",
        "60 days ahead",
        "15 minutes",
        "free up to 24 hours before the start",
        "this resource's own hours",
    ):
        assert text in page, text
    assert re.search(r"Monday</th><td>08:00\u201320:00", page)
    assert re.search(r"Tuesday</th><td>Closed", page)
    assert re.search(r"Saturday</th><td>10:00\u201314:00", page)
    assert "Training certificate" in page
    assert "Instrument training by the facility staff" in page
    assert "Biosafety level 2" in page
    assert "An RRC coordinator checks that your request is complete" in page
    assert "The facility manager checks feasibility" in page
    assert "biosafety officer" not in page
    assert 'href="/catalogue/INS-FCM-01/apply">Request this' in page


def test_resource_page_of_a_hazardous_material(client, factory):
    factory.resource(
        code="BIO-HS-01",
        name="SFTS patient serum",
        kind=ResourceKind.MATERIAL,
        booking_mode=BookingMode.QUANTITY,
        unit_label="200 µL aliquot",
        biosafety_level=3,
        high_risk_pathogen=True,
        human_specimen=True,
        animal_work=True,
        gmo=True,
        lead_time_days=10,
        availability_note="12 aliquots in stock",
        required_documents=["irb_approval", "use_plan", "signed_mta", "not_a_document_type"],
        approval_chain=["coordinator", "facility_manager", "biosafety"],
    )
    page = main_part(html(client.get("/catalogue/BIO-HS-01")))
    for text in (
        "BSL-3",
        "High-risk pathogen",
        "Biosafety level 3",
        "prior notice to the disease-control agency",
        "IRB approval first",
        "IACUC protocol",
        "GMO/LMO",
        "about 10 days from approval",
        "12 aliquots in stock",
        "₩60,000 per 200 µL aliquot",
        "IRB approval of the recipient",
        "Use plan for the material",
        "Signed material transfer agreement (MTA)",
        "not_a_document_type",
        "institutional biosafety committee (IBC) approval number",
        "your IRB approval number",
        "IACUC protocol number",
        "Shipping:",
        "one unit: 200 µL aliquot",
        "The biosafety officer reviews compliance",
    ):
        assert text in page, text
    assert "Bookable in steps of" not in page
    assert "The work: your samples" not in page


def test_resource_page_of_a_service_with_setup_fee_and_quotes(client, factory):
    factory.resource(
        code="SVC-HTS-01",
        name="Phenotypic screening campaign",
        kind=ResourceKind.SERVICE,
        booking_mode=BookingMode.QUANTITY,
        unit_label="384-well plate",
        biosafety_level=0,
        approval_chain=[],
        rates={
            PriceTier.ACADEMIC: (150_000, 3_000_000),
            PriceTier.SME: (0, None),
            PriceTier.INDUSTRY: None,
        },
    )
    page = main_part(html(client.get("/catalogue/SVC-HTS-01")))
    assert "₩150,000 per 384-well plate + set-up fee ₩3,000,000" in page
    assert re.search(r"SME</th>\s*<td>Free", page)
    assert re.search(r"Industry</th>\s*<td>On quote", page)
    assert "No containment" in page
    assert "The work: your samples or compounds" in page
    assert "Biosafety: the agent" not in page
    assert "No approval needed: confirmed on submission." in page
    assert "agreed with the facility" in page


def test_resource_page_shows_upcoming_closures_in_the_facility_zone(client, factory):
    facility = factory.facility(timezone="Asia/Kolkata")
    resource = factory.resource(code="INS-CL-01", facility=facility)
    midnight = (utcnow() + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    db.session.add_all(
        [
            Closure(
                facility=facility,
                starts_at=midnight,
                ends_at=midnight + timedelta(days=1),
                reason="Annual decontamination",
            ),
            Closure(
                resource=resource,
                starts_at=midnight + timedelta(days=5),
                ends_at=midnight + timedelta(days=5, hours=4),
                reason="Laser service",
            ),
            Closure(
                resource=resource,
                starts_at=midnight - timedelta(days=10),
                ends_at=midnight - timedelta(days=9),
                reason="Past closure",
            ),
        ]
    )
    db.session.commit()
    page = main_part(html(client.get("/catalogue/INS-CL-01")))
    assert "Annual decontamination" in page and "Laser service" in page
    assert "Past closure" not in page
    assert "(Asia/Kolkata)" in page
    assert "5:30:00" in page  # midnight UTC in Kolkata
    assert page.index("Annual decontamination") < page.index("Laser service")
    assert "whole facility" in page


def test_resource_page_in_korean(client, operetta):
    operetta.summary_ko = "자동화된 이미징"
    operetta.unit_label_ko = "시간"
    db.session.commit()
    page = html(client.get("/catalogue/INS-HCS-02", headers={"Accept-Language": "ko"}))
    assert OPERETTA_KO in page
    assert "자동화된 이미징" in page
    assert "시간" in page


# --- The apply page ------------------------------------------------------------------------------


def test_apply_page_for_visitors_points_to_an_account(client, factory):
    factory.resource(
        code="BIO-PATH-01",
        name="SARS-CoV-2 isolate",
        kind=ResourceKind.MATERIAL,
        booking_mode=BookingMode.QUANTITY,
        biosafety_level=3,
        high_risk_pathogen=True,
        required_documents=["bl3_permit", "transfer_notice"],
    )
    page = main_part(html(client.get("/catalogue/BIO-PATH-01/apply")))
    assert "How to request SARS-CoV-2 isolate" in page
    assert 'href="/signup"' in page
    assert 'href="/login?next=/catalogue/BIO-PATH-01/apply"' in page
    assert "Recipient&#39;s BL3 facility permit" in page
    assert "High-risk pathogen transfer notice" in page
    assert "Shipping:" in page
    assert "An RRC coordinator checks" in page
    assert 'href="mailto:rrc@ip-korea.org"' in page
    # The links on the page lead somewhere.
    for link in re.findall(r'href="(/[^"]*)"', page):
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_apply_page_for_an_approved_partner_leads_to_the_form(client, factory, operetta):
    login(client, partner_of(factory, OrganisationType.SME).email)
    page = main_part(html(client.get("/catalogue/INS-HCS-02/apply")))
    assert "Your organisation pays the SME rate." in page
    assert 'href="/requests/new/INS-HCS-02"' in page
    assert 'href="/signup"' not in page
    resource_page = main_part(html(client.get("/catalogue/INS-HCS-02")))
    assert 'href="/requests/new/INS-HCS-02"' in resource_page


def test_apply_page_for_a_partner_awaiting_vetting(client, factory, operetta):
    partner = factory.partner(status=UserStatus.PENDING_APPROVAL)
    login(client, partner.email)
    page = main_part(html(client.get("/catalogue/INS-HCS-02/apply")))
    assert "still being vetted" in page
    assert "/requests/new/" not in page


def test_apply_page_for_staff(client, factory, operetta):
    login(client, factory.coordinator().email)
    page = main_part(html(client.get("/catalogue/INS-HCS-02/apply")))
    assert "signed in as IPK staff" in page


# --- Escaping --------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_text_fields_are_escaped_everywhere(client, factory, payload, language):
    facility = factory.facility(
        code="FAC-XSS",
        name=payload,
        name_ko=payload,
        description=payload,
        location=payload,
        contact_email="x@example.org",
        contact_phone=payload,
    )
    resource = factory.resource(
        code="INS-XSS-01",
        facility=facility,
        name=payload,
        name_ko=payload,
        summary=payload,
        summary_ko=payload,
        description=f"{payload}\n\n{payload}",
        description_ko=payload,
        unit_label=payload,
        unit_label_ko=payload,
        availability_note=payload,
        training_requirement=payload,
        booking_mode=BookingMode.QUANTITY,
        unit_minutes=None,
    )
    db.session.add(
        Closure(
            resource=resource,
            starts_at=utcnow() + timedelta(days=1),
            ends_at=utcnow() + timedelta(days=2),
            reason=payload,
        )
    )
    db.session.commit()
    escaped = ESCAPED[PAYLOADS.index(payload)]
    headers = {"Accept-Language": language}
    for url, query in (
        ("/catalogue/", {}),
        ("/catalogue/", {"q": "alert"}),
        ("/catalogue/", {"facility": "FAC-XSS"}),
        ("/catalogue/", {"q": payload}),
        ("/catalogue/", {"q": "nothing " + payload}),
        ("/catalogue/INS-XSS-01", {}),
        ("/catalogue/INS-XSS-01/apply", {}),
    ):
        page = html(client.get(url, query_string=query, headers=headers))
        assert payload not in page, (url, query)
        assert "<script>alert" not in page and "<img src=x" not in page, (url, query)
        assert escaped in page, (url, query)
