"""Form pieces shared by several areas."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, StringField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from rrc import dates
from rrc.i18n import LANGUAGE_NAMES, common_timezones

# CLDR territory codes that are not countries (unions, pseudo-locales, "unknown").
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"})


def country_name(code: str | None) -> str:
    """A country's name in the viewer's language (the code itself if unknown)."""
    if not code:
        return ""
    return get_locale().territories.get(code, code)


def country_choices() -> list[SelectChoice]:
    """ISO 3166 countries named in the viewer's language, Korea first."""
    territories = get_locale().territories
    countries = sorted(
        (
            (code, name)
            for code, name in territories.items()
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
        ),
        key=lambda pair: pair[1],
    )
    korea = [SelectChoice(code, name) for code, name in countries if code == "KR"]
    return korea + [SelectChoice(code, name) for code, name in countries if code != "KR"]


def language_choices() -> list[SelectChoice]:
    """The portal's languages, each named in itself."""
    return [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


def timezone_choices() -> list[SelectChoice]:
    """IANA time zones."""
    return [SelectChoice(name, name.replace("_", " ")) for name in common_timezones()]


def blank_choice(label="—") -> SelectChoice:
    """The empty first option of a select."""
    return SelectChoice("", label)


def email_field(label=None) -> StringField:
    """An e-mail field with syntax checking (no DNS look-ups)."""
    return StringField(
        label or _l("E-mail"),
        validators=[
            InputRequired(),
            Length(max=254),
            Email(check_deliverability=False, message=_l("Enter a valid e-mail address.")),
        ],
        render_kw={"autocomplete": "email", "type": "email"},
    )


def within_calendar(form, field) -> None:
    """WTForms validator: a date (or date and time) the portal works with (``rrc.dates``)."""
    value = field.data
    if value is None:
        return
    day = value.date() if hasattr(value, "date") else value
    if not dates.in_range(day):
        raise ValidationError(
            _l(
                "Enter a date between %(first)s and %(last)s.",
                first=dates.FIRST_DAY.isoformat(),
                last=dates.LAST_DAY.isoformat(),
            )
        )


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""
