"""CSV export and import of resources with their rates.

One row per resource. The columns cover every editable value (not the photo), so that exporting
and importing the file again changes nothing. Lists are ``;``-separated; a price of ``quote``
means "on quote"; opening hours read ``mon 09:00-18:00; tue 09:00-18:00`` (empty: the facility's
hours). Free-text cells that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``)
are written with a leading apostrophe, which the import removes again.

An import checks every row first; when any row is bad nothing is written and each problem is
reported with its row number (the header is row 1) and column.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import time

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rrc import audit
from rrc.catalogue.permissions import can_edit_facility, editable_facility_condition
from rrc.catalogue_admin import services
from rrc.catalogue_admin.services import RateData, ResourceData
from rrc.extensions import db
from rrc.models import (
    ApprovalStepKind,
    BookingMode,
    DocumentType,
    Facility,
    PriceTier,
    Resource,
    ResourceKind,
    User,
)

MAX_ROWS = 5000
# 5,000 rows of the export's columns fit easily; anything larger is not a catalogue file.
MAX_BYTES = 5 * 1024 * 1024
TIER_COLUMNS = [
    column for tier in PriceTier for column in (f"price_{tier.value}", f"setup_{tier.value}")
]
COLUMNS = [
    "code",
    "facility_code",
    "name",
    "name_ko",
    "kind",
    "booking_mode",
    "unit_label",
    "unit_label_ko",
    "unit_minutes",
    "biosafety_level",
    "high_risk_pathogen",
    "human_specimen",
    "animal_work",
    "gmo",
    "summary",
    "summary_ko",
    "description",
    "description_ko",
    "active",
    *TIER_COLUMNS,
    "required_documents",
    "approval_chain",
    "slot_granularity_minutes",
    "min_duration_minutes",
    "max_duration_minutes",
    "min_notice_hours",
    "max_advance_days",
    "buffer_minutes",
    "opening_hours",
    "cancellation_notice_hours",
    "lead_time_days",
    "availability_note",
    "training_requirement",
]
TEXT_COLUMNS = (
    "name",
    "name_ko",
    "unit_label",
    "unit_label_ko",
    "summary",
    "summary_ko",
    "description",
    "description_ko",
    "availability_note",
    "training_requirement",
)
REQUIRED_INTEGERS = (
    "biosafety_level",
    "slot_granularity_minutes",
    "min_duration_minutes",
    "max_duration_minutes",
    "min_notice_hours",
    "max_advance_days",
    "buffer_minutes",
    "cancellation_notice_hours",
)
OPTIONAL_INTEGERS = ("unit_minutes", "lead_time_days")
BOOLEANS = ("high_risk_pathogen", "human_specimen", "animal_work", "gmo", "active")
# Service error keys that are named differently in the file.
ERROR_COLUMNS = {"facility": "facility_code"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TRUE_WORDS = {"yes", "true", "1", "y"}
FALSE_WORDS = {"no", "false", "0", "n"}
HOURS_PATTERN = re.compile(r"^([a-z]{3})\s+(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})$")


# --- export ------------------------------------------------------------------------------------


def _safe_text(value: str | None) -> str:
    """Keep spreadsheets from running a cell as a formula (the import undoes this)."""
    value = value or ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _unsafe_text(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def format_opening_hours(hours: dict | None) -> str:
    """``{"1": ["09:00", "18:00"]}`` → ``mon 09:00-18:00``."""
    if not hours:
        return ""
    return "; ".join(
        f"{DAYS[int(day) - 1]} {span[0]}-{span[1]}"
        for day, span in sorted(hours.items(), key=lambda item: int(item[0]))
    )


def parse_opening_hours(text: str) -> dict | None:
    """``mon 09:00-18:00; tue 09:00-12:00`` → the stored shape; empty → None (facility hours)."""
    text = text.strip()
    if not text:
        return None
    hours: dict[str, list[str]] = {}
    for part in text.split(";"):
        part = part.strip().lower()
        if not part:
            continue
        match = HOURS_PATTERN.match(part)
        if not match or match.group(1) not in DAYS:
            raise ValueError(
                _("Write days as “mon 09:00-18:00; tue 09:00-18:00” (mon … sun, 24-hour times).")
            )
        day = str(DAYS.index(match.group(1)) + 1)
        if day in hours:
            raise ValueError(_("%(day)s is given twice.", day=match.group(1)))
        try:
            opens, closes = time.fromisoformat(match.group(2)), time.fromisoformat(match.group(3))
        except ValueError:
            raise ValueError(_("%(text)s is not a valid time span.", text=part)) from None
        if closes <= opens:
            raise ValueError(
                _("On %(day)s the closing time is not after the opening time.", day=match.group(1))
            )
        hours[day] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
    return dict(sorted(hours.items()))


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def resource_row(resource: Resource) -> dict[str, str]:
    """One resource as a CSV row."""
    row = {
        "code": resource.code,
        "facility_code": resource.facility.code,
        "kind": resource.kind.value,
        "booking_mode": resource.booking_mode.value,
        "unit_minutes": _number(resource.unit_minutes),
        "biosafety_level": str(resource.biosafety_level),
        "high_risk_pathogen": _yes_no(resource.high_risk_pathogen),
        "human_specimen": _yes_no(resource.human_specimen),
        "animal_work": _yes_no(resource.animal_work),
        "gmo": _yes_no(resource.gmo),
        "active": _yes_no(resource.active),
        "required_documents": ";".join(resource.required_documents or []),
        "approval_chain": ";".join(resource.approval_chain or []),
        "opening_hours": format_opening_hours(resource.opening_hours),
        "lead_time_days": _number(resource.lead_time_days),
    }
    for column in TEXT_COLUMNS:
        row[column] = _safe_text(getattr(resource, column))
    for column in REQUIRED_INTEGERS:
        row.setdefault(column, str(getattr(resource, column)))
    rates = {rate.tier: rate for rate in resource.rates}
    for tier in PriceTier:
        rate = rates.get(tier)
        if rate is None:
            price, setup = "", ""
        elif rate.on_quote:
            price, setup = "quote", ""
        else:
            price, setup = _number(rate.unit_price), _number(rate.setup_fee)
        row[f"price_{tier.value}"] = price
        row[f"setup_{tier.value}"] = setup
    return row


def export_resources(actor: User) -> str:
    """Every resource the actor may edit (retired ones too), by code, as CSV text with a BOM so
    that spreadsheets read the Korean text as UTF-8."""
    resources = db.session.scalars(
        select(Resource)
        .join(Resource.facility)
        .options(selectinload(Resource.rates), selectinload(Resource.facility))
        .where(editable_facility_condition(actor))
        .order_by(Resource.code)
    )
    output = io.StringIO()
    output.write("\ufeff")
    writer = csv.DictWriter(output, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for resource in resources:
        writer.writerow(resource_row(resource))
    return output.getvalue()


# --- import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    """One reason a row (or the file) cannot be imported."""

    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    """What an import applied."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class ImportRejected(services.CatalogueError):
    """The file has problems; nothing was written."""

    def __init__(self, problems: list[RowProblem]):
        super().__init__(_("Nothing was imported: correct the rows listed and upload again."))
        self.problems = problems


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        message = _("The file is larger than %(mb)d MB.", mb=MAX_BYTES // 2**20)
        raise ImportRejected([RowProblem(0, "", message)])
    if b"\x00" in data:
        # Spreadsheet binaries (.xlsx, .xls) and other non-text files.
        raise ImportRejected(
            [RowProblem(0, "", _("The file is not CSV text. Save it as “CSV UTF-8”."))]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected(
            [RowProblem(0, "", _("The file is not UTF-8 text. Save it as “CSV UTF-8”."))]
        ) from None


def _read(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the non-blank rows with their row numbers (header = row 1)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        message = _("The file is not valid CSV: %(error)s", error=str(error))
        raise ImportRejected([RowProblem(0, "", message)]) from None
    if not records:
        raise ImportRejected([RowProblem(0, "", _("The file is empty."))])
    header = [name.strip().lower() for name in records[0]]
    problems = []
    unknown = [name for name in header if name not in COLUMNS]
    for name in unknown:
        problems.append(RowProblem(1, name, _("Unknown column.")))
    for name in {name for name in header if header.count(name) > 1}:
        problems.append(RowProblem(1, name, _("This column appears twice.")))
    if "code" not in header:
        problems.append(RowProblem(1, "code", _("The file needs a code column.")))
    if problems:
        raise ImportRejected(problems)
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(
                RowProblem(
                    number,
                    "",
                    _(
                        "This row has %(found)d cells; the header has %(expected)d.",
                        found=len(record),
                        expected=len(header),
                    ),
                )
            )
            continue
        rows.append((number, dict(zip(header, record, strict=True))))
    if len(rows) > MAX_ROWS:
        message = _("Import at most %(count)d rows at a time.", count=MAX_ROWS)
        problems.append(RowProblem(0, "", message))
    if problems:
        raise ImportRejected(problems)
    if not rows:
        raise ImportRejected([RowProblem(0, "", _("The file has no rows to import."))])
    return header, rows


def _parse_enum(value: str, enum_class):
    value = value.strip().lower()
    try:
        return enum_class(value)
    except ValueError:
        raise ValueError(
            _(
                "Unknown value “%(value)s”; use one of: %(allowed)s.",
                value=value,
                allowed=", ".join(member.value for member in enum_class),
            )
        ) from None


def _parse_integer(value: str, required: bool) -> int | None:
    value = value.strip()
    if not value:
        if required:
            raise ValueError(_("Required."))
        return None
    if not re.fullmatch(r"-?\d+", value):
        raise ValueError(
            _("“%(value)s” is not a whole number (digits only, e.g. 300000).", value=value)
        )
    return int(value)


def _parse_boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValueError(_("Write yes or no."))


def _parse_list(value: str, allowed: set[str]) -> list[str]:
    items = [item.strip().lower() for item in value.split(";") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise ValueError(
            _(
                "Unknown value “%(value)s”; use some of: %(allowed)s.",
                value=unknown[0],
                allowed=", ".join(sorted(allowed)),
            )
        )
    if len(set(items)) != len(items):
        raise ValueError(_("A value is listed twice."))
    return items


def _apply_cells(
    data: ResourceData, row: dict[str, str], facilities: dict[str, Facility]
) -> dict[str, str]:
    """Write the row's cells into ``data``; return cell problems by column."""
    problems: dict[str, str] = {}
    for column, raw in row.items():
        try:
            if column == "code":
                continue
            if column == "facility_code":
                code = services.normalise_code(raw)
                if code not in facilities:
                    raise ValueError(
                        _("There is no facility with the code “%(code)s”.", code=raw.strip())
                    )
                data.facility = facilities[code]
            elif column in TEXT_COLUMNS:
                setattr(data, column, _unsafe_text(raw.strip()))
            elif column == "kind":
                data.kind = _parse_enum(raw, ResourceKind)
            elif column == "booking_mode":
                data.booking_mode = _parse_enum(raw, BookingMode)
            elif column in REQUIRED_INTEGERS:
                setattr(data, column, _parse_integer(raw, required=True))
            elif column in OPTIONAL_INTEGERS:
                setattr(data, column, _parse_integer(raw, required=False))
            elif column in BOOLEANS:
                setattr(data, column, _parse_boolean(raw))
            elif column == "required_documents":
                data.required_documents = _parse_list(raw, {m.value for m in DocumentType})
            elif column == "approval_chain":
                data.approval_chain = _parse_list(raw, {m.value for m in ApprovalStepKind})
            elif column == "opening_hours":
                data.opening_hours = parse_opening_hours(raw)
            elif column.startswith("price_"):
                tier = PriceTier(column.removeprefix("price_"))
                rate = data.rates.setdefault(tier, RateData())
                if raw.strip().lower() == "quote":
                    rate.on_quote, rate.unit_price = True, None
                else:
                    rate.on_quote = False
                    rate.unit_price = _parse_integer(raw, required=False)
            elif column.startswith("setup_"):
                tier = PriceTier(column.removeprefix("setup_"))
                rate = data.rates.setdefault(tier, RateData())
                rate.setup_fee = _parse_integer(raw, required=False)
        except ValueError as error:
            problems[column] = str(error)
    return problems


@dataclass
class _PlannedRow:
    number: int
    data: ResourceData
    resource: Resource | None


def check_import(actor: User, data: bytes) -> list[_PlannedRow]:
    """Read and check every row; raise :class:`ImportRejected` listing every problem."""
    header, rows = _read(_decode(data))
    codes = [services.normalise_code(row.get("code")) for _number, row in rows]
    facilities = {facility.code: facility for facility in db.session.scalars(select(Facility))}
    existing = {
        resource.code: resource
        for resource in db.session.scalars(
            select(Resource)
            .options(selectinload(Resource.rates), selectinload(Resource.facility))
            .where(Resource.code.in_(set(codes)))
        )
    }
    problems: list[RowProblem] = []
    planned: list[_PlannedRow] = []
    first_row: dict[str, int] = {}
    for (number, row), code in zip(rows, codes, strict=True):
        row_problems: dict[str, str] = {}
        if code in first_row:
            row_problems["code"] = _(
                "The code %(code)s is already used in row %(row)d.", code=code, row=first_row[code]
            )
        elif code:
            first_row[code] = number
        resource = existing.get(code)
        if resource is not None:
            data = ResourceData.from_resource(resource)
            if not can_edit_facility(actor, resource.facility):
                row_problems["facility_code"] = _(
                    "You do not manage %(facility)s, the facility of %(code)s.",
                    facility=resource.facility.code,
                    code=code,
                )
        else:
            data = ResourceData(code=code)
            missing = [
                column
                for column in ("facility_code", "name", "kind", "booking_mode", "unit_label")
                if column not in header
            ] + [
                column
                for column in TIER_COLUMNS
                if column.startswith("price_") and column not in header
            ]
            for column in missing:
                row_problems.setdefault(column, _("Required for a new resource: add this column."))
        for column, message in _apply_cells(data, row, facilities).items():
            row_problems.setdefault(column, message)
        if data.facility is not None and not can_edit_facility(actor, data.facility):
            row_problems.setdefault(
                "facility_code",
                _("You do not manage %(facility)s.", facility=data.facility.code),
            )
        if not row_problems:
            for key, message in services.check_resource(data, resource).items():
                row_problems.setdefault(ERROR_COLUMNS.get(key, key), message)
        problems += [
            RowProblem(number, column, message) for column, message in row_problems.items()
        ]
        planned.append(_PlannedRow(number, data, resource))
    if problems:
        raise ImportRejected(problems)
    return planned


def import_resources(actor: User, data: bytes) -> ImportResult:
    """Create or update resources by code from a CSV file: all rows, or none at all."""
    planned = check_import(actor, data)
    result = ImportResult()
    for row in planned:
        try:
            if row.resource is None:
                services.create_resource(actor, row.data)
                result.created.append(row.data.code)
            elif services.update_resource(actor, row.resource, row.data):
                result.updated.append(row.data.code)
            else:
                result.unchanged.append(row.data.code)
        except services.InvalidData as error:
            raise ImportRejected(
                [
                    RowProblem(row.number, ERROR_COLUMNS.get(key, key), message)
                    for key, message in error.errors.items()
                ]
            ) from None
        except services.CatalogueError as error:
            raise ImportRejected(
                [
                    RowProblem(
                        row.number,
                        ERROR_COLUMNS.get(error.field or "", error.field or ""),
                        error.message,
                    )
                ]
            ) from None
    audit.record(
        actor,
        "catalogue.csv_imported",
        detail=f"created {len(result.created)}, updated {len(result.updated)}, "
        f"unchanged {len(result.unchanged)}",
    )
    return result
