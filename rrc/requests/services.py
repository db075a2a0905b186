"""Request rules: drafts, submission, decisions, cancellation, comments and documents.

Each public function takes the acting user, checks the move against :mod:`workflow`, changes the
request, writes its timeline event and queues the e-mails — all in the caller's transaction.
Services flush; views commit.
"""

from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from rrc import audit
from rrc.bookings import services as bookings
from rrc.catalogue.pricing import (
    Estimate,
    PricingError,
    estimate,
    tier_for,
    units_for_duration,
)
from rrc.extensions import db
from rrc.models import (
    ApprovalStep,
    Attachment,
    BookingMode,
    Capability,
    Comment,
    DocumentType,
    RequestCounter,
    RequestEvent,
    RequestStatus,
    Resource,
    ResourceRequest,
    StepState,
    User,
    UserKind,
    UserStatus,
)
from rrc.models.types import utcnow
from rrc.requests import documents, notifications, requirements
from rrc.requests.workflow import (
    Action,
    IllegalTransition,
    allowed_actions,
    can_comment,
    can_edit,
    can_upload,
    may_decide_kind,
    may_decide_step,
    next_status,
)

# Fields a partner fills; everything else on the model is set by the service.
EDITABLE_FIELDS = (
    "title",
    "purpose",
    "principal_investigator",
    "payer",
    "billing_contact",
    "billing_email",
    "po_number",
    "proprietary",
    "quantity",
    "requested_minutes",
    "preferred_dates",
    "usage_mode",
    "agent_name",
    "risk_group",
    "high_risk_pathogen",
    "gmo",
    "ibc_approval_number",
    "ibc_approval_date",
    "training_evidence",
    "irb_approval_number",
    "use_plan",
    "iacuc_protocol_number",
    "species",
    "animal_count",
    "material_form",
    "shipping_address",
    "shipping_country",
    "receiving_person",
    "receiving_phone",
    "samples_description",
    "plate_format",
    "desired_timeline",
    "deliverables",
)


class RequestError(Exception):
    """A business rule refused the action; ``field`` names the form field concerned."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class IncompleteRequest(RequestError):
    """Submission refused: ``problems`` maps each missing or invalid field to a message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(_("The request is not complete yet: see the marked fields."))
        self.problems = problems


# --- references --------------------------------------------------------------------------


def next_reference(year: int) -> str:
    """The next ``RRC-<year>-<5 digits>``; the counter row is locked, so numbers never repeat."""
    result = db.session.execute(
        update(RequestCounter)
        .where(RequestCounter.year == year)
        .values(last_number=RequestCounter.last_number + 1)
        .returning(RequestCounter.last_number)
    ).scalar()
    if result is None:
        try:
            with db.session.begin_nested():
                db.session.add(RequestCounter(year=year, last_number=1))
            result = 1
        except Exception:  # another transaction created the year's row first
            return next_reference(year)
    return f"RRC-{year}-{result:05d}"


# --- drafts ------------------------------------------------------------------------------


def _require_partner_who_may_request(actor: User) -> None:
    if not (actor.is_partner and actor.status == UserStatus.ACTIVE):
        raise RequestError(_("Only approved partner accounts can file requests."))
    if actor.organisation is None or not actor.organisation.is_verified:
        raise RequestError(_("Your organisation is not verified, so it cannot file requests."))


def apply_fields(resource_request: ResourceRequest, data: dict) -> None:
    """Copy the editable fields present in ``data`` onto the request (strings stripped)."""
    for name in EDITABLE_FIELDS:
        if name in data:
            value = data[name]
            if isinstance(value, str):
                value = value.strip()
            setattr(resource_request, name, value)


def _record_acceptances(resource_request: ResourceRequest, data: dict) -> None:
    now = utcnow()
    if data.get("accept_terms"):
        resource_request.terms_accepted_at = resource_request.terms_accepted_at or now
        resource_request.terms_version = current_app.config["TERMS_VERSION"]
    elif "accept_terms" in data:
        resource_request.terms_accepted_at = None
        resource_request.terms_version = None
    if data.get("accept_mta"):
        resource_request.mta_accepted_at = resource_request.mta_accepted_at or now
    elif "accept_mta" in data:
        resource_request.mta_accepted_at = None


def create_draft(actor: User, resource: Resource, data: dict) -> ResourceRequest:
    """Start a request for ``resource`` (saved as a draft; nothing is reviewed yet)."""
    _require_partner_who_may_request(actor)
    if not resource.active:
        raise RequestError(_("This resource is retired and cannot be requested."))
    organisation = actor.organisation
    resource_request = ResourceRequest(
        reference=next_reference(utcnow().year),
        requester=actor,
        organisation=organisation,
        resource=resource,
        status=RequestStatus.DRAFT,
        payer=organisation.name,
        billing_email=organisation.billing_email,
    )
    apply_fields(resource_request, data)
    _record_acceptances(resource_request, data)
    db.session.add(resource_request)
    db.session.flush()
    _event(resource_request, actor, "created", to_status=RequestStatus.DRAFT)
    return resource_request


def update_draft(actor: User, resource_request: ResourceRequest, data: dict) -> None:
    """Save changes to a draft or to a request sent back for changes."""
    if not can_edit(actor, resource_request):
        raise IllegalTransition(_("This request can no longer be edited."))
    before = {name: getattr(resource_request, name) for name in EDITABLE_FIELDS}
    apply_fields(resource_request, data)
    _record_acceptances(resource_request, data)
    changed = [name for name in EDITABLE_FIELDS if getattr(resource_request, name) != before[name]]
    if changed and resource_request.status == RequestStatus.CHANGES_REQUESTED:
        # Reviewers see what the partner changed after they asked for changes.
        _event(resource_request, actor, "edited", detail=", ".join(changed))
    db.session.flush()


def requested_sessions(resource_request: ResourceRequest) -> list[tuple[datetime, datetime]]:
    """The sessions a slot request asks for, as aware UTC datetimes."""
    sessions = []
    for slot in resource_request.requested_slots or []:
        sessions.append(
            (datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"]))
        )
    return sessions


def current_estimate(resource_request: ResourceRequest) -> Estimate | None:
    """The estimate for the request as it stands, or ``None`` while the amount is unknown."""
    resource = resource_request.resource
    tier = tier_for(resource_request.organisation)
    try:
        sessions = requested_sessions(resource_request)
        if resource.booking_mode == BookingMode.SLOT and sessions:
            # A started unit counts whole, session by session.
            units = sum(
                units_for_duration(resource, int((end - start).total_seconds() // 60))
                for start, end in sessions
            )
            return estimate(resource, tier, quantity=units)
        if resource.booking_mode == BookingMode.SLOT:
            if not resource_request.requested_minutes:
                return None
            return estimate(resource, tier, duration_minutes=resource_request.requested_minutes)
        if not resource_request.quantity:
            return None
        return estimate(resource, tier, quantity=resource_request.quantity)
    except PricingError:
        return None


# --- transitions -------------------------------------------------------------------------


def _event(
    resource_request: ResourceRequest,
    actor: User | None,
    kind: str,
    *,
    from_status: RequestStatus | None = None,
    to_status: RequestStatus | None = None,
    step: ApprovalStep | None = None,
    detail: str = "",
    internal: bool = False,
) -> RequestEvent:
    event = RequestEvent(
        resource_request=resource_request,
        actor=actor,
        kind=kind,
        from_status=str(from_status) if from_status else None,
        to_status=str(to_status) if to_status else None,
        step_kind=str(step.kind) if step else None,
        detail=detail or "",
        internal=internal,
    )
    db.session.add(event)
    db.session.flush()
    return event


def _check_allowed(actor: User, resource_request: ResourceRequest, action: Action) -> None:
    """Refuse a move the user may not make now, explaining stale decisions kindly."""
    if action in allowed_actions(actor, resource_request):
        return
    raise IllegalTransition(_explain_refusal(resource_request, action))


def _explain_refusal(resource_request: ResourceRequest, action: Action) -> str:
    from rrc.labels import label

    last = resource_request.events[-1] if resource_request.events else None
    status = label(resource_request.status)
    if last is not None and last.actor is not None and last.to_status == resource_request.status:
        return _(
            "This request is already %(status)s (by %(who)s at %(when)s); nothing was changed."
        ) % {"status": status, "who": last.actor.name, "when": _short_time(last.at)}
    return _("This action is not possible while the request is %(status)s.") % {"status": status}


def _short_time(moment) -> str:
    from rrc.i18n import datetime_filter

    return datetime_filter(moment, "short")


def _activate_next_step(
    resource_request: ResourceRequest, after_position: int
) -> ApprovalStep | None:
    """Make the next waiting step pending; ``None`` when no step remains."""
    for step in resource_request.steps:
        if step.position > after_position and step.state == StepState.WAITING:
            step.state = StepState.PENDING
            step.pending_since = utcnow()
            return step
    return None


def _snapshot(resource_request: ResourceRequest) -> None:
    result = current_estimate(resource_request)
    resource_request.estimate_snapshot = result.as_snapshot() if result else None


def submit(actor: User, resource_request: ResourceRequest) -> None:
    """Validate everything, snapshot the estimate, create the approval steps and start review."""
    _require_partner_who_may_request(actor)
    _check_allowed(actor, resource_request, Action.SUBMIT)
    problems = requirements.missing_for_submission(resource_request)
    if problems:
        raise IncompleteRequest(problems)
    _hold_sessions(resource_request)
    _snapshot(resource_request)
    resource_request.submitted_at = utcnow()
    chain = resource_request.resource.chain
    resource_request.steps = [
        ApprovalStep(position=position, kind=kind, state=StepState.WAITING)
        for position, kind in enumerate(chain, start=1)
    ]
    db.session.flush()
    first = _activate_next_step(resource_request, 0)
    target = next_status(resource_request.status, Action.SUBMIT, last_step=first is None)
    before = resource_request.status
    resource_request.status = target
    event = _event(resource_request, actor, "submitted", from_status=before, to_status=target)
    if first is None:
        resource_request.decided_at = utcnow()
        bookings.confirm(resource_request)
        approved = _event(
            resource_request,
            None,
            "approved",
            from_status=target,
            to_status=target,
            detail="no approval needed",
        )
        notifications.approved(resource_request, approved)
    else:
        notifications.submitted(resource_request, event)
        notifications.step_waiting(resource_request, first, event)


def _hold_sessions(resource_request: ResourceRequest) -> None:
    """Slot requests hold their sessions at submission; a taken slot refuses the submission."""
    sessions = requested_sessions(resource_request)
    if resource_request.resource.booking_mode != BookingMode.SLOT or not sessions:
        return
    try:
        bookings.hold(resource_request, sessions)
    except bookings.BookingError as error:
        raise IncompleteRequest({"requested_slots": error.message}) from None


def _pending_step(resource_request: ResourceRequest, step_id: int) -> ApprovalStep:
    step = next((step for step in resource_request.steps if step.id == step_id), None)
    if step is None:
        raise IllegalTransition(_("This approval step does not belong to the request."))
    if step.state != StepState.PENDING or resource_request.status != RequestStatus.IN_REVIEW:
        from rrc.labels import label

        if step.decided_by is not None and step.decided_at is not None:
            raise IllegalTransition(
                _("This step was already decided (%(state)s) by %(who)s at %(when)s.")
                % {
                    "state": label(step.state),
                    "who": step.decided_by.name,
                    "when": _short_time(step.decided_at),
                }
            )
        raise IllegalTransition(_explain_refusal(resource_request, Action.APPROVE))
    return step


def _decide(actor: User, step: ApprovalStep, state: StepState, comment: str) -> None:
    step.state = state
    step.decided_by = actor
    step.decided_at = utcnow()
    step.comment = comment.strip() or None


def approve(
    actor: User, resource_request: ResourceRequest, step_id: int, comment: str = ""
) -> None:
    """Approve the current step; the last approval approves the request."""
    step = _pending_step(resource_request, step_id)
    _check_allowed(actor, resource_request, Action.APPROVE)
    if requested_sessions(resource_request) and not any(
        booking.is_active for booking in bookings.request_bookings(resource_request)
    ):
        # A closure cancelled every session: approving would confirm nothing.
        raise RequestError(
            _(
                "Every session of this request has been cancelled (see the timeline), so there "
                "is nothing left to approve. Reject it with a word to the partner, who can "
                "request new sessions."
            )
        )
    _decide(actor, step, StepState.APPROVED, comment)
    _move_past(actor, resource_request, step, Action.APPROVE, "step_approved", comment)


def _move_past(
    actor: User,
    resource_request: ResourceRequest,
    step: ApprovalStep,
    action: Action,
    kind: str,
    detail: str,
    *,
    internal: bool = False,
) -> None:
    """After a step is approved or skipped: the next step becomes current, or the request is
    approved when none remains; the timeline and the mail follow."""
    following = _activate_next_step(resource_request, step.position)
    target = next_status(resource_request.status, action, last_step=following is None)
    event = _event(
        resource_request,
        actor,
        kind,
        from_status=resource_request.status,
        to_status=target,
        step=step,
        detail=detail.strip(),
        internal=internal,
    )
    resource_request.status = target
    if following is None:
        resource_request.decided_at = utcnow()
        bookings.confirm(resource_request)
        notifications.approved(resource_request, event)
    else:
        notifications.step_waiting(resource_request, following, event)


def reject(actor: User, resource_request: ResourceRequest, step_id: int, reason: str) -> None:
    """Reject the request at the current step; the reason goes to the partner."""
    if not reason.strip():
        raise RequestError(_("Give a reason for the rejection."), "comment")
    step = _pending_step(resource_request, step_id)
    _check_allowed(actor, resource_request, Action.REJECT)
    _decide(actor, step, StepState.REJECTED, reason)
    for later in resource_request.steps:
        if later.state == StepState.WAITING:
            later.state = StepState.SKIPPED
    before = resource_request.status
    bookings.release(resource_request)
    resource_request.status = next_status(before, Action.REJECT, last_step=True)
    resource_request.decided_at = resource_request.closed_at = utcnow()
    event = _event(
        resource_request,
        actor,
        "rejected",
        from_status=before,
        to_status=resource_request.status,
        step=step,
        detail=reason.strip(),
    )
    notifications.rejected(resource_request, event)


def request_changes(
    actor: User, resource_request: ResourceRequest, step_id: int, message: str
) -> None:
    """Send the request back to the partner; review resumes at this step on resubmission."""
    if not message.strip():
        raise RequestError(_("Say what should change."), "comment")
    step = _pending_step(resource_request, step_id)
    _check_allowed(actor, resource_request, Action.REQUEST_CHANGES)
    _decide(actor, step, StepState.CHANGES_REQUESTED, message)
    before = resource_request.status
    resource_request.status = next_status(before, Action.REQUEST_CHANGES, last_step=False)
    event = _event(
        resource_request,
        actor,
        "changes_requested",
        from_status=before,
        to_status=resource_request.status,
        step=step,
        detail=message.strip(),
    )
    notifications.changes_requested(resource_request, event)


def resubmit(actor: User, resource_request: ResourceRequest, message: str = "") -> None:
    """Send an edited request back to review, at the step that asked for the changes."""
    _check_allowed(actor, resource_request, Action.RESUBMIT)
    problems = requirements.missing_for_submission(resource_request)
    if problems:
        raise IncompleteRequest(problems)
    _snapshot(resource_request)
    step = next(
        (step for step in resource_request.steps if step.state == StepState.CHANGES_REQUESTED),
        None,
    )
    if step is None:  # defensive: the table only allows this from changes_requested
        raise IllegalTransition(_("No step asked for changes."))
    step.state = StepState.PENDING
    step.pending_since = utcnow()
    step.decided_by = None
    step.decided_at = None
    step.comment = None  # the request for changes stays on the timeline
    before = resource_request.status
    resource_request.status = next_status(before, Action.RESUBMIT, last_step=False)
    event = _event(
        resource_request,
        actor,
        "resubmitted",
        from_status=before,
        to_status=resource_request.status,
        step=step,
        detail=message.strip(),
    )
    notifications.resubmitted(resource_request, step, event)


def cancel(actor: User, resource_request: ResourceRequest, reason: str) -> None:
    """The requester withdraws the request, with a reason, until the work is in progress."""
    if not reason.strip():
        raise RequestError(_("Give a reason for cancelling."), "reason")
    _check_allowed(actor, resource_request, Action.CANCEL)
    before = resource_request.status
    recipients = staff_concerned(resource_request)  # before the steps are closed
    for step in resource_request.steps:
        if step.state in (StepState.WAITING, StepState.PENDING):
            step.state = StepState.SKIPPED
    bookings.release(resource_request, cancelled=True)
    resource_request.status = next_status(before, Action.CANCEL, last_step=True)
    resource_request.cancel_reason = reason.strip()
    resource_request.closed_at = utcnow()
    event = _event(
        resource_request,
        actor,
        "cancelled",
        from_status=before,
        to_status=resource_request.status,
        detail=reason.strip(),
    )
    if before != RequestStatus.DRAFT:
        notifications.cancelled(resource_request, event, recipients)


def start(actor: User, resource_request: ResourceRequest, note: str = "") -> None:
    """Staff mark approved work as in progress."""
    _check_allowed(actor, resource_request, Action.START)
    before = resource_request.status
    resource_request.status = next_status(before, Action.START, last_step=True)
    event = _event(
        resource_request,
        actor,
        "started",
        from_status=before,
        to_status=resource_request.status,
        detail=note.strip(),
    )
    notifications.started(resource_request, event)


def complete(actor: User, resource_request: ResourceRequest, note: str = "") -> None:
    """Staff mark the work completed."""
    _check_allowed(actor, resource_request, Action.COMPLETE)
    before = resource_request.status
    resource_request.status = next_status(before, Action.COMPLETE, last_step=True)
    resource_request.closed_at = utcnow()
    event = _event(
        resource_request,
        actor,
        "completed",
        from_status=before,
        to_status=resource_request.status,
        detail=note.strip(),
    )
    notifications.completed(resource_request, event)


def skip_step(actor: User, resource_request: ResourceRequest, step_id: int, reason: str) -> None:
    """A coordinator skips the current step (with a reason); the next one becomes current."""
    if not reason.strip():
        raise RequestError(_("Give a reason for skipping the step."), "reason")
    step = _pending_step(resource_request, step_id)
    _check_allowed(actor, resource_request, Action.SKIP_STEP)
    _decide(actor, step, StepState.SKIPPED, reason)
    _move_past(
        actor, resource_request, step, Action.SKIP_STEP, "step_skipped", reason, internal=True
    )


def reassign_step(
    actor: User, resource_request: ResourceRequest, step_id: int, assignee: User, reason: str
) -> None:
    """A coordinator hands the current step to one named staff member who may decide it."""
    if not reason.strip():
        raise RequestError(_("Give a reason for the reassignment."), "reason")
    step = _pending_step(resource_request, step_id)
    _check_allowed(actor, resource_request, Action.REASSIGN_STEP)
    if not (assignee.is_staff and assignee.is_approved):
        raise RequestError(_("Steps can only be assigned to active staff."), "assignee")
    # Judged on the kind of step: the step's current assignment must not decide the check.
    if not may_decide_kind(assignee, resource_request, step.kind):
        raise RequestError(
            _("%(name)s cannot decide this kind of step.") % {"name": assignee.name}, "assignee"
        )
    step.assignee = assignee
    step.pending_since = utcnow()
    event = _event(
        resource_request,
        actor,
        "step_reassigned",
        step=step,
        detail=f"{assignee.name}: {reason.strip()}",
        internal=True,
    )
    notifications.step_waiting(resource_request, step, event)


# --- comments and documents --------------------------------------------------------------


def add_comment(
    actor: User, resource_request: ResourceRequest, body: str, *, internal: bool = False
) -> Comment:
    """A comment on the request; only staff write internal ones."""
    if not can_comment(actor, resource_request):
        raise IllegalTransition(_("You cannot comment on this request."))
    if not body.strip():
        raise RequestError(_("Write a comment first."), "body")
    if internal and not actor.is_staff:
        raise RequestError(_("Only IPK staff can write internal notes."), "internal")
    comment = Comment(
        resource_request=resource_request, author=actor, body=body.strip(), internal=internal
    )
    db.session.add(comment)
    event = _event(resource_request, actor, "commented", detail=body.strip(), internal=internal)
    if not internal:
        notifications.commented(resource_request, actor, event)
    return comment


def add_attachment(
    actor: User,
    resource_request: ResourceRequest,
    data: bytes,
    filename: str,
    document_type: DocumentType | None,
) -> Attachment:
    """Store a checked document with the request and note it on the timeline."""
    if not can_upload(actor, resource_request):
        raise IllegalTransition(_("You cannot add documents to this request."))
    try:
        stored = documents.store_document(data, filename)
    except documents.DocumentError as error:
        raise RequestError(str(error), "file") from None
    attachment = Attachment(
        resource_request=resource_request,
        uploaded_by=actor,
        document_type=document_type,
        original_name=stored.original_name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        stored_name=stored.stored_name,
    )
    db.session.add(attachment)
    _event(resource_request, actor, "uploaded", detail=stored.original_name)
    audit.record(
        actor, "request.document_uploaded", target=resource_request, detail=stored.original_name
    )
    return attachment


# --- who decides -------------------------------------------------------------------------


def deciders(resource_request: ResourceRequest, step: ApprovalStep) -> list[User]:
    """The staff who may decide ``step`` (admins only when nobody else can)."""
    if step.assignee is not None:
        return [step.assignee]
    staff = list(
        db.session.scalars(
            select(User)
            .where(User.kind == UserKind.STAFF, User.status == UserStatus.ACTIVE)
            .order_by(User.id)
        )
    )
    able = [
        member
        for member in staff
        if not member.is_admin and may_decide_step(member, resource_request, step)
    ]
    return able or [member for member in staff if member.has_capability(Capability.ADMIN)]


def staff_concerned(resource_request: ResourceRequest) -> list[User]:
    """Who hears of resubmissions, cancellations and partner comments."""
    step = resource_request.current_step
    if step is not None:
        return deciders(resource_request, step)
    managers = [
        manager
        for manager in resource_request.resource.facility.managers
        if manager.status == UserStatus.ACTIVE
    ]
    if managers:
        return managers
    from rrc.auth.services import coordinators

    return coordinators()


def waiting_days(step: ApprovalStep, today: date | None = None) -> int:
    """Whole days a step has waited for its decision."""
    if step.pending_since is None:
        return 0
    return ((today or utcnow().date()) - step.pending_since.date()).days
