"""The request services: submission, the approval chain, mail, stale actions, references."""

import pytest
from sqlalchemy import select

from rrc.extensions import db
from rrc.models import (
    ApprovalStepKind,
    BookingMode,
    DocumentType,
    RequestEvent,
    RequestStatus,
    ResourceKind,
    StepState,
)
from rrc.requests import services
from rrc.requests.workflow import IllegalTransition
from tests.conftest import BIOSAFETY, COMMON, MATERIAL, PDF, full_draft, outbox


def test_full_chain_with_change_request(people, pathogen):
    partner = people["partner"]
    draft = full_draft(partner, pathogen)
    assert draft.reference.startswith("RRC-") and draft.status == RequestStatus.DRAFT
    services.submit(partner, draft)
    db.session.commit()
    assert draft.status == RequestStatus.IN_REVIEW
    assert [step.kind for step in draft.steps] == [
        ApprovalStepKind.COORDINATOR,
        ApprovalStepKind.FACILITY_MANAGER,
        ApprovalStepKind.BIOSAFETY,
    ]
    assert draft.estimate_snapshot["total"] == 2 * 60_000  # academic tier, 2 vials
    receipt = outbox(recipient=partner.email)
    assert len(receipt) == 1 and "under review" in receipt[0].subject
    assert "confirmed" not in receipt[0].subject.lower()
    assert len(outbox(recipient=people["coordinator"].email)) == 1

    first = draft.current_step
    with pytest.raises(IllegalTransition):
        services.approve(people["manager"], draft, first.id)  # not the manager's step yet
    services.approve(people["coordinator"], draft, first.id, "Complete.")
    db.session.commit()
    second = draft.current_step
    assert second.kind == ApprovalStepKind.FACILITY_MANAGER
    with pytest.raises(IllegalTransition):
        services.approve(people["other_manager"], draft, second.id)  # another facility's manager
    services.request_changes(people["manager"], draft, second.id, "Ship on dry ice, please.")
    db.session.commit()
    assert draft.status == RequestStatus.CHANGES_REQUESTED
    assert any("changes requested" in m.subject for m in outbox(recipient=partner.email))

    services.update_draft(partner, draft, {"material_form": "Frozen vial on dry ice"})
    services.resubmit(partner, draft, "Dry ice added.")
    db.session.commit()
    assert draft.status == RequestStatus.IN_REVIEW
    assert draft.current_step.id == second.id  # review resumes at the step that asked
    services.approve(people["manager"], draft, second.id)
    services.approve(people["biosafety"], draft, draft.current_step.id)
    db.session.commit()
    assert draft.status == RequestStatus.APPROVED
    approved = [m for m in outbox(recipient=partner.email) if "approved" in m.subject]
    assert len(approved) == 1
    kinds = [event.kind for event in draft.events]
    assert kinds == [
        "created",
        "uploaded",
        "submitted",
        "step_approved",
        "changes_requested",
        "edited",
        "resubmitted",
        "step_approved",
        "step_approved",
    ]


def test_stale_approval_is_explained(people, pathogen):
    draft = full_draft(people["partner"], pathogen)
    services.submit(people["partner"], draft)
    step = draft.current_step
    services.approve(people["coordinator"], draft, step.id)
    db.session.commit()
    with pytest.raises(IllegalTransition, match=r"already decided .* by Coordinator Person"):
        services.approve(people["coordinator"], draft, step.id)


def test_bsl3_without_ibc_number_is_refused_by_the_service(people, pathogen):
    draft = full_draft(people["partner"], pathogen, ibc_approval_number="")
    with pytest.raises(services.IncompleteRequest) as refusal:
        services.submit(people["partner"], draft)
    assert "ibc_approval_number" in refusal.value.problems
    db.session.rollback()
    assert db.session.get(type(draft), draft.id).status == RequestStatus.DRAFT


def test_missing_document_is_refused(people, pathogen):
    draft = services.create_draft(people["partner"], pathogen, {**COMMON, **BIOSAFETY, **MATERIAL})
    with pytest.raises(services.IncompleteRequest) as refusal:
        services.submit(people["partner"], draft)
    assert set(refusal.value.problems) == {"document:ibc_approval"}


def test_no_approval_needed_goes_straight_to_approved(factory, people):
    consultation = factory.resource(
        kind=ResourceKind.CONSULTATION, biosafety_level=1, approval_chain=[]
    )
    draft = services.create_draft(
        people["partner"],
        consultation,
        {
            **COMMON,
            "requested_minutes": 60,
            "preferred_dates": "Any Tuesday",
            "usage_mode": "escorted",
        },
    )
    services.submit(people["partner"], draft)
    db.session.commit()
    assert draft.status == RequestStatus.APPROVED and draft.steps == []
    (mail,) = outbox(recipient=people["partner"].email)
    assert "approved" in mail.subject


def test_reject_needs_reason_and_skips_later_steps(people, pathogen):
    draft = full_draft(people["partner"], pathogen)
    services.submit(people["partner"], draft)
    step = draft.current_step
    with pytest.raises(services.RequestError):
        services.reject(people["coordinator"], draft, step.id, " ")
    services.reject(people["coordinator"], draft, step.id, "Recipient lab not licensed.")
    db.session.commit()
    assert draft.status == RequestStatus.REJECTED
    assert [s.state for s in draft.steps] == [
        StepState.REJECTED,
        StepState.SKIPPED,
        StepState.SKIPPED,
    ]
    (rejection,) = [
        m for m in outbox(recipient=people["partner"].email) if "not approved" in m.subject
    ]
    assert "Recipient lab not licensed." in rejection.text_body


def test_cancel_start_complete(people, factory):
    resource = factory.resource(
        booking_mode=BookingMode.QUANTITY,
        kind=ResourceKind.SERVICE,
        biosafety_level=1,
        unit_label="plate",
        approval_chain=["coordinator"],
        facility=people["facility"],
    )
    data = {
        **COMMON,
        "quantity": 3,
        "samples_description": "10 compounds",
        "desired_timeline": "June",
        "deliverables": "IC50 report",
    }
    draft = services.create_draft(people["partner"], resource, data)
    services.submit(people["partner"], draft)
    services.approve(people["coordinator"], draft, draft.current_step.id)
    with pytest.raises(IllegalTransition):
        services.complete(people["manager"], draft)
    services.start(people["manager"], draft)
    with pytest.raises(IllegalTransition):
        services.cancel(people["partner"], draft, "Too late")
    services.complete(people["manager"], draft, "Report sent.")
    db.session.commit()
    assert draft.status == RequestStatus.COMPLETED
    second = services.create_draft(people["partner"], resource, data)
    services.submit(people["partner"], second)
    with pytest.raises(services.RequestError):
        services.cancel(people["partner"], second, "")
    services.cancel(people["partner"], second, "Budget cut.")
    db.session.commit()
    assert second.status == RequestStatus.CANCELLED
    cancelled = outbox(recipient=people["coordinator"].email)
    assert any("cancelled" in m.subject for m in cancelled)


def test_skip_and_reassign(people, pathogen, factory):
    draft = full_draft(people["partner"], pathogen)
    services.submit(people["partner"], draft)
    first = draft.current_step
    with pytest.raises(IllegalTransition):
        services.skip_step(people["manager"], draft, first.id, "no")
    services.skip_step(people["coordinator"], draft, first.id, "Checked by phone.")
    second = draft.current_step
    assert second.kind == ApprovalStepKind.FACILITY_MANAGER
    deputy = factory.facility_manager(people["facility"], name="Deputy Manager")
    services.reassign_step(people["coordinator"], draft, second.id, deputy, "Holiday cover")
    with pytest.raises(IllegalTransition):
        services.approve(people["manager"], draft, second.id)
    services.approve(deputy, draft, second.id)
    db.session.commit()
    assert draft.current_step.kind == ApprovalStepKind.BIOSAFETY


def test_references_are_unique_and_sequential(people, pathogen):
    first = services.create_draft(people["partner"], pathogen, {})
    second = services.create_draft(people["partner"], pathogen, {})
    db.session.commit()
    year = first.created_at.year
    assert first.reference == f"RRC-{year}-00001"
    assert second.reference == f"RRC-{year}-00002"
    db.session.delete(second)
    db.session.commit()
    third = services.create_draft(people["partner"], pathogen, {})
    assert third.reference == f"RRC-{year}-00003"  # never reused


def test_comments_internal_and_public(people, pathogen):
    draft = full_draft(people["partner"], pathogen)
    services.submit(people["partner"], draft)
    db.session.commit()
    before = len(outbox(recipient=people["partner"].email))
    services.add_comment(people["coordinator"], draft, "Internal note", internal=True)
    services.add_comment(people["coordinator"], draft, "<b>Public</b> note")
    db.session.commit()
    mails = outbox(recipient=people["partner"].email)[before:]
    assert len(mails) == 1 and "&lt;b&gt;Public&lt;/b&gt;" in mails[0].html_body
    with pytest.raises(services.RequestError):
        services.add_comment(people["partner"], draft, "hi", internal=True)
    events = db.session.scalars(select(RequestEvent).where(RequestEvent.kind == "commented"))
    assert [event.internal for event in events] == [True, False]


def test_documents_checked_by_content(people, pathogen):
    draft = services.create_draft(people["partner"], pathogen, {})
    with pytest.raises(services.RequestError, match="Only PDF"):
        services.add_attachment(people["partner"], draft, b"MZ\x90\x00 not a pdf", "x.pdf", None)
    attachment = services.add_attachment(
        people["partner"], draft, PDF, "../../etc/passwd.pdf", DocumentType.IBC_APPROVAL
    )
    assert attachment.original_name == "passwd.pdf"
    assert "/" not in attachment.stored_name and attachment.stored_name.endswith(".pdf")
    assert attachment.size == len(PDF) and len(attachment.sha256) == 64
