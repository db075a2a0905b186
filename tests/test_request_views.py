"""The request pages: the form, the request page and its actions, documents, "My requests"."""

import io
import re

import pytest
from sqlalchemy import event, func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from rrc.extensions import db
from rrc.models import (
    Attachment,
    BookingMode,
    Comment,
    DocumentType,
    OrganisationStatus,
    RequestStatus,
    ResourceKind,
    ResourceRequest,
    StepState,
    UserStatus,
)
from rrc.requests import requirements, services
from tests.conftest import (
    BIOSAFETY,
    COMMON,
    MATERIAL,
    PDF,
    csrf_tokens,
    full_draft,
    login,
    post_form,
)

FORM_DATA = {
    "title": "Antiviral screen",
    "purpose": "Testing compounds against SARS-CoV-2.",
    "principal_investigator": "Prof. Kim",
    "payer": "Hanbit University",
    "billing_contact": "Finance office",
    "billing_email": "finance@hanbit.example",
    "quantity": "2",
    "agent_name": "SARS-CoV-2 (Delta)",
    "risk_group": "3",
    "ibc_approval_number": "IBC-2026-017",
    "ibc_approval_date": "2026-03-01",
    "material_form": "Frozen vial, 0.5 mL",
    "shipping_address": "1 Hanbit-ro, Seoul",
    "shipping_country": "KR",
    "receiving_person": "Dr. Lee",
    "receiving_phone": "010-1111-2222",
    "accept_mta": "y",
    "accept_terms": "y",
}
SAVE = {"save_draft": "Save draft"}
SEND = {"send": "Submit for review"}
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def cast(factory, people):
    """Everyone who might look at a request of ``people["partner"]``."""
    organisation = people["partner"].organisation
    return {
        **people,
        "requester": people["partner"],
        "colleague": factory.partner(organisation=organisation, name="Colleague Person"),
        "org_manager": factory.partner(
            organisation=organisation, is_org_manager=True, name="Org Manager Person"
        ),
        "outsider": factory.partner(name="Outsider Person"),
        "admin": factory.admin(name="Admin Person"),
    }


@pytest.fixture
def client_for(app, client):
    """A new logged-in client for a user (``None``: anonymous)."""

    def make(user):
        new_client = app.test_client()
        if user is not None:
            response = login(new_client, user.email)
            assert response.status_code == 302, response.get_data(as_text=True)
        return new_client

    return make


def request_in(cast, resource, state: str, **extra) -> ResourceRequest:
    """A request of ``cast["requester"]`` for ``resource`` brought to ``state`` by the services."""
    partner = cast["requester"]
    resource_request = full_draft(partner, resource, **extra)
    if state == "draft":
        return resource_request
    services.submit(partner, resource_request)
    db.session.commit()
    if state == "in_review":
        return resource_request
    if state == "changes_requested":
        step = resource_request.current_step
        services.request_changes(cast["coordinator"], resource_request, step.id, "More detail.")
    elif state == "rejected":
        services.reject(
            cast["coordinator"], resource_request, resource_request.current_step.id, "No"
        )
    elif state == "cancelled":
        services.cancel(partner, resource_request, "Budget cut.")
    else:
        for decider in ("coordinator", "manager", "biosafety"):
            services.approve(cast[decider], resource_request, resource_request.current_step.id)
        if state in ("in_progress", "completed"):
            services.start(cast["manager"], resource_request)
        if state == "completed":
            services.complete(cast["manager"], resource_request)
    db.session.commit()
    assert resource_request.status == RequestStatus(state)
    return resource_request


def html_of(response) -> str:
    return response.get_data(as_text=True)


def buttons(html: str, reference: str) -> set[str]:
    """The actions a request page offers: its POST forms (except comments and uploads) and edit."""
    found = set(re.findall(rf'action="/requests/{reference}/([\w-]+)"', html))
    found -= {"comments", "attachments"}
    if f'href="/requests/{reference}/edit"' in html:
        found.add("edit")
    return found


def token(html: str) -> str:
    """One CSRF token of a page (the value is the same for every form of a session)."""
    return next(iter(csrf_tokens(html).values()))


def reload(resource_request: ResourceRequest) -> ResourceRequest:
    db.session.expire_all()
    return db.session.get(ResourceRequest, resource_request.id)


# --- permission x state matrix -------------------------------------------------------------

STATES = ("draft", "in_review", "changes_requested", "approved", "in_progress", "cancelled")
USERS = (
    "requester",
    "colleague",
    "org_manager",
    "outsider",
    "coordinator",
    "manager",
    "other_manager",
    "biosafety",
    "admin",
    None,
)
DETAIL_STATUS = {
    "requester": 200,
    "colleague": 404,
    "org_manager": 200,
    "outsider": 404,
    "coordinator": 200,
    "manager": 200,
    "other_manager": 200,
    "biosafety": 200,
    "admin": 200,
    None: 302,
}
DECIDE = {"approve", "reject", "request-changes"}
COORDINATE = {"skip-step", "reassign-step"}
EXPECTED_BUTTONS = {
    ("draft", "requester"): {"edit", "submit", "cancel"},
    ("in_review", "requester"): {"cancel"},
    ("in_review", "coordinator"): DECIDE | COORDINATE,
    ("in_review", "admin"): DECIDE | COORDINATE,
    ("changes_requested", "requester"): {"edit", "resubmit", "cancel"},
    ("approved", "requester"): {"cancel"},
    ("approved", "coordinator"): {"start"},
    ("approved", "manager"): {"start"},
    ("approved", "admin"): {"start"},
    ("in_progress", "coordinator"): {"complete"},
    ("in_progress", "manager"): {"complete"},
    ("in_progress", "admin"): {"complete"},
}


def expected_edit_status(state: str, user: str | None) -> int:
    if user is None:
        return 302  # to the login page
    if DETAIL_STATUS[user] == 404:
        return 404
    if user != "requester":
        return 403
    return 200 if state in ("draft", "changes_requested") else 302  # back to the request page


def test_permission_and_state_matrix(cast, pathogen, client_for):
    requests_by_state = {state: request_in(cast, pathogen, state) for state in STATES}
    for user_key in USERS:
        user = cast[user_key] if user_key else None
        client = client_for(user)
        for state, resource_request in requests_by_state.items():
            reference = resource_request.reference
            page = client.get(f"/requests/{reference}")
            assert page.status_code == DETAIL_STATUS[user_key], (user_key, state)
            if user_key is None:
                assert "/login" in page.headers["Location"]
            edit = client.get(f"/requests/{reference}/edit")
            assert edit.status_code == expected_edit_status(state, user_key), (user_key, state)
            if page.status_code == 200:
                shown = buttons(html_of(page), reference)
                assert shown == EXPECTED_BUTTONS.get((state, user_key), set()), (user_key, state)


def test_another_organisations_request_attachment_and_comment_urls_are_404(
    cast, pathogen, client_for
):
    resource_request = request_in(cast, pathogen, "in_review")
    attachment = resource_request.attachments[0]
    reference = resource_request.reference
    insider = client_for(cast["requester"])
    outsider = client_for(cast["outsider"])
    csrf = token(html_of(outsider.get("/")))  # a valid token of the outsider's own session
    assert outsider.get(f"/requests/{reference}").status_code == 404
    assert outsider.get(f"/requests/{reference}/attachments/{attachment.id}").status_code == 404
    posted = outsider.post(
        f"/requests/{reference}/comments",
        data={"comment-csrf_token": csrf, "comment-body": "Let me in"},
    )
    assert posted.status_code == 404
    for action in ("cancel", "approve", "submit", "edit", "attachments"):
        prefix = {"edit": "", "attachments": "upload-"}.get(action, f"{action}-")
        data = {f"{prefix}csrf_token": csrf, "cancel-reason": "x", "approve-step_id": "1"}
        assert outsider.post(f"/requests/{reference}/{action}", data=data).status_code == 404
    assert reload(resource_request).status == RequestStatus.IN_REVIEW
    assert db.session.scalar(select(func.count(Comment.id))) == 0
    # The right request but a document of another request: 404 too.
    other = request_in(cast, pathogen, "draft")
    url = f"/requests/{reference}/attachments/{other.attachments[0].id}"
    assert insider.get(url).status_code == 404


def test_staff_see_internal_notes_partners_do_not(cast, pathogen, client_for):
    resource_request = request_in(cast, pathogen, "in_review")
    reference = resource_request.reference
    coordinator = client_for(cast["coordinator"])
    post_form(
        coordinator,
        f"/requests/{reference}",
        {"comment-body": "Check the BL3 permit carefully", "comment-internal": "y"},
        action=f"/requests/{reference}/comments",
    )
    post_form(
        coordinator,
        f"/requests/{reference}",
        {"skip-step_id": str(resource_request.current_step.id), "skip-reason": "Known lab"},
        action=f"/requests/{reference}/skip-step",
    )
    staff_page = html_of(coordinator.get(f"/requests/{reference}"))
    assert "Check the BL3 permit carefully" in staff_page and "Internal note" in staff_page
    assert "Known lab" in staff_page
    partner = client_for(cast["requester"])
    partner_page = html_of(partner.get(f"/requests/{reference}"))
    assert "Check the BL3 permit carefully" not in partner_page
    assert "Known lab" not in partner_page  # the skip is an internal timeline event
    # A partner cannot write an internal note, even by posting the field.
    post_form(
        partner,
        f"/requests/{reference}",
        {"comment-body": "A question", "comment-internal": "y"},
        action=f"/requests/{reference}/comments",
    )
    comment = db.session.scalar(select(Comment).where(Comment.body == "A question"))
    assert comment is not None and comment.internal is False


# --- the form ------------------------------------------------------------------------------


def starred_fields(html: str) -> set[str]:
    """Ids of the request form's fields marked with the required star."""
    pattern = r'for="([\w]+)">[^<]*</label> <span class="text-danger" aria-hidden="true">\*</span>'
    return set(re.findall(pattern, html))


def test_required_marks_follow_required_fields(factory, cast, pathogen, client_for):
    serum = factory.resource(
        kind=ResourceKind.MATERIAL,
        booking_mode=BookingMode.QUANTITY,
        biosafety_level=2,
        human_specimen=True,
        unit_label="aliquot",
    )
    screening = factory.resource(
        kind=ResourceKind.SERVICE, booking_mode=BookingMode.QUANTITY, biosafety_level=1
    )
    suite = factory.resource(
        kind=ResourceKind.SPACE,
        biosafety_level=3,
        animal_work=True,
        training_requirement="BSL-3 entry training",
    )
    client = client_for(cast["requester"])
    for resource in (pathogen, serum, screening, suite):
        page = client.get(f"/requests/new/{resource.code}")
        assert page.status_code == 200
        assert starred_fields(html_of(page)) == set(requirements.required_fields(resource))


def test_save_draft_then_submit_through_the_form(cast, pathogen, client_for):
    client = client_for(cast["requester"])
    url = f"/requests/new/{pathogen.code}"
    page = html_of(client.get(url))
    assert "Proprietary work pays full cost; results may be kept confidential." in page
    assert "Nagoya Protocol" in page and "return or destroy" in page
    assert "recorded with your request when you submit it" in page
    saved = post_form(client, url, {**FORM_DATA, **SAVE})
    assert saved.status_code == 302
    draft = db.session.scalar(select(ResourceRequest))
    assert saved.headers["Location"].endswith(f"/requests/{draft.reference}/edit")
    assert draft.status == RequestStatus.DRAFT and draft.quantity == 2
    assert draft.terms_version == "2026-11" and draft.mta_accepted_at is not None
    edit_url = f"/requests/{draft.reference}/edit"
    edit_page = html_of(client.get(edit_url))
    assert "2 × ₩60,000 per vial = ₩120,000" in edit_page  # noqa: RUF001
    # Submitting without the required IBC document: the problem is shown by the upload area.
    refused = post_form(client, edit_url, {**FORM_DATA, **SEND})
    assert refused.status_code == 200
    assert 'id="document-ibc_approval-error"' in html_of(refused)
    assert reload(draft).status == RequestStatus.DRAFT
    uploaded = post_form(
        client,
        edit_url,
        {
            "upload-document_type": "ibc_approval",
            "upload-return_to": "form",
            "upload-file": (io.BytesIO(PDF), "ibc approval.pdf"),
        },
        action=f"/requests/{draft.reference}/attachments",
    )
    assert uploaded.status_code == 302 and uploaded.headers["Location"].endswith(edit_url)
    sent = post_form(client, edit_url, {**FORM_DATA, **SEND})
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(f"/requests/{draft.reference}")
    draft = reload(draft)
    assert draft.status == RequestStatus.IN_REVIEW
    assert draft.estimate_snapshot["total"] == 120_000


def test_submit_with_missing_fields_keeps_input_and_stays_draft(cast, pathogen, client_for):
    client = client_for(cast["requester"])
    url = f"/requests/new/{pathogen.code}"
    response = post_form(
        client, url, {"title": "Half done", "billing_email": "not-an-email", **SEND}
    )
    assert response.status_code == 200
    html = html_of(response)
    assert 'value="Half done"' in html and 'value="not-an-email"' in html
    for field in ("purpose", "principal_investigator", "quantity", "ibc_approval_number"):
        assert f'id="{field}-error"' in html, field
        assert re.search(rf'aria-describedby="[^"]*\b{field}-error"', html), field
    assert "Required for this resource." in html
    assert 'id="billing_email-error"' in html and "Enter a valid e-mail address." in html
    assert 'id="accept_terms-error"' in html
    assert 'id="document-ibc_approval-error"' in html
    (draft,) = db.session.scalars(select(ResourceRequest)).all()
    assert draft.status == RequestStatus.DRAFT and draft.steps == []
    assert draft.title == "Half done"
    assert draft.billing_email == cast["requester"].organisation.billing_email  # bad one not saved
    # The re-rendered form now posts to the draft, so a second try does not create another one.
    assert f'action="/requests/{draft.reference}/edit"' in html


def new_form_payload(client, url: str) -> dict:
    """The hidden fields of a freshly opened new-request form (CSRF token and draft key)."""
    html = html_of(client.get(url))
    fields = dict(re.findall(r'name="(csrf_token|draft_key)" type="hidden" value="([^"]+)"', html))
    assert set(fields) == {"csrf_token", "draft_key"}
    return fields


def test_a_failed_submission_of_a_new_request_lands_on_the_draft_and_a_reload_adds_none(
    cast, pathogen, client_for
):
    client = client_for(cast["requester"])
    url = f"/requests/new/{pathogen.code}"
    # Everything valid but the IBC document, which can only be uploaded to a saved draft.
    payload = {**new_form_payload(client, url), **FORM_DATA, **SEND}
    response = client.post(url, data=payload)
    (draft,) = db.session.scalars(select(ResourceRequest)).all()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/requests/{draft.reference}/edit?check=1"
    html = html_of(client.get(response.headers["Location"]))
    assert "Not submitted: complete the marked fields" in html
    assert f"saved in draft {draft.reference}" in html
    assert 'id="document-ibc_approval-error"' in html
    assert 'value="Antiviral screen"' in html  # the answers are in the draft
    # The browser's history still holds the new form's POST: sending it again (a reload, or
    # back and submit) reaches the same draft instead of creating another one.
    for _attempt in range(2):
        again = client.post(url, data=payload)
        assert again.status_code == 200
        assert 'id="document-ibc_approval-error"' in html_of(again)
    assert db.session.scalar(select(func.count(ResourceRequest.id))) == 1
    # A form opened afresh is a new request.
    response = client.post(url, data={**new_form_payload(client, url), **FORM_DATA, **SAVE})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(ResourceRequest.id))) == 2


def test_reloading_a_new_form_with_invalid_input_adds_no_draft(cast, pathogen, client_for):
    client = client_for(cast["requester"])
    url = f"/requests/new/{pathogen.code}"
    payload = {**new_form_payload(client, url), "title": "Half done", "billing_email": "nope"}
    for title, button in (("Half done", SEND), ("Half done", SEND), ("Renamed", SAVE)):
        response = client.post(url, data={**payload, "title": title, **button})
        assert response.status_code == 200  # the invalid input is shown where it was typed
        html = html_of(response)
        assert 'value="nope"' in html and "Enter a valid e-mail address." in html
    (draft,) = db.session.scalars(select(ResourceRequest)).all()
    assert draft.title == "Renamed"
    # Once that draft is submitted, posting the old form again changes nothing and adds nothing.
    partner = cast["requester"]
    services.update_draft(partner, draft, {**COMMON, **BIOSAFETY, **MATERIAL})
    services.add_attachment(partner, draft, PDF, "ibc.pdf", DocumentType.IBC_APPROVAL)
    services.submit(partner, draft)
    db.session.commit()
    response = client.post(url, data={**payload, "title": "Too late", **SAVE})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{draft.reference}")
    draft = reload(draft)
    assert draft.title == "Antiviral screen" and draft.status == RequestStatus.IN_REVIEW
    assert db.session.scalar(select(func.count(ResourceRequest.id))) == 1


def test_bsl3_request_without_ibc_number_is_refused_through_the_view(cast, pathogen, client_for):
    draft = full_draft(cast["requester"], pathogen)
    client = client_for(cast["requester"])
    edit_url = f"/requests/{draft.reference}/edit"
    response = post_form(client, edit_url, {**FORM_DATA, "ibc_approval_number": "", **SEND})
    assert response.status_code == 200
    html = html_of(response)
    assert 'id="ibc_approval_number-error"' in html
    assert reload(draft).status == RequestStatus.DRAFT
    # The request page's own submit button goes through the same check.
    draft = reload(draft)
    services.update_draft(cast["requester"], draft, {"ibc_approval_number": ""})
    db.session.commit()
    response = post_form(
        client, f"/requests/{draft.reference}", {}, action=f"/requests/{draft.reference}/submit"
    )
    assert response.status_code == 200
    assert 'id="ibc_approval_number-error"' in html_of(response)
    assert reload(draft).status == RequestStatus.DRAFT


def test_save_draft_keeps_valid_answers_and_flags_invalid_ones(cast, pathogen, client_for):
    client = client_for(cast["requester"])
    response = post_form(
        client,
        f"/requests/new/{pathogen.code}",
        {"title": "My draft", "quantity": "lots", "ibc_approval_date": "yesterday", **SAVE},
    )
    assert response.status_code == 200
    html = html_of(response)
    assert 'id="quantity-error"' in html and 'value="lots"' in html
    assert 'id="ibc_approval_date-error"' in html
    assert "Required for this resource." not in html  # no required checks on a draft
    draft = db.session.scalar(select(ResourceRequest))
    assert draft.title == "My draft" and draft.quantity is None


def test_slot_resource_form(factory, cast, client_for):
    instrument = factory.resource(
        biosafety_level=1,
        min_duration_minutes=60,
        max_duration_minutes=240,
        slot_granularity_minutes=30,
        approval_chain=[],
    )
    client = client_for(cast["requester"])
    url = f"/requests/new/{instrument.code}"
    page = html_of(client.get(url))
    assert '<option value="90">1 h 30 min</option>' in page
    assert '<option value="30">' not in page  # shorter than the minimum
    response = post_form(
        client,
        url,
        {
            **{key: FORM_DATA[key] for key in COMMON if key in FORM_DATA},
            "accept_terms": "y",
            "requested_minutes": "90",
            "preferred_dates": "Any Tuesday",
            "usage_mode": "self_use",
            **SEND,
        },
    )
    assert response.status_code == 302
    resource_request = db.session.scalar(select(ResourceRequest))
    assert resource_request.status == RequestStatus.APPROVED  # no approval needed
    assert resource_request.estimate_snapshot["quantity"] == 2  # 90 min = 2 started hours
    page = html_of(client.get(response.headers["Location"]))
    assert "is approved: this resource needs no review" in page
    assert "1 h 30 min" in page and "Self-use" in page


def test_only_approved_partners_of_verified_organisations_may_open_the_form(
    factory, cast, pathogen, client_for
):
    url = f"/requests/new/{pathogen.code}"
    pending = factory.partner(status=UserStatus.PENDING_APPROVAL)
    unverified = factory.partner(
        organisation=factory.organisation(status=OrganisationStatus.PENDING)
    )
    for user, words in (
        (pending, "not approved yet"),
        (unverified, "organisation is not verified"),
        (cast["coordinator"], "filed by partner accounts"),
    ):
        response = client_for(user).get(url)
        assert response.status_code == 403
        assert words in html_of(response)
    assert client_for(None).get(url).status_code == 302
    client = client_for(cast["requester"])
    assert client.get("/requests/new/NO-SUCH-CODE").status_code == 404
    pathogen.active = False
    db.session.commit()
    assert client.get(url).status_code == 404
    assert db.session.scalar(select(func.count(ResourceRequest.id))) == 0


def test_estimate_endpoint(factory, cast, pathogen, client_for):
    client = client_for(cast["requester"])
    answer = client.get(f"/requests/estimate?resource={pathogen.code}&quantity=2")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["ok"] and body["tier"] == "academic" and body["total"] == "₩120,000"
    hourly = factory.resource()
    body = client.get(f"/requests/estimate?resource={hourly.code}&minutes=90").get_json()
    assert body["units"] == 2 and body["total"] == "₩120,000"
    assert client.get(f"/requests/estimate?resource={pathogen.code}").status_code == 400
    assert client.get(f"/requests/estimate?resource={pathogen.code}&quantity=0").status_code == 400
    assert client.get("/requests/estimate?resource=NOPE&quantity=1").status_code == 404
    assert client.post(f"/requests/estimate?resource={pathogen.code}").status_code in (400, 405)
    assert client_for(None).get(f"/requests/estimate?resource={pathogen.code}").status_code == 302
    industry = factory.partner(organisation=factory.organisation(org_type="large_company"))
    body = (
        client_for(industry)
        .get(f"/requests/estimate?resource={pathogen.code}&quantity=2")
        .get_json()
    )
    assert body["tier"] == "industry" and body["total"] == "₩360,000"
    assert db.session.scalar(select(func.count(ResourceRequest.id))) == 0


def test_edit_after_changes_requested_shows_the_request_and_resubmits(cast, pathogen, client_for):
    resource_request = request_in(cast, pathogen, "changes_requested")
    client = client_for(cast["requester"])
    edit_url = f"/requests/{resource_request.reference}/edit"
    page = html_of(client.get(edit_url))
    assert 'id="changes-requested"' in page and "More detail." in page
    assert "Coordinator Person" in page and "Resubmit for review" in page
    response = post_form(
        client,
        edit_url,
        {**FORM_DATA, "purpose": "More detail given.", "resubmit_message": "Added detail.", **SEND},
    )
    assert response.status_code == 302
    resource_request = reload(resource_request)
    assert resource_request.status == RequestStatus.IN_REVIEW
    assert resource_request.purpose == "More detail given."
    assert resource_request.events[-1].kind == "resubmitted"
    assert resource_request.events[-1].detail == "Added detail."


# --- actions on the request page -----------------------------------------------------------


def test_stale_approval_is_explained_not_a_500(cast, pathogen, client_for):
    resource_request = request_in(cast, pathogen, "in_review")
    reference = resource_request.reference
    step_id = resource_request.current_step.id
    coordinator = client_for(cast["coordinator"])
    page = html_of(coordinator.get(f"/requests/{reference}"))
    data = {"approve-csrf_token": token(page), "approve-step_id": str(step_id)}
    first = coordinator.post(f"/requests/{reference}/approve", data=data)
    assert first.status_code == 302
    second = coordinator.post(f"/requests/{reference}/approve", data=data, follow_redirects=True)
    assert second.status_code == 200
    html = html_of(second)
    assert "already decided" in html and "Coordinator Person" in html
    assert reload(resource_request).current_step.position == 2


def test_decisions_that_need_a_reason_are_refused_beside_the_field(cast, pathogen, client_for):
    resource_request = request_in(cast, pathogen, "in_review")
    reference = resource_request.reference
    step_id = str(resource_request.current_step.id)
    coordinator = client_for(cast["coordinator"])
    for action, prefix in (("reject", "reject"), ("request-changes", "changes")):
        response = post_form(
            coordinator,
            f"/requests/{reference}",
            {f"{prefix}-step_id": step_id, f"{prefix}-comment": "  "},
            action=f"/requests/{reference}/{action}",
        )
        assert response.status_code == 200
        assert f'id="{prefix}-comment-error"' in html_of(response)
    partner = client_for(cast["requester"])
    response = post_form(
        partner,
        f"/requests/{reference}",
        {"cancel-reason": ""},
        action=f"/requests/{reference}/cancel",
    )
    assert response.status_code == 200 and 'id="cancel-reason-error"' in html_of(response)
    assert reload(resource_request).status == RequestStatus.IN_REVIEW
    # A partner posting a decision is refused kindly, and nothing changes.
    refused = post_form(
        partner,
        f"/requests/{reference}",
        {"approve-step_id": step_id},
        action=f"/requests/{reference}/approve",
    )
    assert refused.status_code == 302
    assert reload(resource_request).current_step.state == StepState.PENDING


def test_reject_and_cancel(cast, pathogen, client_for):
    rejected = request_in(cast, pathogen, "in_review")
    coordinator = client_for(cast["coordinator"])
    reference = rejected.reference
    response = post_form(
        coordinator,
        f"/requests/{reference}",
        {"reject-step_id": str(rejected.current_step.id), "reject-comment": "No BL3 permit."},
        action=f"/requests/{reference}/reject",
    )
    assert response.status_code == 302
    assert reload(rejected).status == RequestStatus.REJECTED
    partner = client_for(cast["requester"])
    page = html_of(partner.get(f"/requests/{reference}"))
    assert "No BL3 permit." in page and "Not approved" in page
    cancelled = request_in(cast, pathogen, "approved")
    reference = cancelled.reference
    response = post_form(
        partner,
        f"/requests/{reference}",
        {"cancel-reason": "Project stopped."},
        action=f"/requests/{reference}/cancel",
    )
    assert response.status_code == 302
    assert reload(cancelled).status == RequestStatus.CANCELLED
    assert "Project stopped." in html_of(partner.get(f"/requests/{reference}"))


def test_reassign_start_and_complete(factory, cast, pathogen, client_for):
    resource_request = request_in(cast, pathogen, "in_review")
    reference = resource_request.reference
    deputy = factory.coordinator(name="Deputy Coordinator")
    coordinator = client_for(cast["coordinator"])
    page = html_of(coordinator.get(f"/requests/{reference}"))
    assert f'<option value="{deputy.id}">Deputy Coordinator' in page
    assert f'<option value="{cast["manager"].id}">' not in page  # cannot decide this step
    response = post_form(
        coordinator,
        f"/requests/{reference}",
        {
            "reassign-step_id": str(resource_request.current_step.id),
            "reassign-assignee": str(deputy.id),
            "reassign-reason": "Holiday cover",
        },
        action=f"/requests/{reference}/reassign-step",
    )
    assert response.status_code == 302
    assert reload(resource_request).current_step.assignee_id == deputy.id
    # An assigned step can be handed on again (the check is on the kind of step, not on the
    # current assignment).
    second = factory.coordinator(name="Second Deputy")
    response = post_form(
        coordinator,
        f"/requests/{reference}",
        {
            "reassign-step_id": str(resource_request.current_step.id),
            "reassign-assignee": str(second.id),
            "reassign-reason": "Back from holiday",
        },
        action=f"/requests/{reference}/reassign-step",
    )
    assert response.status_code == 302
    assert reload(resource_request).current_step.assignee_id == second.id
    assert "assigned to" not in html_of(client_for(cast["requester"]).get(f"/requests/{reference}"))
    deputy = second
    # Only the assignee decides now.
    assert buttons(html_of(coordinator.get(f"/requests/{reference}")), reference) == COORDINATE
    assert buttons(html_of(client_for(deputy).get(f"/requests/{reference}")), reference) >= DECIDE

    approved = request_in(cast, pathogen, "approved")
    manager = client_for(cast["manager"])
    reference = approved.reference
    response = post_form(
        manager, f"/requests/{reference}", {}, action=f"/requests/{reference}/start"
    )
    assert response.status_code == 302 and reload(approved).status == RequestStatus.IN_PROGRESS
    response = post_form(
        manager,
        f"/requests/{reference}",
        {"complete-note": "Shipped on dry ice."},
        action=f"/requests/{reference}/complete",
    )
    assert response.status_code == 302 and reload(approved).status == RequestStatus.COMPLETED
    other = client_for(cast["other_manager"])
    assert buttons(html_of(other.get(f"/requests/{reference}")), reference) == set()


# --- documents -----------------------------------------------------------------------------


def upload(client, resource_request, data: bytes, filename: str, document_type="other"):
    reference = resource_request.reference
    return post_form(
        client,
        f"/requests/{reference}",
        {
            "upload-document_type": document_type,
            "upload-return_to": "detail",
            "upload-file": (io.BytesIO(data), filename),
        },
        action=f"/requests/{reference}/attachments",
    )


def attachment_count() -> int:
    return db.session.scalar(select(func.count(Attachment.id)))


def test_a_non_pdf_named_pdf_is_refused(cast, pathogen, client_for):
    draft = services.create_draft(cast["requester"], pathogen, {})
    db.session.commit()
    response = upload(client_for(cast["requester"]), draft, b"MZ\x90\x00 an executable", "x.pdf")
    assert response.status_code == 200
    html = html_of(response)
    assert 'id="upload-file-error"' in html and "Only PDF" in html
    assert attachment_count() == 0


def test_an_oversized_file_is_refused(app, cast, pathogen, client_for):
    app.config["UPLOAD_MAX_MB"] = 1
    draft = services.create_draft(cast["requester"], pathogen, {})
    db.session.commit()
    big = PDF + b"0" * (1024 * 1024)
    client = client_for(cast["requester"])
    reference = draft.reference
    fields = {
        **csrf_tokens(html_of(client.get(f"/requests/{reference}"))),
        "upload-document_type": "other",
        "upload-return_to": "detail",
        "upload-file": FileStorage(io.BytesIO(big), "big.pdf", content_type="application/pdf"),
    }
    # Encoded in memory: the test client would spool a body this large to a file it never closes.
    boundary, body = encode_multipart(fields)
    response = client.post(
        f"/requests/{reference}/attachments",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 200
    assert "larger than 1 MB" in html_of(response)
    assert attachment_count() == 0


def test_a_path_in_the_filename_is_harmless(cast, pathogen, client_for):
    draft = services.create_draft(cast["requester"], pathogen, {})
    db.session.commit()
    client = client_for(cast["requester"])
    response = upload(client, draft, PDF, "../../x.pdf", "ibc_approval")
    assert response.status_code == 302
    (attachment,) = db.session.scalars(select(Attachment)).all()
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", attachment.stored_name)
    assert attachment.original_name == "x.pdf"
    assert attachment.document_type == DocumentType.IBC_APPROVAL
    url = f"/requests/{draft.reference}/attachments/{attachment.id}"
    with client.get(url) as download:
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert "filename=x.pdf" in download.headers["Content-Disposition"]
        assert download.mimetype == "application/pdf"
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Security-Policy"] == "sandbox"
    # Staff of the portal may download it too; another organisation may not.
    for user, status in (("manager", 200), ("outsider", 404), ("colleague", 404)):
        with client_for(cast[user]).get(url) as response:
            assert response.status_code == status, user


# --- the whole journey ---------------------------------------------------------------------


def test_full_journey_through_the_pages(cast, pathogen, client_for):
    partner = client_for(cast["requester"])
    url = f"/requests/new/{pathogen.code}"
    assert post_form(partner, url, {**FORM_DATA, **SAVE}).status_code == 302
    resource_request = db.session.scalar(select(ResourceRequest))
    reference = resource_request.reference
    edit_url = f"/requests/{reference}/edit"
    uploaded = post_form(
        partner,
        edit_url,
        {
            "upload-document_type": "ibc_approval",
            "upload-return_to": "form",
            "upload-file": (io.BytesIO(PDF), "ibc.pdf"),
        },
        action=f"/requests/{reference}/attachments",
    )
    assert uploaded.status_code == 302
    assert post_form(partner, edit_url, {**FORM_DATA, **SEND}).status_code == 302
    assert reload(resource_request).status == RequestStatus.IN_REVIEW

    def decide(who: str, action: str, prefix: str, **fields):
        client = client_for(cast[who])
        step_id = reload(resource_request).current_step.id
        data = {f"{prefix}-step_id": str(step_id)}
        data.update({f"{prefix}-{name}": value for name, value in fields.items()})
        response = post_form(
            client, f"/requests/{reference}", data, action=f"/requests/{reference}/{action}"
        )
        assert response.status_code == 302, html_of(response)

    decide("coordinator", "approve", "approve", comment="Complete.")
    decide("manager", "request-changes", "changes", comment="Ship on dry ice, please.")
    assert reload(resource_request).status == RequestStatus.CHANGES_REQUESTED
    page = html_of(partner.get(f"/requests/{reference}"))
    assert "Ship on dry ice, please." in page and "Waiting for you" in page
    response = post_form(
        partner,
        edit_url,
        {
            **FORM_DATA,
            "material_form": "Frozen vial on dry ice",
            "resubmit_message": "Dry ice added.",
            **SEND,
        },
    )
    assert response.status_code == 302
    assert reload(resource_request).status == RequestStatus.IN_REVIEW
    decide("manager", "approve", "approve")
    decide("biosafety", "approve", "approve", comment="Permit checked.")
    resource_request = reload(resource_request)
    assert resource_request.status == RequestStatus.APPROVED

    page = html_of(partner.get(f"/requests/{reference}"))
    steps_table = page[page.index('id="approval-steps"') : page.index("</table>")]
    rows = steps_table.split("<tr>")[2:]
    for row, (name, comment) in zip(
        rows,
        (
            ("Coordinator Person", "Complete."),
            ("Manager Person", ""),
            ("Biosafety Person", "Permit checked."),
        ),
        strict=True,
    ):
        assert "Approved" in row and name in row and comment in row
    for step in resource_request.steps:
        assert step.decided_at is not None
    timeline = page[page.index('id="timeline"') :]
    for words in ("Submitted for review", "Changes requested", "Resubmitted after changes"):
        assert words in timeline
    assert "Frozen vial on dry ice" in page
    assert "Approved: waiting for the facility to start the work" in page
    assert "Total: ₩120,000" in page and "Recorded at submission" in page


# --- language, escaping, lists ------------------------------------------------------------


def test_a_korean_partner_sees_the_request_page_in_korean(factory, pathogen, client_for):
    partner = factory.partner(locale="ko", name="김연구")
    draft = services.create_draft(partner, pathogen, {"title": "항바이러스 스크리닝"})
    db.session.commit()
    page = html_of(client_for(partner).get(f"/requests/{draft.reference}"))
    assert '<html lang="ko">' in page
    assert "로그아웃" in page and "항바이러스 스크리닝" in page


def test_xss_payloads_are_escaped(cast, pathogen, client_for):
    draft = services.create_draft(
        cast["requester"], pathogen, {"title": XSS_SCRIPT, "purpose": XSS_IMG}
    )
    db.session.commit()
    client = client_for(cast["requester"])
    reference = draft.reference
    post_form(
        client,
        f"/requests/{reference}",
        {"comment-body": f"{XSS_SCRIPT} and {XSS_IMG}"},
        action=f"/requests/{reference}/comments",
    )
    for url in (f"/requests/{reference}", "/requests/", "/", f"/requests/{reference}/edit"):
        html = html_of(client.get(url))
        assert XSS_SCRIPT not in html, url
        assert "<img src=x" not in html, url
    page = html_of(client.get(f"/requests/{reference}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_of(client.get("/requests/"))


def test_my_requests_and_the_organisation_toggle(cast, pathogen, client_for):
    mine = request_in(cast, pathogen, "in_review")
    colleagues = services.create_draft(cast["colleague"], pathogen, {"title": "Colleague's"})
    db.session.commit()
    page = html_of(client_for(cast["requester"]).get("/requests/"))
    assert mine.reference in page and colleagues.reference not in page
    assert "Waiting for: RRC coordinator review" in page
    assert "scope=organisation" not in page
    toggled = html_of(client_for(cast["requester"]).get("/requests/?scope=organisation"))
    assert colleagues.reference not in toggled  # not a manager: the toggle is ignored
    manager = client_for(cast["org_manager"])
    assert "scope=organisation" in html_of(manager.get("/requests/"))
    everything = html_of(manager.get("/requests/?scope=organisation"))
    assert mine.reference in everything and colleagues.reference in everything
    assert "Colleague Person" in everything
    # The organisation manager may open the colleague's request, and the outsider sees nothing.
    assert manager.get(f"/requests/{colleagues.reference}").status_code == 200
    outsider = html_of(client_for(cast["outsider"]).get("/requests/?scope=organisation"))
    assert mine.reference not in outsider and colleagues.reference not in outsider
    # Staff have queues of their own.
    assert client_for(cast["coordinator"]).get("/requests/").status_code == 302


def test_partner_home_lists_open_requests_with_what_they_wait_for(cast, pathogen, client_for):
    waiting = request_in(cast, pathogen, "in_review")
    draft = request_in(cast, pathogen, "draft")
    closed = request_in(cast, pathogen, "cancelled")
    page = html_of(client_for(cast["requester"]).get("/"))
    assert "My open requests" in page
    assert waiting.reference in page and draft.reference in page
    assert closed.reference not in page
    assert "Waiting for: RRC coordinator review" in page
    assert "Waiting for you: complete and submit the draft" in page


# --- query counts ----------------------------------------------------------------------------


def count_queries(client, url: str) -> tuple[int, str]:
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return len(statements), html_of(response)


def add_requests(cast, resource, count: int) -> None:
    for number in range(count):
        services.create_draft(
            cast["requester"], resource, {**COMMON, "title": f"Request {number}", "quantity": 1}
        )
    db.session.commit()


def test_my_requests_query_count_does_not_grow(cast, pathogen, client_for):
    request_in(cast, pathogen, "in_review")  # one with approval steps
    client = client_for(cast["requester"])
    one, page = count_queries(client, "/requests/")
    assert page.count('href="/requests/RRC-') == 1
    home_one, _ = count_queries(client, "/")
    add_requests(cast, pathogen, 49)
    fifty, page = count_queries(client, "/requests/")
    assert page.count('href="/requests/RRC-') == 25  # one full page
    home_fifty, _ = count_queries(client, "/")
    assert fifty == one
    assert home_fifty == home_one
