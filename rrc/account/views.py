"""A person's own account: profile, password, sessions, consent history."""

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from rrc.account.forms import ChangePasswordForm, ProfileForm
from rrc.auth import services
from rrc.auth.views import _attach_error
from rrc.extensions import db
from rrc.forms import EmptyForm

blueprint = Blueprint("account", __name__, url_prefix="/account")


@blueprint.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Edit name, contact details, language and time zone."""
    form = ProfileForm(obj=current_user)
    if not form.is_submitted():
        form.consent_optional.data = services.has_optional_consent(current_user)
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user,
                name=form.name.data,
                phone=form.phone.data,
                position=form.position.data,
                consent_optional=form.consent_optional.data,
                locale=form.locale.data,
                timezone=form.timezone.data,
            )
        except services.AccountError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            db.session.commit()
            session["locale"] = current_user.locale
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("account.profile"))
    return render_template(
        "account/profile.html", form=form, sessions_form=EmptyForm(prefix="sessions")
    )


@blueprint.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password; every other session ends, this one continues."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except services.AccountError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            db.session.commit()
            login_user(current_user._get_current_object(), remember=False, fresh=True)
            flash(_("Your password is changed. Other sessions have been logged out."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form)


@blueprint.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of this account, on every device, including this one."""
    form = EmptyForm(prefix="sessions")
    if not form.validate_on_submit():
        abort(400)
    services.logout_everywhere(current_user)
    db.session.commit()
    session.clear()
    flash(_("You are logged out on every device."), "info")
    return redirect(url_for("auth.login"))
