"""The catalogue's search and filter form (GET, no CSRF: it changes nothing)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from rrc.catalogue.search import SORTS, CatalogueQuery
from rrc.forms import blank_choice
from rrc.labels import choices
from rrc.models import BookingMode, Facility, ResourceKind

BIOSAFETY_LEVELS = range(0, 5)
SORT_LABELS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "facility": _l("Facility"),
    "biosafety": _l("Biosafety level (highest first)"),
}
# The facets of the list, in the order they are shown; names are the URL parameters.
FACET_FIELDS = ("facility", "kind", "bsl", "mode")


def biosafety_label(level: int):
    """How a biosafety level is written ("BSL-2"; level 0 means no containment)."""
    return _l("No containment") if level == 0 else f"BSL-{level}"


class CatalogueFilterForm(FlaskForm):
    """Search text, facets and sort order of the catalogue list."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Search"),
        validators=[Optional(), Length(max=200)],
        description=_l("Code, name or words of the description, in English or Korean."),
    )
    facility = SelectField(_l("Facility"), choices=[], default="")
    kind = SelectField(
        _l("Type of resource"),
        choices=[blank_choice(_l("All kinds")), *choices(ResourceKind)],
        default="",
    )
    bsl = SelectField(
        _l("Biosafety level"),
        choices=[
            blank_choice(_l("All levels")),
            *(SelectChoice(str(level), biosafety_label(level)) for level in BIOSAFETY_LEVELS),
        ],
        default="",
    )
    mode = SelectField(
        _l("Booked as"),
        choices=[blank_choice(_l("Either")), *choices(BookingMode)],
        default="",
    )
    sort = SelectField(
        _l("Sort by"),
        choices=[SelectChoice(value, SORT_LABELS[value]) for value in SORTS],
        default="code",
    )

    def set_facilities(self, facilities: list[Facility], locale: str) -> None:
        """Offer the active facilities, named in the reader's language."""
        self.facility.choices = [
            blank_choice(_l("All facilities")),
            *(
                SelectChoice(facility.code, (locale == "ko" and facility.name_ko) or facility.name)
                for facility in facilities
            ),
        ]

    def valid_value(self, name: str) -> str:
        """The field's value, or "" when it is invalid (a bad link is ignored, never a 500)."""
        field = self[name]
        if field.errors or not field.data:
            return ""
        return str(field.data)

    def to_query(self, locale: str) -> CatalogueQuery:
        """The validated search (call :meth:`validate` first)."""
        bsl = self.valid_value("bsl")
        kind = self.valid_value("kind")
        mode = self.valid_value("mode")
        return CatalogueQuery(
            text=self.valid_value("q").strip(),
            facility=self.valid_value("facility"),
            kind=ResourceKind(kind) if kind else None,
            biosafety_level=int(bsl) if bsl else None,
            booking_mode=BookingMode(mode) if mode else None,
            sort=self.valid_value("sort") or "code",
            locale=locale,
        )
