"""Sign-up, e-mail verification, login, logout and password reset."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from rrc.auth import services, throttle
from rrc.auth.forms import (
    NEW_ORGANISATION,
    ForgotPasswordForm,
    LoginForm,
    ResendVerificationForm,
    ResetPasswordForm,
    SignUpForm,
)
from rrc.auth.session import start_login_clock
from rrc.auth.tokens import TokenError
from rrc.extensions import db, limiter
from rrc.forms import EmptyForm
from rrc.models import Organisation, OrganisationStatus, OrganisationType, UserStatus
from rrc.security import safe_next

blueprint = Blueprint("auth", __name__)


def _signup_limit() -> str:
    return current_app.config["SIGNUP_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["RESET_LIMIT"]


def _verified_organisations() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.status == OrganisationStatus.VERIFIED)
            .where(Organisation.org_type != OrganisationType.INTERNAL)
            .order_by(Organisation.name)
        )
    )


@blueprint.route("/signup", methods=["GET", "POST"])
@limiter.limit(
    _signup_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 302
)
def signup():
    """A partner opens an account, choosing or proposing an organisation."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignUpForm(organisations=_verified_organisations())
    if request.method == "GET":
        form.locale.data = str(session.get("locale") or _current_locale())
    if form.validate_on_submit():
        proposal = None
        if form.organisation_id.data == NEW_ORGANISATION:
            proposal = services.NewOrganisation(
                name=form.org_name.data,
                local_name=form.org_local_name.data,
                org_type=OrganisationType(form.org_type.data),
                country=form.org_country.data,
                business_registration_no=_digits_with_dashes(form.business_registration_no.data),
                billing_email=form.billing_email.data,
                address=form.org_address.data,
            )
        data = services.SignUp(
            email=form.email.data,
            password=form.password.data,
            name=form.name.data,
            phone=form.phone.data,
            position=form.position.data,
            organisation_id=None if proposal else int(form.organisation_id.data),
            new_organisation=proposal,
            consent_required=form.consent_required.data,
            consent_optional=form.consent_optional.data,
            consent_cross_border=form.consent_cross_border.data,
            locale=form.locale.data,
            timezone=current_app.config["DEFAULT_TIMEZONE"],
        )
        try:
            user = services.register_partner(data)
        except services.AccountError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            db.session.commit()
            session["signup_email"] = user.email
            return redirect(url_for("auth.signup_done"))
    return render_template("auth/signup.html", form=form, new_value=NEW_ORGANISATION)


def _current_locale() -> str:
    from flask_babel import get_locale

    return str(get_locale())


def _digits_with_dashes(value: str | None) -> str | None:
    digits = "".join(character for character in (value or "") if character.isdigit())
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}" if len(digits) == 10 else None


def _attach_error(form, error) -> None:
    """Show a service's refusal beside its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "danger")


@blueprint.get("/signup/done")
def signup_done():
    """Tell the new partner to look for the verification mail."""
    return render_template("auth/signup_done.html", email=session.get("signup_email"))


@blueprint.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """Confirm an address from the mailed link (a button, so that nothing changes on GET)."""
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            user = services.verify_email(token)
        except TokenError as error:
            db.session.rollback()
            return _token_problem(error, "verify")
        db.session.commit()
        flash(_("Thank you: your e-mail address is verified."), "success")
        return render_template("auth/verified.html", user=user)
    try:
        user = services.read_token_user(token, "verify")
    except TokenError as error:
        return _token_problem(error, "verify")
    if user.status != UserStatus.UNVERIFIED:
        return _token_problem(TokenError("used"), "verify")
    return render_template("auth/verify.html", form=form, user=user)


def _token_problem(error: TokenError, kind: str):
    """A clear page for an expired, tampered or already-used link."""
    return (
        render_template("auth/token_problem.html", reason=error.reason, kind=kind),
        400,
    )


@blueprint.route("/verify/resend", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def resend_verification():
    """Mail a new verification link (says the same whether or not the account exists)."""
    form = ResendVerificationForm()
    if form.validate_on_submit():
        services.resend_verification(form.email.data)
        db.session.commit()
        flash(_("If an unverified account uses this address, a new link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/resend.html", form=form)


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Log in; failed attempts are throttled per account and per address."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data
        address = request.remote_addr
        if not throttle.login_allowed(email, address):
            services.record_failed_login(email)
            db.session.commit()
            abort(429)
        user = services.authenticate(email, form.password.data)
        if user is None or not user.is_active:
            throttle.record_failed_login(email, address)
            services.record_failed_login(email)
            db.session.commit()
            if user is not None and not user.is_active:
                form.email.errors = [
                    _("This account cannot log in: %(status)s.") % {"status": _status_label(user)}
                ]
            else:
                form.password.errors = [_("The e-mail or the password is not correct.")]
            return render_template("auth/login.html", form=form), 200
        # Rotate the session: nothing of the anonymous session survives the login.
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        login_user(user, remember=form.remember.data)
        session.permanent = True
        start_login_clock()
        services.record_login(user)
        db.session.commit()
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


def _status_label(user) -> str:
    from rrc.labels import label

    return label(user.status)


@blueprint.post("/logout")
@login_required
def logout():
    """End this session."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    locale = session.get("locale") or current_user.locale
    logout_user()
    session.clear()
    session["locale"] = locale
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.home"))


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password():
    """Ask for a reset link by e-mail."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(
            _("If an account uses this address, a link to choose a new password is on its way."),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password(token: str):
    """Choose a new password from a mailed link (single use)."""
    try:
        user = services.read_token_user(token, "reset")
    except TokenError as error:
        return _token_problem(error, "reset")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except TokenError as error:
            db.session.rollback()
            return _token_problem(error, "reset")
        except services.AccountError as error:
            db.session.rollback()
            error.field = "password"
            _attach_error(form, error)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(_("Your new password is set. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, user=user)
