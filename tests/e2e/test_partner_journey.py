"""Journeys (a) and (d) of issue 6: a partner signs up, confirms the e-mail from the mail
received, is vetted by a coordinator, books two Operetta sessions through the request form's slot
picker, the coordinator and the facility manager approve, and the partner sees the sessions
confirmed and downloads them as an .ics file. Once in English proposing a new organisation, once
in Korean joining an existing one."""

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.e2e.steps import (
    COORDINATOR,
    OPERETTA,
    OPERETTA_NAMES,
    SCREENING_MANAGER,
    Language,
    NewPartner,
    approve,
    log_in,
    open_from_queue,
    request_operetta,
    seoul_time,
    sign_up,
    switch_language,
    unique,
    vet_partner,
)

pytestmark = pytest.mark.e2e

# Each language books another hour, so the two journeys never compete for the same cells.
JOURNEYS = {
    "en": {"times": ("10:00", "10:30"), "organisation": None},
    "ko": {"times": ("14:00", "14:30"), "organisation": "Hanbit University (한빛대학교)"},
}


def ics_events(data: bytes) -> list:
    """The VEVENTs of an iCalendar file (parsing fails the test if the file is broken)."""
    return Calendar.from_ical(data).walk("VEVENT")


@pytest.mark.parametrize("code", ["en", "ko"], ids=["english-new-organisation", "korean"])
def test_partner_signs_up_books_sessions_and_gets_them_confirmed(portal, open_page, code):
    t = Language(code)
    journey = JOURNEYS[code]
    mailbox = portal.mailbox
    token = unique("")
    partner = NewPartner(email=f"e2e-{code}-{token}@example.org", name=f"Ada Lovelace {token}")

    # --- sign up, in the partner's language -------------------------------------------------
    page = open_page()
    page.goto("/")
    if code == "ko":
        switch_language(page, t)
        # The menu and the home page now speak Korean.
        expect(page.get_by_role("link", name="회원가입", exact=True)).to_be_visible()
        expect(page.get_by_role("link", name="카탈로그", exact=True)).to_be_visible()
    sign_up(page, partner, t, journey["organisation"])

    # --- confirm the address from the mail --------------------------------------------------
    verify = mailbox.wait_for(
        partner.email, t("Confirm your e-mail address for the IPK RRC portal")
    )
    assert t("Hello %(name)s,", name=partner.name) in verify.text
    page.goto(mailbox.link(verify, "/verify/"))
    page.get_by_role("button", name=t("Confirm my e-mail address")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("E-mail confirmed"))

    # Not vetted yet: the partner cannot file requests.
    log_in(page, partner.email, partner.password, t)
    page.goto(f"/requests/new/{OPERETTA}")
    expect(page.get_by_role("button", name=t("Submit for review"))).to_have_count(0)

    # --- the coordinator vets the partner (in another browser) -------------------------------
    coordinator = open_page.staff(COORDINATOR)
    vet_partner(coordinator, partner.name)

    # --- the partner finds the Operetta in the catalogue and requests two sessions ----------
    page.goto("/")
    page.get_by_role("link", name=t("Catalogue"), exact=True).click()
    search = page.get_by_role("search")
    search.get_by_label(t("Search"), exact=True).fill("Operetta")
    search.get_by_role("button", name=t("Show resources")).click()
    page.get_by_role("link", name=OPERETTA_NAMES[code], exact=True).click()
    page.get_by_role("link", name=t("Request this"), exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("New request"))

    reference, days = request_operetta(page, t, partner.name, journey["times"], count=2)

    # --- the coordinator, then the imaging core's manager approve ---------------------------
    open_from_queue(coordinator, reference)
    approve(coordinator, comment="Account and project checked.")
    expect(coordinator.locator("#where-it-stands")).to_contain_text("Facility manager")

    manager = open_page.staff(SCREENING_MANAGER)
    open_from_queue(manager, reference)
    approve(manager, comment="Trained user, sessions fine.")

    # --- the partner: mail with the .ics, sessions confirmed on the page, .ics download ----
    approved = mailbox.wait_for(partner.email, t("%(ref)s approved", ref=reference))
    assert len(ics_events(approved.attachment(".ics"))) == 2
    page.goto(mailbox.link(approved, f"/requests/{reference}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    rows = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name=t("Until")))
    expect(rows.get_by_role("row").filter(has_text=t("Confirmed"))).to_have_count(2)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=t("Add the confirmed sessions to my calendar (.ics)")).click()
    download = download_info.value
    assert download.suggested_filename == f"{reference}.ics"
    events = ics_events(download.path().read_bytes())
    assert len(events) == 2
    starts = sorted(seoul_time(event.decoded("dtstart")) for event in events)
    assert starts == [f"{day} {journey['times'][0]}" for day in days]
    for event in events:
        minutes = (event.decoded("dtend") - event.decoded("dtstart")).total_seconds() / 60
        assert minutes == 60

    # --- the other mails of the journey (they arrived meanwhile) -----------------------------
    mailbox.wait_for(partner.email, t("Your IPK RRC partner account is approved"))
    received = mailbox.wait_for(partner.email, t("%(ref)s received: under review", ref=reference))
    for day in days:
        assert f"{day} {journey['times'][0]}" in received.text
    for staff in (COORDINATOR, SCREENING_MANAGER):
        waiting = mailbox.wait_for(staff, f"{reference} waits for your decision")
        assert partner.name in waiting.text
