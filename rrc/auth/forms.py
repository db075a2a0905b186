"""Forms of sign-up, login and password reset."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from rrc.forms import blank_choice, country_choices, email_field, language_choices
from rrc.labels import choices
from rrc.models import OrganisationType
from rrc.security import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

NEW_ORGANISATION = "new"


def password_field(label, autocomplete="new-password", description="") -> PasswordField:
    """A password input with the policy's length limits."""
    return PasswordField(
        label,
        description=description,
        validators=[
            InputRequired(),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=PASSWORD_MAX_LENGTH,
                message=_l(
                    "Use between %(min)d and %(max)d characters.",
                    min=PASSWORD_MIN_LENGTH,
                    max=PASSWORD_MAX_LENGTH,
                ),
            ),
        ],
        render_kw={"autocomplete": autocomplete},
    )


class RequiredIfNewOrganisation:
    """Required when the partner proposes a new organisation; otherwise skipped when empty."""

    def __call__(self, form, field):
        if (field.data or "").strip():
            return
        field.errors[:] = []
        if form.organisation_id.data == NEW_ORGANISATION:
            raise StopValidation(_l("Required for a new organisation."))
        raise StopValidation()


class SignUpForm(FlaskForm):
    """A partner's sign-up: the person, the organisation, and PIPA consent."""

    email = email_field()
    password = password_field(
        _l("Password"),
        description=_l(
            "At least 12 characters. A phrase of several unrelated words works well; your name, "
            "e-mail or organisation must not appear in it."
        ),
    )
    name = StringField(
        _l("Full name"),
        validators=[InputRequired(), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9+()\-. ]{6,40}$", message=_l("Digits, spaces and + ( ) - only.")),
        ],
        render_kw={"autocomplete": "tel", "type": "tel"},
    )
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])
    organisation_id = SelectField(_l("Organisation"), validators=[InputRequired()])
    org_name = StringField(
        _l("Legal name of the organisation"),
        validators=[RequiredIfNewOrganisation(), Length(max=200)],
    )
    org_local_name = StringField(
        _l("Name in the local language"), validators=[Optional(), Length(max=200)]
    )
    org_type = SelectField(
        _l("Type of organisation"),
        choices=[
            blank_choice(),
            *[choice for choice in choices(OrganisationType) if choice.value != "internal"],
        ],
        validators=[RequiredIfNewOrganisation()],
    )
    org_country = SelectField(_l("Country"), validators=[RequiredIfNewOrganisation()])
    business_registration_no = StringField(
        _l("Business registration number"),
        description=_l("Korean companies: the 10-digit number (000-00-00000)."),
        validators=[
            Optional(),
            Regexp(
                r"^\d{3}-?\d{2}-?\d{5}$",
                message=_l("Use the 10-digit form 000-00-00000."),
            ),
        ],
    )
    billing_email = StringField(
        _l("Billing e-mail"),
        validators=[
            RequiredIfNewOrganisation(),
            Length(max=254),
            Email(check_deliverability=False, message=_l("Enter a valid e-mail address.")),
        ],
        render_kw={"type": "email"},
    )
    org_address = TextAreaField(
        _l("Address"), validators=[RequiredIfNewOrganisation(), Length(max=1000)]
    )
    locale = SelectField(_l("Language for e-mails"), choices=language_choices())
    consent_required = BooleanField(
        _l("I agree to the collection and use of the required personal data described above."),
        validators=[InputRequired(message=_l("The required items are needed to open an account."))],
    )
    consent_optional = BooleanField(
        _l("I agree to the collection and use of the optional items (phone, position).")
    )
    consent_cross_border = BooleanField(
        _l(
            "My organisation is outside Korea: I agree to the transfer of my data to "
            "Institut Pasteur Korea in the Republic of Korea."
        )
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = [
            blank_choice(_l("— choose your organisation —")),
            *[
                SelectChoice(
                    str(org.id), f"{org.name} ({org.local_name})" if org.local_name else org.name
                )
                for org in organisations
            ],
            SelectChoice(NEW_ORGANISATION, _l("My organisation is not listed: propose it")),
        ]
        self.org_country.choices = [blank_choice(), *country_choices()]


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = email_field()
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=PASSWORD_MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this device"))


class ForgotPasswordForm(FlaskForm):
    """Ask for a reset link."""

    email = email_field()


class ResetPasswordForm(FlaskForm):
    """Choose a new password from a reset link."""

    password = password_field(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[InputRequired()],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords differ."))


class ResendVerificationForm(FlaskForm):
    """Ask for another verification mail."""

    email = email_field()
