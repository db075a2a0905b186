"""Journey (b) of issue 6: a request for a live high-risk pathogen from the specimen bank, with
its six required documents, through coordinator → facility manager → biosafety officer; the
coordinator first asks for changes and the partner resubmits. Mails are checked along the way."""

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import (
    BIOSAFETY_OFFICER,
    BSL3_MANAGER,
    COORDINATOR,
    ENGLISH,
    Language,
    accept_terms_label,
    approve,
    decide,
    flash,
    log_in,
    open_from_queue,
    pdf,
    reference_of,
    upload_document,
)

pytestmark = pytest.mark.e2e

PARTNER = "park@daehanpharma.co.kr"  # demo partner of a large company (English)
PATHOGEN = "BIO-PATH-01"  # SARS-CoV-2 isolate: the hazardous chain and six documents
DOCUMENTS = {
    "Recipient's BL3 facility permit": "bl3-permit.pdf",
    "High-risk pathogen transfer notice": "kdca-transfer-notice.pdf",
    "Signed material transfer agreement (MTA)": "signed-mta.pdf",
    "Institutional biosafety committee (IBC) approval": "ibc-approval.pdf",
    "List of the applicant's facilities": "facility-list.pdf",
    "Research plan": "research-plan.pdf",
}
CHANGE_WANTED = "Ask for one vial only: the first shipment is a pilot."


def test_pathogen_request_with_documents_changes_and_three_approvals(portal, open_page):
    t = ENGLISH
    mailbox = portal.mailbox

    # --- the partner fills the request and uploads the six documents ------------------------
    page = open_page()
    log_in(page, PARTNER)
    page.goto(f"/catalogue/{PATHOGEN}")
    page.get_by_role("link", name="Request this", exact=True).first.click()
    page.get_by_label("Project title", exact=True).fill("Neutralisation assays, JN.1 lineage")
    page.get_by_label("Purpose and research summary", exact=True).fill(
        "Plaque reduction neutralisation tests of our monoclonal antibodies in our BL3 suite."
    )
    page.get_by_label("Principal investigator", exact=True).fill("Dr. Park Hyun-woo")
    page.get_by_label("Billing contact", exact=True).fill("Accounts payable")
    page.get_by_label("Quantity (vial 0.5 mL)", exact=True).fill("2")
    page.get_by_label("Agent and strain", exact=True).fill("SARS-CoV-2, JN.1 lineage")
    page.get_by_label("Risk group", exact=True).select_option(label="3")
    page.get_by_label("The agent is a high-risk pathogen", exact=True).check()
    page.get_by_label("IBC approval number", exact=True).fill("DH-IBC-2026-044")
    page.get_by_label("IBC approval date", exact=True).fill("2026-03-02")
    page.get_by_label("Form of the material", exact=True).fill("Frozen vial, 0.5 mL")
    page.get_by_label("Shipping address", exact=True).fill("300 Teheran-ro, Gangnam-gu, Seoul")
    page.get_by_label("Shipping country", exact=True).select_option(value="KR")
    page.get_by_label("Receiving person", exact=True).fill("Dr. Park Hyun-woo")
    page.get_by_label("Receiving person's phone", exact=True).fill("010-2345-6789")
    page.get_by_label("I accept the material transfer terms above", exact=True).check()
    page.get_by_label(accept_terms_label(t), exact=True).check()
    page.get_by_role("button", name="Save draft").click()
    reference = reference_of(page)
    expect(flash(page)).to_contain_text(f"Draft {reference} is saved.")

    # Submitting without the documents is refused, naming what is missing.
    page.get_by_role("button", name="Submit for review").click()
    missing = page.get_by_role("region", name="Documents", exact=True)
    for document_type in DOCUMENTS:
        expect(missing).to_contain_text(document_type)

    for document_type, filename in DOCUMENTS.items():
        upload_document(page, t, document_type, filename)
    expect(page.get_by_text("Every required document is uploaded.")).to_be_visible()
    page.get_by_role("button", name="Submit for review").click()
    expect(flash(page)).to_contain_text(f"Request {reference} is submitted")

    # --- the coordinator reads a document and asks for a change ------------------------------
    coordinator = open_page.staff(COORDINATOR)
    open_from_queue(coordinator, reference)
    documents = coordinator.get_by_role("region", name="Documents")
    for filename in DOCUMENTS.values():
        expect(documents.get_by_role("link", name=filename, exact=True)).to_be_visible()
    with coordinator.expect_download() as download_info:
        documents.get_by_role("link", name="research-plan.pdf", exact=True).click()
    assert download_info.value.path().read_bytes() == pdf("research-plan.pdf")
    decide(coordinator, t, "Request changes", "What should change", CHANGE_WANTED)
    expect(flash(coordinator)).to_be_visible()

    changes = mailbox.wait_for(PARTNER, f"{reference}: changes requested")
    assert CHANGE_WANTED in changes.text
    page.goto(mailbox.link(changes, f"/requests/{reference}"))
    expect(page.get_by_role("status").filter(has_text=CHANGE_WANTED)).to_be_visible()

    # --- the partner changes the amount and resubmits ----------------------------------------
    page.get_by_role("link", name="Edit the request").click()
    expect(page.get_by_role("alert").filter(has_text=CHANGE_WANTED)).to_be_visible()
    page.get_by_label("Quantity (vial 0.5 mL)", exact=True).fill("1")
    page.get_by_label("Message to the reviewer (optional)", exact=True).fill("Now one vial.")
    page.get_by_role("button", name="Submit for review").click()
    expect(flash(page)).to_contain_text("Resubmitted")

    # --- three approvals: coordinator, the biobank's manager (in Korean), biosafety ----------
    coordinator.reload()
    approve(coordinator, comment="Pilot of one vial: fine.")

    korean = Language("ko")
    manager = open_page.staff(BSL3_MANAGER, then=korean)
    open_from_queue(manager, reference, korean)
    approve(manager, korean, comment="BL3 허가 확인.")

    officer = open_page.staff(BIOSAFETY_OFFICER)
    open_from_queue(officer, reference)
    approve(officer, comment="Permit, IBC approval and transfer notice verified.")

    approved = mailbox.wait_for(PARTNER, f"{reference} approved")
    assert "What happens next: the facility team prepares the work" in approved.text

    page.goto(mailbox.link(approved, f"/requests/{reference}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")
    steps = page.get_by_role("region", name="Approval steps")
    expect(steps.get_by_role("row").filter(has_text="Approved")).to_have_count(3)
    details = page.get_by_role("region", name="The request")
    expect(details).to_contain_text("1 vial 0.5 mL")  # the amount as resubmitted
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).to_contain_text("Pilot of one vial: fine.")

    # --- the other mails along the way (they arrived meanwhile) ------------------------------
    mailbox.wait_for(PARTNER, f"{reference} received: under review")
    mailbox.wait_for(COORDINATOR, f"{reference} waits for your decision (RRC coordinator review)")
    resubmitted = mailbox.wait_for(COORDINATOR, f"{reference} resubmitted for your review")
    assert "Now one vial." in resubmitted.text
    waiting = mailbox.wait_for(  # in the manager's language, Korean
        BSL3_MANAGER,
        korean(
            "%(ref)s waits for your decision (%(step)s)",
            ref=reference,
            step=korean("Facility manager review"),
        ),
    )
    assert "Park Hyun-woo" in waiting.text
    mailbox.wait_for(BIOSAFETY_OFFICER, f"{reference} waits for your decision (Biosafety review)")
