"""Administration: users, staff, organisations, the mail log and the audit log."""

import base64
import io
from datetime import UTC, datetime, time, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from rrc.admin import forms, services
from rrc.auth.decorators import capability_required
from rrc.auth.views import _attach_error
from rrc.extensions import db
from rrc.forms import EmptyForm
from rrc.mail.relay import retry_now
from rrc.models import (
    AuditLog,
    Capability,
    Organisation,
    OrganisationStatus,
    OutboxMessage,
    OutboxStatus,
    User,
    UserKind,
    UserStatus,
)

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50


def _page() -> int:
    return request.args.get("page", 1, type=int) or 1


@blueprint.get("/users")
@capability_required(Capability.ADMIN)
def users():
    """Every account, filterable by kind, status and text."""
    form = forms.UserFilterForm(request.args)
    statement = select(User).options(selectinload(User.organisation)).order_by(User.id.desc())
    if form.validate():
        if form.q.data:
            pattern = f"%{form.q.data.strip().lower()}%"
            statement = statement.where(
                or_(func.lower(User.name).like(pattern), User.email.like(pattern))
            )
        if form.kind.data:
            statement = statement.where(User.kind == UserKind(form.kind.data))
        if form.status.data:
            statement = statement.where(User.status == UserStatus(form.status.data))
    pagination = db.paginate(statement, page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", form=form, pagination=pagination)


@blueprint.route("/users/new", methods=["GET", "POST"])
@capability_required(Capability.ADMIN)
def create_staff():
    """Create a staff account; its holder chooses a password from the mailed link."""
    form = forms.CreateStaffForm()
    if form.validate_on_submit():
        try:
            staff = services.create_staff(
                current_user,
                email=form.email.data,
                name=form.name.data,
                capabilities={Capability(value) for value in form.capabilities.data},
                locale=form.locale.data,
            )
        except services.AdminError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "The account of %(name)s is created; "
                    "they have been mailed a link to choose a password."
                )
                % {"name": staff.name},
                "success",
            )
            return redirect(url_for("admin.user_detail", user_id=staff.id))
    return render_template("admin/create_staff.html", form=form)


def _user_or_404(user_id: int) -> User:
    user = db.session.scalar(
        select(User).options(selectinload(User.organisation)).where(User.id == user_id)
    )
    if user is None:
        abort(404)
    return user


@blueprint.get("/users/<int:user_id>")
@capability_required(Capability.ADMIN)
def user_detail(user_id: int):
    """One account, its capabilities, and suspension."""
    user = _user_or_404(user_id)
    capabilities_form = forms.CapabilitiesForm(
        capabilities=[str(capability) for capability in user.capabilities]
    )
    return render_template(
        "admin/user_detail.html",
        user=user,
        capabilities_form=capabilities_form,
        suspend_form=forms.ReasonForm(prefix="suspend"),
        reactivate_form=EmptyForm(prefix="reactivate"),
        recent=_recent_audit(User, user.id),
    )


def _recent_audit(model, object_id: int) -> list[AuditLog]:
    return list(
        db.session.scalars(
            select(AuditLog)
            .options(selectinload(AuditLog.actor))
            .where(AuditLog.target_type == model.__name__.lower(), AuditLog.target_id == object_id)
            .order_by(AuditLog.id.desc())
            .limit(20)
        )
    )


@blueprint.post("/users/<int:user_id>/capabilities")
@capability_required(Capability.ADMIN)
def update_capabilities(user_id: int):
    """Grant and withdraw capabilities of a staff member."""
    user = _user_or_404(user_id)
    form = forms.CapabilitiesForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_capabilities(
            current_user, user, {Capability(value) for value in form.capabilities.data}
        )
    except services.AdminError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("Capabilities saved."), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@blueprint.post("/users/<int:user_id>/suspend")
@capability_required(Capability.ADMIN)
def suspend_user(user_id: int):
    """Suspend an account with a reason."""
    user = _user_or_404(user_id)
    form = forms.ReasonForm(prefix="suspend")
    if not form.validate_on_submit():
        flash(_("Give a reason."), "warning")
        return redirect(url_for("admin.user_detail", user_id=user_id))
    try:
        services.suspend_user(current_user, user, form.reason.data)
    except services.AdminError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("The account is suspended and its sessions have ended."), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@blueprint.post("/users/<int:user_id>/reactivate")
@capability_required(Capability.ADMIN)
def reactivate_user(user_id: int):
    """Lift an account's suspension."""
    user = _user_or_404(user_id)
    if not EmptyForm(prefix="reactivate").validate_on_submit():
        abort(400)
    try:
        services.reactivate_user(current_user, user)
    except services.AdminError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("The account is active again."), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@blueprint.get("/organisations")
@capability_required(Capability.COORDINATOR)
def organisations():
    """Every organisation, with its member count."""
    status = request.args.get("status", "")
    statement = select(Organisation).order_by(Organisation.name, Organisation.id)
    if status in {member.value for member in OrganisationStatus}:
        statement = statement.where(Organisation.status == OrganisationStatus(status))
    pagination = db.paginate(statement, page=_page(), per_page=PER_PAGE, error_out=False)
    ids = [organisation.id for organisation in pagination.items]
    member_counts = dict(
        db.session.execute(
            select(User.organisation_id, func.count(User.id))
            .where(User.organisation_id.in_(ids))
            .group_by(User.organisation_id)
        ).all()
    )
    return render_template(
        "admin/organisations.html",
        pagination=pagination,
        member_counts=member_counts,
        status=status,
        statuses=list(OrganisationStatus),
    )


def _organisation_or_404(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


@blueprint.post("/organisations/<int:organisation_id>/suspend")
@capability_required(Capability.ADMIN)
def suspend_organisation(organisation_id: int):
    """Suspend an organisation with a reason."""
    organisation = _organisation_or_404(organisation_id)
    form = forms.ReasonForm(prefix="suspend")
    if not form.validate_on_submit():
        flash(_("Give a reason."), "warning")
    else:
        try:
            services.suspend_organisation(current_user, organisation, form.reason.data)
        except services.AdminError as error:
            db.session.rollback()
            flash(error.message, "warning")
        else:
            db.session.commit()
            flash(_("%(name)s is suspended.") % {"name": organisation.name}, "success")
    return redirect(url_for("vetting.organisation_detail", organisation_id=organisation_id))


@blueprint.post("/organisations/<int:organisation_id>/reactivate")
@capability_required(Capability.ADMIN)
def reactivate_organisation(organisation_id: int):
    """Lift an organisation's suspension."""
    organisation = _organisation_or_404(organisation_id)
    if not EmptyForm(prefix="reactivate").validate_on_submit():
        abort(400)
    try:
        services.reactivate_organisation(current_user, organisation)
    except services.AdminError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("%(name)s is verified again.") % {"name": organisation.name}, "success")
    return redirect(url_for("vetting.organisation_detail", organisation_id=organisation_id))


@blueprint.get("/mail")
@capability_required(Capability.ADMIN)
def mail_log():
    """Every message the portal queued, newest first, with delivery status."""
    form = forms.MailFilterForm(request.args)
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if form.validate():
        if form.q.data:
            pattern = f"%{form.q.data.strip().lower()}%"
            statement = statement.where(
                or_(
                    func.lower(OutboxMessage.recipient).like(pattern),
                    func.lower(OutboxMessage.subject).like(pattern),
                )
            )
        if form.status.data:
            statement = statement.where(OutboxMessage.status == OutboxStatus(form.status.data))
    pagination = db.paginate(statement, page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/mail_log.html", form=form, pagination=pagination)


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


@blueprint.get("/mail/<int:message_id>")
@capability_required(Capability.ADMIN)
def mail_detail(message_id: int):
    """One message: headers, delivery history, text part, and the HTML part in a sandbox."""
    return render_template(
        "admin/mail_detail.html",
        message=_message_or_404(message_id),
        retry_form=EmptyForm(prefix="retry"),
    )


@blueprint.get("/mail/<int:message_id>/attachments/<int:index>")
@capability_required(Capability.ADMIN)
def mail_attachment(message_id: int, index: int):
    """One attachment of a message, downloaded as a file (never shown inline)."""
    message = _message_or_404(message_id)
    if not 0 <= index < len(message.attachments or []):
        abort(404)
    attachment = message.attachments[index]
    return send_file(
        io.BytesIO(base64.b64decode(attachment["content"])),
        mimetype=attachment["content_type"],
        as_attachment=True,
        download_name=attachment["filename"],
    )


@blueprint.get("/mail/<int:message_id>/html")
@capability_required(Capability.ADMIN)
def mail_html(message_id: int):
    """The HTML part alone, sandboxed: no scripts, shown only framed by this site."""
    message = _message_or_404(message_id)
    response = current_response(message.html_body)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def current_response(body: str):
    """An HTML response with the given body."""
    from flask import current_app

    return current_app.response_class(body, mimetype="text/html")


@blueprint.post("/mail/<int:message_id>/retry")
@capability_required(Capability.ADMIN)
def mail_retry(message_id: int):
    """Queue a failed message for another attempt."""
    message = _message_or_404(message_id)
    if not EmptyForm(prefix="retry").validate_on_submit():
        abort(400)
    try:
        retry_now(message)
    except ValueError:
        flash(_("This message was already delivered."), "warning")
    else:
        from rrc import audit

        audit.record(current_user, "admin.mail_retry", target=message)
        db.session.commit()
        flash(_("The message will be sent again on the relay's next pass."), "success")
    return redirect(url_for("admin.mail_detail", message_id=message_id))


@blueprint.get("/audit")
@capability_required(Capability.ADMIN)
def audit_log():
    """The audit log, newest first, filtered by action, actor and dates."""
    form = forms.AuditFilterForm(request.args)
    statement = select(AuditLog).options(selectinload(AuditLog.actor)).order_by(AuditLog.id.desc())
    if form.validate():
        if form.action.data:
            statement = statement.where(AuditLog.action.like(f"{form.action.data.strip()}%"))
        if form.actor.data:
            statement = statement.join(User, AuditLog.actor_id == User.id).where(
                User.email == form.actor.data.strip().lower()
            )
        if form.date_from.data:
            start = datetime.combine(form.date_from.data, time.min, tzinfo=UTC)
            statement = statement.where(AuditLog.at >= start)
        if form.date_to.data:
            end = datetime.combine(form.date_to.data, time.min, tzinfo=UTC) + timedelta(days=1)
            statement = statement.where(AuditLog.at < end)
    pagination = db.paginate(statement, page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/audit_log.html", form=form, pagination=pagination)
