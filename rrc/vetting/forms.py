"""Vetting decision forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

APPROVE = "approve"
REJECT = "reject"


class DecisionForm(FlaskForm):
    """Approve, or reject with a reason."""

    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice(APPROVE, _l("Approve")), SelectChoice(REJECT, _l("Reject"))],
        validators=[InputRequired(message=_l("Choose approve or reject."))],
    )
    reason = TextAreaField(
        _l("Reason (required to reject; sent to the applicant)"),
        validators=[Length(max=2000)],
    )

    def validate_reason(self, field):
        if self.decision.data == REJECT and not (field.data or "").strip():
            raise ValidationError(_l("Give a reason for the rejection."))
