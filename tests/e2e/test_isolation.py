"""Journey (c) of issue 6: a partner who types another organisation's request address, or the
address of one of its documents, gets a "not found" page and nothing of theirs."""

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import (
    ENGLISH,
    Language,
    accept_terms_label,
    flash,
    log_in,
    reference_of,
    unique,
    upload_document,
)

pytestmark = pytest.mark.e2e

OWNER = "claire.martin@virolab.example.fr"  # University of Lyon Virology Lab
INTRUDERS = {
    "lee.postdoc@hanbit.ac.kr": ENGLISH,  # a partner of Hanbit University
    "choi@saebyeokbio.co.kr": Language("ko"),  # the organisation manager of Saebyeok Bio (Korean)
}
REFUSALS = {403: "Not allowed", 404: "Not found"}  # the error pages' titles
RESOURCE = "BIO-INACT-01"  # inactivated antigen: one required document (the signed MTA)


def test_partner_cannot_open_another_organisations_request_or_document(portal, open_page):
    # The owner writes a request with a confidential title and a document.
    secret = unique("Confidential antigen project ")
    filename = f"{unique('mta-')}.pdf"
    owner = open_page()
    log_in(owner, OWNER)
    owner.goto(f"/requests/new/{RESOURCE}")
    owner.get_by_label("Project title", exact=True).fill(secret)
    owner.get_by_label(accept_terms_label(ENGLISH), exact=True).check()
    owner.get_by_role("button", name="Save draft").click()
    reference = reference_of(owner)
    expect(flash(owner)).to_contain_text(f"Draft {reference} is saved.")
    upload_document(owner, ENGLISH, "Signed material transfer agreement (MTA)", filename)
    owner.goto(f"/requests/{reference}")
    request_url = owner.url
    document = owner.get_by_role("link", name=filename, exact=True)
    document_url = document.evaluate("link => link.href")
    # The owner can open both (so the addresses tried below are right).
    expect(owner.get_by_role("heading", level=1)).to_contain_text(reference)
    with owner.expect_download() as download_info:
        document.click()
    assert download_info.value.suggested_filename == filename

    for email, t in INTRUDERS.items():
        page = open_page()
        log_in(page, email, then=t)
        addresses = (
            request_url,
            document_url,
            f"{request_url}/edit",
            f"{portal.base_url}/calendar/request/{reference}.ics",
        )
        for url in addresses:
            response = page.goto(url)
            assert response.status in REFUSALS, (email, url, response.status)
            title = t(REFUSALS[response.status])
            expect(page.get_by_role("heading", level=1)).to_contain_text(title)
            body = page.content()
            assert secret not in body, url
            assert filename not in body, url
        # Nor does the request appear among theirs.
        page.goto("/requests/")
        expect(page.get_by_role("main")).not_to_contain_text(reference)
