"""Every page that shows user-supplied text shows it escaped.

Every text a user can write (names, addresses, descriptions, request answers, comments, reasons,
file names, audit details, e-mails in the mail log) holds a small HTML payload with its own tag.
Each role then walks every page reachable by links from its home page. No HTML response may
carry a payload as markup, and every payload must have been seen escaped somewhere: a field that
is never shown would make its check empty, so the test fails on that too.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from rrc import audit
from rrc.extensions import db
from rrc.models import (
    BookingMode,
    Closure,
    DocumentType,
    OrganisationStatus,
    ResourceKind,
    UsageMode,
    UserStatus,
)
from rrc.models.types import utcnow
from rrc.requests import services
from tests.conftest import BIOSAFETY, COMMON, MATERIAL, PDF, login

# Short enough for every column it goes into; the quotes test attribute contexts.
RAW = re.compile(r"<s>(X\d+)")
ESCAPED = re.compile(r"&lt;s&gt;(X\d+)")
LONG_SCRIPT = "<script>alert(document.domain)</script>"

# Links that change nothing but are not pages: files, feeds, exports; and the endless calendars.
NOT_PAGES = re.compile(
    r"/(attachments/\d+|photo|calendar|feed|export)|\.(ics|csv|png|jpg|pdf)$|^/static/"
)
MAX_PAGES_PER_ROLE = 250


class Payloads:
    """Hands out a distinct payload per field and remembers which field got which."""

    def __init__(self):
        self.fields: dict[str, str] = {}

    def __call__(self, field: str, long: bool = False) -> str:
        tag = f"X{len(self.fields) + 1}"
        self.fields[tag] = field
        text = f"<s>{tag}</s>\"'"
        return f"{text} {LONG_SCRIPT}" if long else text


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_of(url: str, html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        absolute = urljoin("http://localhost" + url, href)
        parts = urlsplit(absolute)
        if parts.netloc != "localhost" or parts.scheme not in ("http", "https"):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(client, start_pages: list[str]) -> tuple[dict[str, set[str]], set[str], int]:
    """Visit every page reachable from ``start_pages`` (each path once, whatever the query).

    Returns the raw payloads found per page, the escaped tags seen, and the pages visited.
    """
    leaks: dict[str, set[str]] = {}
    seen_escaped: set[str] = set()
    queue = list(start_pages)
    visited_paths: set[str] = set()
    visited = 0
    while queue and visited < MAX_PAGES_PER_ROLE:
        url = queue.pop(0)
        path = urlsplit(url).path
        if path in visited_paths or NOT_PAGES.search(path):
            continue
        visited_paths.add(path)
        response = client.get(url)
        visited += 1
        if response.status_code in (301, 302, 303):
            queue.append(response.headers["Location"])
            continue
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        raw = set(RAW.findall(html))
        if raw or LONG_SCRIPT in html:
            leaks[url] = raw or {"<script>"}
        seen_escaped.update(ESCAPED.findall(html))
        queue.extend(links_of(url, html))
    return leaks, seen_escaped, visited


@pytest.fixture
def world(factory, people, pathogen):
    """Everything a user can write, filled with payloads."""
    payload = Payloads()
    partner = people["partner"]
    organisation = partner.organisation
    organisation.name = payload("organisation.name")
    organisation.local_name = payload("organisation.local_name")
    organisation.address = payload("organisation.address", long=True)
    partner.name = payload("partner.name")
    partner.position = payload("partner.position")
    partner.phone = payload("partner.phone")
    # Waiting for vetting: a person proposing a new organisation.
    proposed = factory.organisation(
        name=payload("proposed_organisation.name"),
        business_registration_no=payload("proposed_organisation.registration_no"),
        status=OrganisationStatus.PENDING,
    )
    factory.partner(
        organisation=proposed,
        name=payload("pending_partner.name"),
        status=UserStatus.PENDING_APPROVAL,
        email_verified_at=utcnow(),
    )
    factory.partner(
        name=payload("rejected_partner.name"),
        status=UserStatus.REJECTED,
        rejection_reason=payload("rejected_partner.reason", long=True),
    )

    facility = people["facility"]
    facility.name = payload("facility.name")
    facility.description = payload("facility.description", long=True)
    facility.location = payload("facility.location")
    facility.contact_phone = payload("facility.contact_phone")
    pathogen.name = payload("resource.name")
    pathogen.summary = payload("resource.summary", long=True)
    pathogen.description = payload("resource.description", long=True)
    pathogen.unit_label = payload("resource.unit_label")
    pathogen.availability_note = payload("resource.availability_note")
    pathogen.training_requirement = payload("resource.training_requirement")
    instrument = factory.resource(
        facility=facility,
        name=payload("instrument.name"),
        kind=ResourceKind.INSTRUMENT,
        booking_mode=BookingMode.SLOT,
        biosafety_level=2,
        approval_chain=["coordinator", "facility_manager"],
    )
    soon = utcnow() + timedelta(days=3)
    db.session.add(
        Closure(
            facility=facility,
            starts_at=soon,
            ends_at=soon + timedelta(days=1),
            reason=payload("closure.reason"),
        )
    )
    db.session.commit()

    answers = {
        **COMMON,
        **BIOSAFETY,
        **MATERIAL,
        "title": payload("request.title"),
        "purpose": payload("request.purpose", long=True),
        "principal_investigator": payload("request.principal_investigator"),
        "payer": payload("request.payer"),
        "billing_contact": payload("request.billing_contact"),
        "po_number": payload("request.po_number"),
        "agent_name": payload("request.agent_name"),
        "ibc_approval_number": payload("request.ibc_approval_number"),
        "material_form": payload("request.material_form"),
        "shipping_address": payload("request.shipping_address", long=True),
        "receiving_person": payload("request.receiving_person"),
        "receiving_phone": payload("request.receiving_phone"),
        "training_evidence": payload("request.training_evidence", long=True),
    }
    material_request = services.create_draft(partner, pathogen, answers)
    services.add_attachment(
        partner,
        material_request,
        PDF,
        # No "/" in a file name: only the last part of a path is kept.
        payload("attachment.filename").replace("</s>", "") + ".pdf",
        DocumentType.IBC_APPROVAL,
    )
    services.submit(partner, material_request)
    services.add_comment(partner, material_request, payload("comment.shared", long=True))
    services.add_comment(
        people["coordinator"],
        material_request,
        payload("comment.internal", long=True),
        internal=True,
    )
    services.request_changes(
        people["coordinator"],
        material_request,
        material_request.current_step.id,
        payload("changes_requested.reason", long=True),
    )
    services.resubmit(partner, material_request, payload("resubmit.message"))

    cancelled = services.create_draft(
        partner,
        instrument,
        {
            **COMMON,
            **BIOSAFETY,
            "title": "Cancelled",
            "requested_minutes": 120,
            "usage_mode": UsageMode.SELF_USE,
            "preferred_dates": payload("request.preferred_dates"),
        },
    )
    services.submit(partner, cancelled)
    services.cancel(partner, cancelled, payload("cancel.reason", long=True))
    audit.record(people["coordinator"], "test.note", detail=payload("audit.detail"))
    db.session.commit()
    return {"payloads": payload, "request": material_request, "resource": pathogen}


def test_every_page_of_every_role_shows_user_text_escaped(client, factory, people, world):
    reference = world["request"].reference
    code = world["resource"].code
    admin = factory.admin(name="Admin Person")
    roles = {
        "visitor": (None, ["/", "/catalogue/", f"/catalogue/{code}"]),
        "partner": (people["partner"], ["/", f"/requests/{reference}", "/account/profile"]),
        "coordinator": (people["coordinator"], ["/", "/vetting/", f"/requests/{reference}"]),
        "facility manager": (people["manager"], ["/", f"/requests/{reference}"]),
        "biosafety officer": (people["biosafety"], ["/", f"/requests/{reference}"]),
        "administrator": (admin, ["/", "/admin/users", "/admin/mail", "/admin/audit"]),
    }
    all_escaped: set[str] = set()
    report = []
    for role, (user, start_pages) in roles.items():
        with client.session_transaction() as session:
            session.clear()
        if user is not None:
            assert login(client, user.email).status_code == 302
        leaks, escaped, visited = crawl(client, start_pages)
        all_escaped |= escaped
        report.append(f"{role}: {visited} pages")
        assert not leaks, f"{role} sees unescaped user text: {leaks}"
        assert visited > 3, report
    fields = world["payloads"].fields
    never_shown = sorted(fields[tag] for tag in set(fields) - all_escaped)
    assert not never_shown, f"fields never shown on any page ({'; '.join(report)}): {never_shown}"


def test_the_checks_would_catch_a_leak():
    """The patterns this test relies on see markup and skip escaped text."""
    assert RAW.findall("<p><s>X7</s>\"'</p>") == ["X7"]
    assert RAW.findall("<p>&lt;s&gt;X7&lt;/s&gt;&#34;&#39;</p>") == []
    assert ESCAPED.findall("<p>&lt;s&gt;X7&lt;/s&gt;</p>") == ["X7"]
    assert links_of("/a/b", '<a href="c?x=1">c</a><a href="https://evil.example/">e</a>') == [
        "/a/c?x=1"
    ]
