"""Forms of the partner's own account."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from rrc.auth.forms import password_field
from rrc.forms import language_choices, timezone_choices


class ProfileForm(FlaskForm):
    """Editable personal details and preferences."""

    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=120)])
    phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9+()\-. ]{6,40}$", message=_l("Digits, spaces and + ( ) - only.")),
        ],
    )
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])
    consent_optional = BooleanField(
        _l("I agree to the collection and use of the optional items (phone, position).")
    )
    locale = SelectField(_l("Language"), choices=language_choices())
    timezone = SelectField(_l("Time zone"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class ChangePasswordForm(FlaskForm):
    """Change the password, proving the current one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = password_field(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[InputRequired()],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_confirm(self, field):
        if field.data != self.new_password.data:
            raise ValidationError(_l("The two passwords differ."))
