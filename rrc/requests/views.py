"""Partner and staff pages of a request: the form, the request page and its actions."""

import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask import session as browser_session
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from rrc import dates
from rrc.bookings import availability
from rrc.bookings.services import zone_of
from rrc.catalogue.pricing import Money, PricingError, estimate, tier_for
from rrc.catalogue.search import public_resource, viewer_tier
from rrc.extensions import db
from rrc.forms import EmptyForm, country_name
from rrc.labels import label
from rrc.models import (
    ACTIVE_STATUSES,
    ApprovalStep,
    ApprovalStepKind,
    Attachment,
    Booking,
    Comment,
    Facility,
    PriceTier,
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
from rrc.requests import documents, forms, requirements, services, workflow
from rrc.requests.workflow import Action, IllegalTransition

blueprint = Blueprint("requests", __name__, url_prefix="/requests")

PER_PAGE = 25
UPCOMING_SHOWN = 20  # sessions listed above a partner's requests

# What each timeline entry says (RequestEvent.kind).
EVENT_LABELS = {
    "created": _l("Draft created"),
    "uploaded": _l("Document added"),
    "submitted": _l("Submitted for review"),
    "approved": _l("Approved"),
    "step_approved": _l("Step approved"),
    "rejected": _l("Not approved"),
    "changes_requested": _l("Changes requested"),
    "resubmitted": _l("Resubmitted after changes"),
    "cancelled": _l("Cancelled"),
    "started": _l("Work started"),
    "completed": _l("Completed"),
    "step_skipped": _l("Step skipped"),
    "step_reassigned": _l("Step reassigned"),
    "commented": _l("Comment"),
    "edited": _l("Changed after the request for changes"),
    "booking_moved": _l("Session moved"),
    "booking_completed": _l("Session completed"),
    "booking_no_show": _l("Session marked no-show"),
    "booking_cancelled_by_closure": _l("Session cancelled (facility closed)"),
}


@blueprint.app_template_filter("request_label")
def request_label_filter(value) -> str:
    """Jinja: the label of a request status, step state or usage mode."""
    return forms.request_label(value)


@blueprint.app_template_filter("duration")
def duration_filter(minutes: int | None) -> str:
    """Jinja: minutes written as "1 h 30 min"."""
    return forms.duration_text(minutes)


@blueprint.app_template_filter("filesize")
def filesize_filter(size: int) -> str:
    """Jinja: a file size for people ("12.5 KB")."""
    if size < 1024:
        return _("%(count)d bytes", count=size)
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(round(size / 1024, 1)))
    return _("%(size)s MB", size=format_decimal(round(size / (1024 * 1024), 1)))


# --- loading, scoped to what the user may see ----------------------------------------------


def visible_condition(user: User) -> sa.ColumnElement[bool]:
    """A WHERE condition keeping the requests ``user`` may see (mirrors ``workflow.can_view``)."""
    if not user.is_authenticated:
        return sa.false()
    if user.is_staff:
        return sa.true() if user.is_approved else sa.false()
    own = ResourceRequest.requester_id == user.id
    if user.is_org_manager and user.organisation_id is not None:
        return sa.or_(own, ResourceRequest.organisation_id == user.organisation_id)
    return own


PAGE_OPTIONS = (
    selectinload(ResourceRequest.resource)
    .selectinload(Resource.facility)
    .selectinload(Facility.managers),
    selectinload(ResourceRequest.resource).selectinload(Resource.rates),
    selectinload(ResourceRequest.steps).selectinload(ApprovalStep.decided_by),
    selectinload(ResourceRequest.steps).selectinload(ApprovalStep.assignee),
    selectinload(ResourceRequest.events).selectinload(RequestEvent.actor),
    selectinload(ResourceRequest.comments).selectinload(Comment.author),
    selectinload(ResourceRequest.attachments).selectinload(Attachment.uploaded_by),
    selectinload(ResourceRequest.requester),
    selectinload(ResourceRequest.organisation),
)


def load_visible(reference: str) -> ResourceRequest:
    """The request ``reference`` if the current user may see it, else 404."""
    resource_request = db.session.scalar(
        select(ResourceRequest)
        .options(*PAGE_OPTIONS)
        .where(ResourceRequest.reference == reference, visible_condition(current_user))
    )
    if resource_request is None or not workflow.can_view(current_user, resource_request):
        abort(404)
    return resource_request


def _detail_url(resource_request: ResourceRequest) -> str:
    return url_for("requests.detail", reference=resource_request.reference)


def _locale() -> str:
    return str(get_locale())


# --- presentation helpers -------------------------------------------------------------------


def estimate_display(snapshot: dict | None, resource: Resource) -> dict | None:
    """An estimate (stored snapshot or live) written for the reader."""
    if not snapshot:
        return None
    locale = _locale()
    currency = snapshot["currency"]
    unit = resource.localized("unit_label", locale)
    lines = []
    for line in snapshot["lines"]:
        if line["label"] == "setup":
            lines.append(
                _("Set-up fee: %(amount)s", amount=Money(line["total"], currency).format(locale))
            )
        else:
            lines.append(
                _(
                    "%(quantity)d × %(price)s per %(unit)s = %(total)s",  # noqa: RUF001
                    quantity=line["quantity"],
                    price=Money(line["unit_price"], currency).format(locale),
                    unit=unit,
                    total=Money(line["total"], currency).format(locale),
                )
            )
    total = snapshot.get("total")
    return {
        "tier": label(PriceTier(snapshot["tier"])),
        "on_quote": snapshot["on_quote"],
        "quantity": snapshot["quantity"],
        "unit": unit,
        "lines": lines,
        "total": Money(total, currency).format(locale) if total is not None else None,
    }


def _answer_value(resource_request: ResourceRequest, name: str) -> str:
    value = getattr(resource_request, name, None)
    if name == "accept_mta":
        accepted = resource_request.mta_accepted_at
        return _("Accepted") if accepted else _("Not accepted")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None or value == "":
        return ""
    if name == "requested_minutes":
        return forms.duration_text(value)
    if name == "usage_mode":
        return forms.request_label(value)
    if name == "shipping_country":
        return country_name(value)
    if name == "ibc_approval_date":
        return format_date(value)
    if name == "quantity":
        return f"{value} {resource_request.resource.localized('unit_label', _locale())}"
    return str(value)


# Where the form's label is phrased for the person filling it in.
ANSWER_LABELS = {"accept_mta": _l("Material transfer terms (letter of transfer)")}


def answers(resource_request: ResourceRequest) -> list[tuple[str, list[tuple[str, str]]]]:
    """The partner's answers, block by block, as (label, text) pairs."""
    resource = resource_request.resource
    names = set(forms.applicable_fields(resource))
    result = []
    for block in forms.applicable_blocks(resource):
        rows = [
            (
                str(ANSWER_LABELS.get(name) or forms.answer_label(name)),
                _answer_value(resource_request, name),
            )
            for name in forms.BLOCK_FIELDS[block]
            if name in names
        ]
        result.append((str(forms.BLOCK_TITLES[block]), rows))
    return result


def event_detail(event) -> str:
    """The text under a timeline entry; for edits, the changed fields by their labels."""
    if event.kind == "edited":
        names = [name.strip() for name in event.detail.split(",") if name.strip()]
        return ", ".join(str(forms.answer_label(name)) for name in names)
    return event.detail


def changes_step(resource_request: ResourceRequest) -> ApprovalStep | None:
    """The step that sent the request back for changes, if it is back with the partner."""
    if resource_request.status != RequestStatus.CHANGES_REQUESTED:
        return None
    return next(
        (step for step in resource_request.steps if step.state == StepState.CHANGES_REQUESTED),
        None,
    )


def reassign_candidates(resource_request: ResourceRequest, step: ApprovalStep) -> list[User]:
    """Active staff who could decide ``step`` (whoever it is assigned to now)."""
    staff = db.session.scalars(
        select(User)
        .where(User.kind == UserKind.STAFF, User.status == UserStatus.ACTIVE)
        .order_by(User.name, User.id)
    )
    return [
        member
        for member in staff
        if member.id != step.assignee_id
        and workflow.may_decide_kind(member, resource_request, step.kind)
    ]


def _attach_error(form, error: services.RequestError) -> None:
    """Show a service's refusal beside its field, or at the top of the page."""
    if error.field and error.field in form:
        forms.add_error(form[error.field], error.message)
    else:
        flash(error.message, "danger")


# --- the request page -----------------------------------------------------------------------


def _action_forms(resource_request: ResourceRequest, overrides: dict) -> dict:
    """Every action form of the request page; ``overrides`` are the posted ones with errors."""
    step = resource_request.current_step
    step_data = {"step_id": step.id} if step else {}
    built = {
        "submit": EmptyForm(formdata=None, prefix="submit"),
        "resubmit": forms.ResubmitForm(formdata=None, prefix="resubmit"),
        "cancel": forms.CancelForm(formdata=None, prefix="cancel"),
        "approve": forms.ApproveForm(formdata=None, prefix="approve", data=step_data),
        "reject": forms.RejectForm(formdata=None, prefix="reject", data=step_data),
        "request_changes": forms.ChangesForm(formdata=None, prefix="changes", data=step_data),
        "skip_step": forms.SkipForm(formdata=None, prefix="skip", data=step_data),
        "reassign_step": forms.ReassignForm(formdata=None, prefix="reassign", data=step_data),
        "start": forms.NoteForm(formdata=None, prefix="start"),
        "complete": forms.NoteForm(formdata=None, prefix="complete"),
        "comment": forms.CommentForm(formdata=None, staff=current_user.is_staff),
        "upload": forms.UploadForm(
            resource_request.resource, formdata=None, data={"return_to": "detail"}
        ),
    }
    built.update(overrides)
    return built


def render_detail(resource_request: ResourceRequest, **overrides):
    """The request page, with ``overrides`` replacing action forms that carry errors."""
    user = current_user
    actions = workflow.allowed_actions(user, resource_request)
    action_forms = _action_forms(resource_request, overrides)
    step = resource_request.current_step
    candidates = []
    if Action.REASSIGN_STEP in actions and step is not None:
        candidates = reassign_candidates(resource_request, step)
        action_forms["reassign_step"].set_candidates(candidates)
    if resource_request.estimate_snapshot:
        shown_estimate = estimate_display(
            resource_request.estimate_snapshot, resource_request.resource
        )
        estimate_is_snapshot = True
    else:
        live = services.current_estimate(resource_request)
        shown_estimate = estimate_display(
            live.as_snapshot() if live else None, resource_request.resource
        )
        estimate_is_snapshot = False
    staff = user.is_staff
    request_bookings = services.bookings.request_bookings(resource_request)
    notice = timedelta(hours=resource_request.resource.cancellation_notice_hours)
    now = utcnow()
    # Sessions a cancellation now would cancel late (the facility may charge for them).
    late_sessions = [
        booking
        for booking in request_bookings
        if booking.is_active and now < booking.ends_at and booking.starts_at - now < notice
    ]
    return render_template(
        "requests/detail.html",
        late_sessions=late_sessions,
        resource_request=resource_request,
        resource=resource_request.resource,
        actions=actions,
        Action=Action,
        step=step,
        forms=action_forms,
        estimate=shown_estimate,
        estimate_is_snapshot=estimate_is_snapshot,
        answers=answers(resource_request),
        bookings=request_bookings,
        missing_documents=requirements.missing_documents(resource_request),
        document_problems={},
        comments=[c for c in resource_request.comments if staff or not c.internal],
        events=[e for e in resource_request.events if staff or not e.internal],
        event_labels=EVENT_LABELS,
        event_detail=event_detail,
        can_edit=workflow.can_edit(user, resource_request),
        can_comment=workflow.can_comment(user, resource_request),
        can_upload=workflow.can_upload(user, resource_request),
        changes=changes_step(resource_request),
        step_kind_label=lambda value: label(ApprovalStepKind(value)) if value else "",
    )


@blueprint.get("/<reference>")
@login_required
def detail(reference: str):
    """The request page: where it stands, the answers, documents, comments, timeline, actions."""
    return render_detail(load_visible(reference))


def _step_action(
    reference: str,
    action: Action,
    form: forms.StepForm,
    perform: Callable[[ResourceRequest, forms.StepForm], None],
    done: str,
):
    """Load, check the form, call one service, commit, flash and redirect (PRG)."""
    resource_request = load_visible(reference)
    step = resource_request.current_step
    if isinstance(form, forms.ReassignForm) and step is not None:
        form.set_candidates(reassign_candidates(resource_request, step))
    return _perform(resource_request, action, form, lambda: perform(resource_request, form), done)


def _perform(
    resource_request: ResourceRequest,
    action: Action | str,
    form,
    call: Callable[[], None],
    done: str,
):
    """Run one service call for a posted action form, the PRG way."""
    key = str(action)
    if not form.validate_on_submit():
        if isinstance(action, Action) and action not in workflow.allowed_actions(
            current_user, resource_request
        ):
            flash(_("This action is not possible on the request now."), "warning")
            return redirect(_detail_url(resource_request))
        return render_detail(resource_request, **{key: form})
    try:
        call()
    except IllegalTransition as refusal:
        db.session.rollback()
        flash(refusal.message, "warning")
        return redirect(_detail_url(resource_request))
    except services.RequestError as error:
        db.session.rollback()
        _attach_error(form, error)
        return render_detail(resource_request, **{key: form})
    db.session.commit()
    flash(done, "success")
    return redirect(_detail_url(resource_request))


@blueprint.post("/<reference>/approve")
@login_required
def approve(reference: str):
    """Approve the current step."""
    return _step_action(
        reference,
        Action.APPROVE,
        forms.ApproveForm(prefix="approve"),
        lambda rr, form: services.approve(
            current_user, rr, form.step_id.data, form.comment.data or ""
        ),
        _("Step approved."),
    )


@blueprint.post("/<reference>/reject")
@login_required
def reject(reference: str):
    """Reject the request at the current step (a reason is required)."""
    return _step_action(
        reference,
        Action.REJECT,
        forms.RejectForm(prefix="reject"),
        lambda rr, form: services.reject(current_user, rr, form.step_id.data, form.comment.data),
        _("The request is not approved; the partner has been told why."),
    )


@blueprint.post("/<reference>/request-changes")
@login_required
def request_changes(reference: str):
    """Send the request back to the partner with what should change."""
    return _step_action(
        reference,
        Action.REQUEST_CHANGES,
        forms.ChangesForm(prefix="changes"),
        lambda rr, form: services.request_changes(
            current_user, rr, form.step_id.data, form.comment.data
        ),
        _("The request went back to the partner for changes."),
    )


@blueprint.post("/<reference>/skip-step")
@login_required
def skip_step(reference: str):
    """Skip the current step, with a reason."""
    return _step_action(
        reference,
        Action.SKIP_STEP,
        forms.SkipForm(prefix="skip"),
        lambda rr, form: services.skip_step(current_user, rr, form.step_id.data, form.reason.data),
        _("Step skipped."),
    )


@blueprint.post("/<reference>/reassign-step")
@login_required
def reassign_step(reference: str):
    """Hand the current step to one named staff member."""

    def perform(resource_request: ResourceRequest, form: forms.ReassignForm) -> None:
        assignee = db.session.get(User, form.assignee.data) if form.assignee.data else None
        if assignee is None:
            raise services.RequestError(_("Choose who decides the step."), "assignee")
        services.reassign_step(
            current_user, resource_request, form.step_id.data, assignee, form.reason.data
        )

    return _step_action(
        reference,
        Action.REASSIGN_STEP,
        forms.ReassignForm(prefix="reassign"),
        perform,
        _("Step reassigned; the new decider has been e-mailed."),
    )


@blueprint.post("/<reference>/submit")
@login_required
def submit(reference: str):
    """Submit a complete draft from the request page."""
    resource_request = load_visible(reference)
    form = EmptyForm(prefix="submit")
    if not form.validate_on_submit():
        flash(_("The form expired. Please try again."), "warning")
        return redirect(_detail_url(resource_request))
    try:
        services.submit(current_user, resource_request)
    except services.IncompleteRequest as refusal:
        db.session.rollback()
        if workflow.can_edit(current_user, resource_request):
            return _render_incomplete(resource_request, refusal)
        flash(refusal.message, "danger")
        return redirect(_detail_url(resource_request))
    except (IllegalTransition, services.RequestError) as refusal:
        db.session.rollback()
        flash(refusal.message, "warning")
        return redirect(_detail_url(resource_request))
    db.session.commit()
    flash(_submitted_message(resource_request), "success")
    return redirect(_detail_url(resource_request))


@blueprint.post("/<reference>/resubmit")
@login_required
def resubmit(reference: str):
    """Resubmit a request after the requested changes, with an optional message."""
    resource_request = load_visible(reference)
    form = forms.ResubmitForm(prefix="resubmit")
    if not form.validate_on_submit():
        return render_detail(resource_request, resubmit=form)
    try:
        services.resubmit(current_user, resource_request, form.message.data or "")
    except services.IncompleteRequest as refusal:
        db.session.rollback()
        if workflow.can_edit(current_user, resource_request):
            return _render_incomplete(resource_request, refusal)
        flash(refusal.message, "danger")
        return redirect(_detail_url(resource_request))
    except (IllegalTransition, services.RequestError) as refusal:
        db.session.rollback()
        flash(refusal.message, "warning")
        return redirect(_detail_url(resource_request))
    db.session.commit()
    flash(_("Resubmitted: review resumes at the step that asked for changes."), "success")
    return redirect(_detail_url(resource_request))


@blueprint.post("/<reference>/cancel")
@login_required
def cancel(reference: str):
    """The requester cancels the request (a reason is required)."""
    resource_request = load_visible(reference)
    form = forms.CancelForm(prefix="cancel")
    return _perform(
        resource_request,
        Action.CANCEL,
        form,
        lambda: services.cancel(current_user, resource_request, form.reason.data),
        _("The request is cancelled."),
    )


@blueprint.post("/<reference>/start")
@login_required
def start(reference: str):
    """Staff mark approved work as started."""
    resource_request = load_visible(reference)
    form = forms.NoteForm(prefix="start")
    return _perform(
        resource_request,
        Action.START,
        form,
        lambda: services.start(current_user, resource_request, form.note.data or ""),
        _("The work is marked as started; the partner has been told."),
    )


@blueprint.post("/<reference>/complete")
@login_required
def complete(reference: str):
    """Staff mark the work completed."""
    resource_request = load_visible(reference)
    form = forms.NoteForm(prefix="complete")
    return _perform(
        resource_request,
        Action.COMPLETE,
        form,
        lambda: services.complete(current_user, resource_request, form.note.data or ""),
        _("The work is marked as completed; the partner has been told."),
    )


@blueprint.post("/<reference>/comments")
@login_required
def comment(reference: str):
    """Add a comment (staff may keep it internal)."""
    resource_request = load_visible(reference)
    form = forms.CommentForm(staff=current_user.is_staff)
    internal = bool(form.internal.data) if "internal" in form else False
    return _perform(
        resource_request,
        "comment",
        form,
        lambda: services.add_comment(
            current_user, resource_request, form.body.data, internal=internal
        ),
        _("Internal note added.") if internal else _("Comment added."),
    )


# --- documents ------------------------------------------------------------------------------


@blueprint.post("/<reference>/attachments")
@login_required
def upload(reference: str):
    """Add a document; the page it came from is shown again with any error beside the field."""
    resource_request = load_visible(reference)
    form = forms.UploadForm(resource_request.resource)
    from_form = form.return_to.data == "form" and workflow.can_edit(current_user, resource_request)
    back = (
        url_for("requests.edit", reference=resource_request.reference)
        if from_form
        else _detail_url(resource_request)
    )
    if form.validate_on_submit():
        data = form.file.data.read(documents.max_bytes() + 1)
        try:
            attachment = services.add_attachment(
                current_user,
                resource_request,
                data,
                form.file.data.filename or "",
                form.chosen_type,
            )
        except IllegalTransition as refusal:
            db.session.rollback()
            flash(refusal.message, "warning")
            return redirect(back)
        except services.RequestError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s was added.", name=attachment.original_name), "success")
            return redirect(back)
    if from_form:
        request_form = _stored_form(resource_request)
        return render_form(resource_request.resource, request_form, resource_request, upload=form)
    return render_detail(resource_request, upload=form)


@blueprint.get("/<reference>/attachments/<int:attachment_id>")
@login_required
def attachment(reference: str, attachment_id: int):
    """Download a document, as an attachment, only for those who may see the request."""
    resource_request = load_visible(reference)
    document = db.session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.request_id == resource_request.id
        )
    )
    if document is None:
        abort(404)
    try:
        path = documents.document_path(document.stored_name)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        as_attachment=True,
        download_name=document.original_name,
        mimetype=document.content_type,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


# --- the request form -----------------------------------------------------------------------


def refusal_reason(user: User) -> str | None:
    """Why ``user`` may not file requests (``None`` when they may)."""
    if user.is_staff:
        return _(
            "Requests are filed by partner accounts. IPK staff review them from the request "
            "queues instead."
        )
    if user.status != UserStatus.ACTIVE:
        return _(
            "Your account is not approved yet (%(status)s). An RRC coordinator reviews new "
            "accounts; you will receive an e-mail with the decision.",
            status=label(user.status),
        )
    organisation = user.organisation
    if organisation is None or not organisation.is_verified:
        return _(
            "Your organisation is not verified (%(status)s), so it cannot file requests yet. "
            "Contact the RRC coordinators at rrc@ip-korea.org.",
            status=label(organisation.status) if organisation else "—",
        )
    return None


def _stored_form(resource_request: ResourceRequest) -> forms.RequestForm:
    """The request form filled from what is saved."""
    return forms.RequestForm(
        resource_request.resource,
        formdata=None,
        obj=resource_request,
        accept_terms=resource_request.terms_accepted_at is not None,
        accept_mta=resource_request.mta_accepted_at is not None,
        resubmitting=resource_request.status == RequestStatus.CHANGES_REQUESTED,
    )


def render_form(
    resource: Resource,
    form: forms.RequestForm,
    resource_request: ResourceRequest | None = None,
    *,
    upload: forms.UploadForm | None = None,
    document_problems: dict[str, str] | None = None,
    week_start: date | None = None,
    chosen: list[tuple[datetime, datetime]] | None = None,
):
    """The request form page (new or edit); ``chosen`` overrides the sessions shown."""
    live = services.current_estimate(resource_request) if resource_request else None
    picker = None
    if "requested_slots" in form:
        picker = _picker_context(resource, form, resource_request, week_start, chosen)
        _match_time_request(resource, form, picker)
    if upload is None:
        upload = forms.UploadForm(resource, formdata=None, data={"return_to": "form"})
    return render_template(
        "requests/form.html",
        resource=resource,
        form=form,
        resource_request=resource_request,
        estimate=estimate_display(live.as_snapshot() if live else None, resource),
        tier=label(viewer_tier(current_user) or tier_for(current_user.organisation)),
        changes=changes_step(resource_request) if resource_request else None,
        forms={"upload": upload},
        missing_documents=(
            requirements.missing_documents(resource_request)
            if resource_request
            else resource.document_types
        ),
        document_problems=document_problems or {},
        can_upload=bool(resource_request) and workflow.can_upload(current_user, resource_request),
        blocks=forms.applicable_blocks(resource),
        block_fields=forms.BLOCK_FIELDS,
        block_titles=forms.BLOCK_TITLES,
        picker=picker,
    )


def _match_time_request(resource: Resource, form: forms.RequestForm, picker: dict) -> None:
    """With sessions chosen, the free-text time request is optional and shows their total.

    The service asks for the requested time and preferred dates only when no session is picked
    (``requirements.missing_for_submission``), and stores the sessions' total as the requested
    time: the stars and the values shown say the same.
    """
    if not picker["sessions"]:
        return
    for name in forms.SLOT_FALLBACK:
        if name in form:
            form[name].flags.required = False
    if "requested_minutes" in form:
        form.requested_minutes.choices = forms.duration_choices(resource, picker["total"])
        form.requested_minutes.data = picker["total"]


# --- the slot picker --------------------------------------------------------------------------


def _parse_date(value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` parameter; ``None`` when absent, malformed or out of range."""
    try:
        return dates.parse_day(value) if value else None
    except ValueError:
        return None


def _posted_week(form: forms.RequestForm) -> date | None:
    """The Monday of the week the posted picker showed (``None``: no picker on that page)."""
    shown = _parse_date(form.week.data)
    return availability.monday_of(shown) if shown else None


def _in_week(resource: Resource, moment: datetime, monday: date) -> bool:
    return availability.monday_of(moment.astimezone(zone_of(resource)).date()) == monday


def _session_text(resource: Resource, start: datetime, end: datetime) -> str:
    """A session in the facility's zone, as the grid shows it."""
    zone = zone_of(resource)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return _(
        "%(day)s, %(start)s to %(end)s (%(minutes)s)",
        day=availability.long_day_label(local_start.date()),
        start=local_start.strftime("%H:%M"),
        end=local_end.strftime("%H:%M"),
        minutes=forms.duration_text(int((end - start).total_seconds() // 60)),
    )


def _sessions_editable(resource_request: ResourceRequest | None) -> bool:
    """Sessions are picked on drafts; once submitted they are held bookings."""
    return resource_request is None or resource_request.status == RequestStatus.DRAFT


def _kept_sessions(form: forms.RequestForm) -> list[tuple[datetime, datetime]]:
    """The sessions of other weeks a new request's form carries (``ValueError``: malformed)."""
    if "kept_sessions" not in form:
        return []
    kept = []
    for value in form.kept_sessions.data:
        start, end = (availability.parse_cell(part) for part in value.split("|"))
        kept.append((start, end))
    return kept


def _shown_sessions(
    form: forms.RequestForm, resource_request: ResourceRequest | None
) -> list[tuple[datetime, datetime]]:
    """The chosen sessions as they stand: the draft's, or those a new request's form carries."""
    if resource_request is not None:
        return services.requested_sessions(resource_request)
    if request.method != "POST":
        return []
    try:
        return _kept_sessions(form)
    except ValueError:
        return []


def _ticked(form: forms.RequestForm) -> set[str]:
    """The cells ticked in the posted week, as cell keys (malformed values left out)."""
    ticked = set()
    for value in form.requested_slots.data:
        try:
            ticked.add(availability.parse_cell(value).isoformat())
        except ValueError:
            continue
    return ticked


def _picker_context(
    resource: Resource,
    form: forms.RequestForm,
    resource_request: ResourceRequest | None,
    week_start: date | None,
    chosen: list[tuple[datetime, datetime]] | None = None,
) -> dict:
    """What the slot picker shows: the week grid, ticked cells, chosen sessions and, for each
    session that is taken, closed or breaks a rule now, why and the nearest free slots."""
    editable = _sessions_editable(resource_request)
    if chosen is None:
        chosen = _shown_sessions(form, resource_request)
    problems = []
    if editable and chosen:
        problems = availability.session_problems(
            resource, chosen, request_id=resource_request.id if resource_request else None
        )
    posted = _posted_week(form) if request.method == "POST" else None
    shown = week_start or posted or _parse_date(request.args.get("week"))
    if shown is None:
        first = problems[0].start if problems else (chosen[0][0] if chosen else None)
        shown = (
            first.astimezone(zone_of(resource)).date()
            if first
            else availability.first_bookable_week(resource)
        )
    shown = availability.monday_of(shown)
    picked = availability.cells_of(resource, chosen)
    if posted is not None and form.requested_slots.errors:
        # The posted week's ticks were refused: show them as posted, beside the reason.
        others = [session for session in chosen if not _in_week(resource, session[0], posted)]
        picked = availability.cells_of(resource, others) | _ticked(form)
    elsewhere = [session for session in chosen if not _in_week(resource, session[0], shown)]
    troubled = {problem.start for problem in problems}
    return {
        "editable": editable,
        "new": resource_request is None,
        "week": availability.week(resource, shown, current_user),
        "picked": picked,
        "sessions": [
            {
                "key": start.isoformat(),
                "text": _session_text(resource, start, end),
                "problem": start in troubled,
            }
            for start, end in chosen
        ],
        # A new request has no draft to keep the other weeks' sessions: the form carries them.
        "kept": (
            [f"{start.isoformat()}|{end.isoformat()}" for start, end in elsewhere]
            if resource_request is None
            else []
        ),
        "elsewhere": len(elsewhere),
        "problems": [
            {
                "message": problem.message,
                "choices": [
                    {
                        "value": f"{problem.start.isoformat()}|{s.isoformat()}|{e.isoformat()}",
                        "text": _session_text(resource, s, e),
                    }
                    for s, e in problem.suggestions
                ],
            }
            for problem in problems
        ],
        "problem_messages": [problem.message for problem in problems],
        "total": sum(int((end - start).total_seconds() // 60) for start, end in chosen),
    }


def _picked_sessions(
    resource: Resource, form: forms.RequestForm, resource_request: ResourceRequest | None
) -> list[tuple[datetime, datetime]] | None:
    """The sessions the posted picker asks for (``None``: leave the chosen ones unchanged).

    Sessions of other weeks stay as they were (saved in the draft, or carried by a new
    request's form); the shown week is what is ticked now; then a pressed remove or suggestion
    button applies. Rule problems are put beside the picker.
    """
    if "requested_slots" not in form or not _sessions_editable(resource_request):
        return None
    shown = _posted_week(form)
    if shown is None:
        return None
    try:
        if resource_request is not None:
            before = services.requested_sessions(resource_request)
        else:
            before = _kept_sessions(form)
        starts = [availability.parse_cell(value) for value in form.requested_slots.data]
    except ValueError:
        forms.add_error(form.requested_slots, _("Choose sessions on the calendar."))
        return None
    sessions = [session for session in before if not _in_week(resource, session[0], shown)]
    sessions += availability.merge_cells(resource, starts)
    removed = form.remove_session.data
    if removed:
        sessions = [session for session in sessions if session[0].isoformat() != removed]
    if form.pick_suggestion.data:
        try:
            taken, start, end = (
                availability.parse_cell(part) for part in form.pick_suggestion.data.split("|")
            )
        except ValueError:
            forms.add_error(form.requested_slots, _("Choose sessions on the calendar."))
            return None
        sessions = [session for session in sessions if session[0] != taken] + [(start, end)]
    sessions.sort()
    try:
        availability.check_sessions(resource, sessions)
    except availability.PickError as problem:
        for message in problem.messages:
            forms.add_error(form.requested_slots, message)
        return None
    return sessions


def _carried_sessions(
    resource: Resource, form: forms.RequestForm
) -> list[tuple[datetime, datetime]] | None:
    """The other weeks' sessions a new request's form carries, if they pass the rules."""
    if "kept_sessions" not in form or _posted_week(form) is None:
        return None
    try:
        kept = _kept_sessions(form)
        availability.check_sessions(resource, kept)
    except (ValueError, availability.PickError):
        return None
    return kept


def _target_week(resource: Resource, form: forms.RequestForm, sessions) -> date | None:
    """The week to show after saving: the one asked for, a chosen suggestion's, or the same."""
    if "week" not in form:
        return None
    asked = _parse_date(form.show_week.data)
    if asked:
        return availability.monday_of(asked)
    if form.pick_suggestion.data and sessions:
        chosen = form.pick_suggestion.data.split("|")[1:2]
        match = [start for start, _end in sessions if chosen and start.isoformat() == chosen[0]]
        if match:
            return availability.monday_of(match[0].astimezone(zone_of(resource)).date())
    return _posted_week(form)


def _attach_problems(form: forms.RequestForm, problems: dict[str, str]) -> dict[str, str]:
    """Put each problem beside its field; returns the document problems (by document type)."""
    document_problems = {}
    for key, message in problems.items():
        if key.startswith("document:"):
            document_problems[key.split(":", 1)[1]] = message
        elif key in form:
            forms.add_error(form[key], message)
        else:
            flash(message, "danger")
    return document_problems


def _unavailable_sessions(resource_request: ResourceRequest) -> list[availability.SessionProblem]:
    """The draft's sessions that are taken, closed or break a rule now (no suggestions)."""
    if not _sessions_editable(resource_request):
        return []
    return availability.session_problems(
        resource_request.resource,
        services.requested_sessions(resource_request),
        request_id=resource_request.id,
        suggest=False,
    )


def _session_refusal(
    resource_request: ResourceRequest, problems: dict[str, str]
) -> tuple[dict[str, str], str | None]:
    """Split off a refused session that the picker explains with suggestions.

    Returns the other problems and what to tell the partner instead of "complete the marked
    fields" (``None`` when no chosen session is unavailable).
    """
    if "requested_slots" not in problems:
        return problems, None
    unavailable = _unavailable_sessions(resource_request)
    if not unavailable:
        return problems, None  # e.g. own sessions overlapping: said beside the picker
    rest = {key: message for key, message in problems.items() if key != "requested_slots"}
    resource = resource_request.resource
    taken = next((problem for problem in unavailable if problem.taken), None)
    if taken is not None:
        return rest, _(
            "Not submitted: %(session)s was just taken by someone else or closed. Choose one "
            "of the free times suggested below, or another time, then submit again. Everything "
            "else is saved in draft %(reference)s.",
            session=_session_text(resource, taken.start, taken.end),
            reference=resource_request.reference,
        )
    first = unavailable[0]
    return rest, _(
        "Not submitted: %(session)s can no longer be booked (see why below). Choose one of the "
        "free times suggested below, or another time, then submit again. Everything else is "
        "saved in draft %(reference)s.",
        session=_session_text(resource, first.start, first.end),
        reference=resource_request.reference,
    )


def _render_incomplete(resource_request: ResourceRequest, refusal: services.IncompleteRequest):
    """The form of a saved request with the submission's problems beside the fields."""
    form = _stored_form(resource_request)
    problems, session_message = _session_refusal(resource_request, refusal.problems)
    document_problems = _attach_problems(form, problems)
    flash(
        session_message or _("Not submitted yet: complete the marked fields, then submit again."),
        "danger",
    )
    return render_form(
        resource_request.resource,
        form,
        resource_request,
        document_problems=document_problems,
    )


def _submitted_message(resource_request: ResourceRequest) -> str:
    if resource_request.status == RequestStatus.APPROVED:
        return _(
            "Request %(reference)s is approved: this resource needs no review.",
            reference=resource_request.reference,
        )
    return _(
        "Request %(reference)s is submitted and now under review. Nothing is confirmed until "
        "every review step has approved it.",
        reference=resource_request.reference,
    )


def _not_submitted_message(resource_request: ResourceRequest) -> str:
    return _(
        "Not submitted: complete the marked fields. Everything else is saved in draft "
        "%(reference)s.",
        reference=resource_request.reference,
    )


def _check_url(resource_request: ResourceRequest) -> str:
    """The draft's form showing what a submission still lacks."""
    return url_for("requests.edit", reference=resource_request.reference, check=1)


# A new form carries a random key; the drafts it created are remembered in the browser's session
# (the last few), so that posting the same form again updates that draft instead of adding one.
NEW_DRAFTS_REMEMBERED = 10


def _remember_new_draft(form: forms.RequestForm, resource_request: ResourceRequest) -> None:
    key = form.draft_key.data if "draft_key" in form else None
    if not key:
        return
    remembered = [pair for pair in browser_session.get("new_drafts", []) if pair[0] != key]
    remembered.append([key, resource_request.reference])
    browser_session["new_drafts"] = remembered[-NEW_DRAFTS_REMEMBERED:]


def _draft_of_key(resource: Resource, key: str) -> ResourceRequest | None:
    """The current user's request that the new form with ``key`` created, if any."""
    if not key:
        return None
    reference = next(
        (pair[1] for pair in browser_session.get("new_drafts", []) if pair[0] == key), None
    )
    if reference is None:
        return None
    return db.session.scalar(
        select(ResourceRequest).where(
            ResourceRequest.reference == reference,
            ResourceRequest.requester_id == current_user.id,
            ResourceRequest.resource_id == resource.id,
        )
    )


def _browse_new(resource: Resource, form: forms.RequestForm):
    """A new request's picker changed week, or a session was removed or replaced.

    Nothing is saved (looking at the calendar must not create a draft): the page comes back
    with the answers as typed and the sessions carried in the form.
    """
    sessions = _picked_sessions(resource, form, None)
    for field in form:
        if field.short_name not in forms.PICKER_FIELDS:
            field.errors = []  # checked when the partner saves or submits
    if sessions is None:
        return render_form(resource, form, None, week_start=_posted_week(form))
    return render_form(
        resource,
        form,
        None,
        week_start=_target_week(resource, form, sessions),
        chosen=sessions,
    )


def _save_form(
    resource: Resource, form: forms.RequestForm, resource_request: ResourceRequest | None
):
    """Save the valid answers as a draft, then submit (or resubmit) when that was asked."""
    form.validate()
    if form.csrf_token.errors:
        return render_form(resource, form, resource_request)
    if resource_request is None and form.picking:
        return _browse_new(resource, form)
    creating = resource_request is None
    data = form.valid_data()
    sending = form.sending and not form.picking
    sessions = _picked_sessions(resource, form, resource_request)
    if sessions is None and creating:
        sessions = _carried_sessions(resource, form)  # the ticks were refused, not the rest
    # Input the draft cannot keep (invalid values, refused ticks) must be shown where it was typed.
    unsaved = any(field.errors for field in form)
    if sending:
        has_sessions = bool(resource_request and resource_request.requested_slots)
        has_sessions = bool(sessions) if sessions is not None else has_sessions
        form.check_required(skip=forms.SLOT_FALLBACK if has_sessions else ())
    try:
        if resource_request is None:
            resource_request = services.create_draft(current_user, resource, data)
        else:
            services.update_draft(current_user, resource_request, data)
        if sessions is not None:
            availability.choose_sessions(current_user, resource_request, sessions)
    except IllegalTransition as refusal:
        db.session.rollback()
        flash(refusal.message, "warning")
        if resource_request is None:
            return redirect(url_for("main.home"))
        return redirect(_detail_url(resource_request))
    except services.RequestError as error:
        db.session.rollback()
        _attach_error(form, error)
        return render_form(resource, form, None if creating else resource_request)
    db.session.commit()
    if creating:
        _remember_new_draft(form, resource_request)
    has_errors = any(field.errors for field in form)
    if has_errors and creating and not unsaved:
        # Only what a submission needs is missing, and everything posted is in the new draft:
        # show the problems on the draft's own page, where a reload cannot add another draft.
        flash(_not_submitted_message(resource_request), "danger")
        return redirect(_check_url(resource_request))
    if has_errors:
        document_problems = {}
        if sending:
            document_problems = _attach_problems(
                form,
                {
                    key: message
                    for key, message in requirements.missing_for_submission(
                        resource_request
                    ).items()
                    if key.startswith("document:") or key in forms.ACCEPTANCES
                },
            )
            flash(_not_submitted_message(resource_request), "danger")
        else:
            flash(
                _(
                    "Draft %(reference)s is saved, except the fields marked below.",
                    reference=resource_request.reference,
                ),
                "warning",
            )
        return render_form(
            resource,
            form,
            resource_request,
            document_problems=document_problems,
            week_start=_posted_week(form) if "week" in form else None,
        )
    if not sending:
        unavailable = _unavailable_sessions(resource_request) if sessions is not None else []
        if unavailable:
            first = unavailable[0]
            flash(
                _(
                    "Draft %(reference)s is saved, but %(session)s can no longer be booked: "
                    "see the free times suggested below.",
                    reference=resource_request.reference,
                    session=_session_text(resource, first.start, first.end),
                ),
                "warning",
            )
        elif resource_request.status == RequestStatus.DRAFT:
            flash(
                _("Draft %(reference)s is saved.", reference=resource_request.reference),
                "success",
            )
        else:
            flash(
                _(
                    "Your changes to %(reference)s are saved. Resubmit the request when it is "
                    "ready.",
                    reference=resource_request.reference,
                ),
                "success",
            )
        shown = _target_week(resource, form, sessions)
        return redirect(
            url_for(
                "requests.edit",
                reference=resource_request.reference,
                week=shown.isoformat() if shown else None,
            )
        )
    try:
        if resource_request.status == RequestStatus.CHANGES_REQUESTED:
            message = form.resubmit_message.data if "resubmit_message" in form else ""
            services.resubmit(current_user, resource_request, message or "")
            done = _("Resubmitted: review resumes at the step that asked for changes.")
        else:
            services.submit(current_user, resource_request)
            done = _submitted_message(resource_request)
    except services.IncompleteRequest as refusal:
        db.session.rollback()
        problems, session_message = _session_refusal(resource_request, refusal.problems)
        flash(session_message or _not_submitted_message(resource_request), "danger")
        if creating:
            if "requested_slots" in problems:  # not one the picker explains: say it here
                flash(problems["requested_slots"], "danger")
            return redirect(_check_url(resource_request))
        document_problems = _attach_problems(form, problems)
        return render_form(resource, form, resource_request, document_problems=document_problems)
    except (IllegalTransition, services.RequestError) as refusal:
        db.session.rollback()
        flash(refusal.message, "warning")
        return redirect(_detail_url(resource_request))
    db.session.commit()
    flash(done, "success")
    return redirect(_detail_url(resource_request))


@blueprint.route("/new/<resource_code>", methods=["GET", "POST"])
@login_required
def new(resource_code: str):
    """The request form for an active resource (approved partners of verified organisations)."""
    resource = public_resource(resource_code)
    if resource is None:
        abort(404)
    reason = refusal_reason(current_user)
    if reason is not None:
        return render_template("requests/not_eligible.html", resource=resource, reason=reason), 403
    organisation = current_user.organisation
    form = forms.RequestForm(
        resource, data={"payer": organisation.name, "billing_email": organisation.billing_email}
    )
    if request.method == "POST":
        created = _draft_of_key(resource, request.form.get("draft_key", ""))
        if created is not None:
            # This new form was posted before (a reload, or back and submit again): it belongs
            # to the draft it created.
            return edit(created.reference)
        return _save_form(resource, form, None)
    form.draft_key.data = secrets.token_urlsafe(16)
    return render_form(resource, form)


@blueprint.route("/<reference>/edit", methods=["GET", "POST"])
@login_required
def edit(reference: str):
    """Edit a draft, or a request sent back for changes (then submitting resubmits it).

    ``?check=1`` shows beside the fields what a submission still lacks (where a failed
    submission of a new request lands).
    """
    resource_request = load_visible(reference)
    if not workflow.can_edit(current_user, resource_request):
        if resource_request.requester_id != current_user.id:
            abort(403)
        flash(
            _(
                "This request is %(status)s and can no longer be edited.",
                status=forms.request_label(resource_request.status),
            ),
            "warning",
        )
        return redirect(_detail_url(resource_request))
    if request.method == "POST":
        form = forms.RequestForm(
            resource_request.resource,
            resubmitting=resource_request.status == RequestStatus.CHANGES_REQUESTED,
        )
        return _save_form(resource_request.resource, form, resource_request)
    form = _stored_form(resource_request)
    document_problems = {}
    if request.args.get("check"):
        missing = requirements.missing_for_submission(resource_request)
        document_problems = _attach_problems(form, missing)
    return render_form(
        resource_request.resource, form, resource_request, document_problems=document_problems
    )


@blueprint.get("/estimate", endpoint="estimate")
@login_required
def estimate_json():
    """The live estimate for the current user's tier (JSON; reads only, changes nothing)."""
    resource = public_resource(request.args.get("resource", ""))
    if resource is None:
        return jsonify(ok=False, message=_("Unknown resource.")), 404
    quantity = request.args.get("quantity", type=int)
    minutes = request.args.get("minutes", type=int)
    tier = viewer_tier(current_user) or tier_for(current_user.organisation)
    try:
        if minutes is not None:
            result = estimate(resource, tier, duration_minutes=minutes)
        else:
            result = estimate(resource, tier, quantity=quantity)
    except PricingError:
        return jsonify(ok=False, message=_("Enter an amount to see an estimate.")), 400
    shown = estimate_display(result.as_snapshot(), resource)
    return jsonify(
        ok=True,
        tier=str(tier),
        tier_label=shown["tier"],
        on_quote=shown["on_quote"],
        units=shown["quantity"],
        unit=shown["unit"],
        lines=shown["lines"],
        total=shown["total"],
        text=(
            _("On quote: the RRC sends you a quote after review.")
            if shown["on_quote"]
            else _("Estimated total: %(total)s (excluding VAT)", total=shown["total"])
        ),
    )


# --- my requests ----------------------------------------------------------------------------


@blueprint.get("/")
@login_required
def mine():
    """The partner's requests, newest first; organisation managers may see their organisation's."""
    if current_user.is_staff:
        return redirect(url_for("main.home"))
    whole_organisation = (
        request.args.get("scope") == "organisation"
        and current_user.is_org_manager
        and current_user.organisation_id is not None
    )
    if whole_organisation:
        condition = ResourceRequest.organisation_id == current_user.organisation_id
    else:
        condition = ResourceRequest.requester_id == current_user.id
    statement = (
        select(ResourceRequest)
        .options(
            selectinload(ResourceRequest.resource),
            selectinload(ResourceRequest.steps),
            selectinload(ResourceRequest.requester),
        )
        .where(condition)
        .order_by(ResourceRequest.created_at.desc(), ResourceRequest.id.desc())
    )
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(statement, page=page, per_page=PER_PAGE, error_out=False)
    # The sessions still to come, across every request shown: what a partner plans a week by.
    upcoming = db.session.scalars(
        select(Booking)
        .join(Booking.resource_request)
        .options(
            contains_eager(Booking.resource_request),
            selectinload(Booking.resource).selectinload(Resource.facility),
        )
        .where(condition, Booking.status.in_(ACTIVE_STATUSES), Booking.ends_at > utcnow())
        .order_by(Booking.starts_at, Booking.id)
        .limit(UPCOMING_SHOWN)
    ).all()
    return render_template(
        "requests/mine.html",
        pagination=pagination,
        whole_organisation=whole_organisation,
        upcoming=upcoming,
    )
