"""Administration forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import InputRequired, Length, Optional

from rrc.forms import blank_choice, email_field, language_choices, within_calendar
from rrc.labels import choices
from rrc.models import Capability, OutboxStatus, UserKind, UserStatus


class CheckboxListField(SelectMultipleField):
    """A list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CreateStaffForm(FlaskForm):
    """A new IPK staff account."""

    email = email_field()
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=120)])
    capabilities = CheckboxListField(_l("Capabilities"), choices=choices(Capability))
    locale = SelectField(_l("Language for e-mails"), choices=language_choices())


class CapabilitiesForm(FlaskForm):
    """Grant and withdraw capabilities."""

    capabilities = CheckboxListField(_l("Capabilities"), choices=choices(Capability))


class ReasonForm(FlaskForm):
    """An action that needs a reason (suspension)."""

    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=2000)])


class UserFilterForm(FlaskForm):
    """Filters of the user list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name or e-mail"), validators=[Optional(), Length(max=100)])
    kind = SelectField(
        _l("Kind"), choices=[blank_choice(_l("All")), *choices(UserKind)], default=""
    )
    status = SelectField(
        _l("Status"), choices=[blank_choice(_l("All")), *choices(UserStatus)], default=""
    )


class MailFilterForm(FlaskForm):
    """Filters of the mail log (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Recipient or subject"), validators=[Optional(), Length(max=100)])
    status = SelectField(
        _l("Status"), choices=[blank_choice(_l("All")), *choices(OutboxStatus)], default=""
    )


class AuditFilterForm(FlaskForm):
    """Filters of the audit log (GET, no CSRF)."""

    class Meta:
        csrf = False

    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("Actor e-mail"), validators=[Optional(), Length(max=254)])
    date_from = DateField(_l("From"), validators=[Optional(), within_calendar])
    date_to = DateField(_l("To"), validators=[Optional(), within_calendar])
