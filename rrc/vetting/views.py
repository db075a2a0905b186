"""The coordinators' vetting queue."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rrc.admin import services as admin_services
from rrc.auth.decorators import capability_required
from rrc.extensions import db
from rrc.forms import EmptyForm
from rrc.models import Capability, Organisation, User, UserKind
from rrc.vetting import services
from rrc.vetting.forms import APPROVE, DecisionForm

blueprint = Blueprint("vetting", __name__, url_prefix="/staff/vetting")


@blueprint.get("/")
@capability_required(Capability.COORDINATOR)
def queue():
    """People and organisations waiting for a decision, oldest first."""
    return render_template(
        "vetting/queue.html",
        users=services.pending_users(),
        organisations=services.pending_organisations(),
    )


def _partner_or_404(user_id: int) -> User:
    partner = db.session.scalar(
        select(User)
        .options(selectinload(User.organisation), selectinload(User.consents))
        .where(User.id == user_id, User.kind == UserKind.PARTNER)
    )
    if partner is None:
        abort(404)
    return partner


@blueprint.route("/users/<int:user_id>", methods=["GET", "POST"])
@capability_required(Capability.COORDINATOR)
def user_detail(user_id: int):
    """Everything a partner submitted, and the decision form."""
    partner = _partner_or_404(user_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            if form.decision.data == APPROVE:
                services.approve_user(current_user, partner)
                message = _("%(name)s is approved and has been told by e-mail.")
            else:
                services.reject_user(current_user, partner, form.reason.data)
                message = _("%(name)s is rejected and has been told why by e-mail.")
        except services.VettingError as error:
            db.session.rollback()
            flash(error.message, "warning")
            return redirect(url_for("vetting.user_detail", user_id=user_id))
        db.session.commit()
        flash(message % {"name": partner.name}, "success")
        return redirect(url_for("vetting.queue"))
    return render_template(
        "vetting/user_detail.html",
        partner=partner,
        form=form,
        manager_form=EmptyForm(prefix="manager"),
    )


@blueprint.post("/users/<int:user_id>/manager")
@capability_required(Capability.COORDINATOR)
def toggle_manager(user_id: int):
    """Set or clear the organisation-manager flag of a partner."""
    partner = _partner_or_404(user_id)
    form = EmptyForm(prefix="manager")
    if not form.validate_on_submit():
        abort(400)
    make_manager = request.form.get("is_manager") == "1"
    try:
        admin_services.set_org_manager(current_user, partner, make_manager)
    except admin_services.AdminError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        message = (
            _("%(name)s now manages the organisation's requests.")
            if make_manager
            else _("%(name)s no longer manages the organisation's requests.")
        )
        flash(message % {"name": partner.name}, "success")
    return redirect(url_for("vetting.user_detail", user_id=user_id))


@blueprint.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@capability_required(Capability.COORDINATOR)
def organisation_detail(organisation_id: int):
    """A proposed (or any) organisation, its members, and the decision form."""
    organisation = db.session.scalar(
        select(Organisation)
        .options(selectinload(Organisation.members))
        .where(Organisation.id == organisation_id)
    )
    if organisation is None:
        abort(404)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            if form.decision.data == APPROVE:
                services.approve_organisation(current_user, organisation)
                message = _("%(name)s is verified.")
            else:
                services.reject_organisation(current_user, organisation, form.reason.data)
                message = _("%(name)s is rejected; its waiting members have been told.")
        except services.VettingError as error:
            db.session.rollback()
            flash(error.message, "warning")
            return redirect(url_for("vetting.organisation_detail", organisation_id=organisation_id))
        db.session.commit()
        flash(message % {"name": organisation.name}, "success")
        return redirect(url_for("vetting.queue"))
    return render_template("vetting/organisation_detail.html", organisation=organisation, form=form)
