"""CSV export and import of the catalogue: round trips, all-or-nothing imports, row reports."""

import csv
import io

import pytest
from sqlalchemy import delete, func, select

from rrc.catalogue_admin import csv_io
from rrc.catalogue_admin.csv_io import COLUMNS, MAX_BYTES, ImportRejected, import_resources
from rrc.catalogue_admin.services import resource_snapshot
from rrc.extensions import db
from rrc.models import AuditLog, BookingMode, PriceTier, Rate, Resource, ResourceKind
from tests.conftest import csrf_tokens, login, post_form

BASE = "/staff/catalogue"


@pytest.fixture
def catalogue(factory):
    """Two facilities and a varied set of resources, with awkward text."""
    bsl3 = factory.facility(code="FAC-BSL3", name="BSL-3 suite", timezone="Asia/Seoul")
    bank = factory.facility(code="FAC-BANK", name="Specimen bank")
    factory.resource(
        facility=bsl3,
        code="FAC-BSL3-01",
        name="BSL-3 Suite A, biosafety cabinet workstation (escorted)",
        name_ko="BSL-3 실험실 A, 생물안전작업대",
        kind=ResourceKind.SPACE,
        unit_label="4 h block",
        unit_label_ko="4시간",
        unit_minutes=240,
        slot_granularity_minutes=60,
        min_duration_minutes=240,
        max_duration_minutes=480,
        biosafety_level=3,
        high_risk_pathogen=True,
        summary='Escorted work, "quoted", with commas, and\nnew lines',
        description="Line one.\nLine two, with ₩ and 한국어.",
        opening_hours={"1": ["09:00", "18:00"], "3": ["08:30", "12:00"]},
        required_documents=["training_certificate", "ibc_approval", "contract"],
        approval_chain=["coordinator", "facility_manager", "biosafety"],
        lead_time_days=14,
        availability_note='=HYPERLINK("http://evil.example")',
        training_requirement="-BSL-3 entry training",
        rates={
            PriceTier.INTERNAL: (100_000, None),
            PriceTier.ACADEMIC: (300_000, None),
            PriceTier.SME: (450_000, None),
            PriceTier.INDUSTRY: (900_000, 50_000),
        },
    )
    factory.resource(
        facility=bank,
        code="SVC-ASSAY-01",
        name="Assay development and miniaturisation (384-well)",
        kind=ResourceKind.SERVICE,
        booking_mode=BookingMode.QUANTITY,
        unit_label="project",
        biosafety_level=2,
        approval_chain=[],
        rates=dict.fromkeys(PriceTier),
    )
    factory.resource(
        facility=bank,
        code="BIO-HS-01",
        name="SFTS patient serum (de-identified)",
        kind=ResourceKind.MATERIAL,
        booking_mode=BookingMode.QUANTITY,
        unit_label="200 µL aliquot",
        human_specimen=True,
        active=False,
        rates={
            PriceTier.INTERNAL: (0, None),
            PriceTier.ACADEMIC: (80_000, None),
            PriceTier.SME: (120_000, None),
            PriceTier.INDUSTRY: None,
        },
    )
    return bsl3, bank


def all_snapshots() -> dict[str, dict]:
    """Every resource's editable values, by code."""
    db.session.expire_all()
    return {
        resource.code: resource_snapshot(resource)
        for resource in db.session.scalars(select(Resource).order_by(Resource.code))
    }


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def upload_csv(client, text: str | bytes, filename: str = "resources.csv"):
    page = client.get(f"{BASE}/import")
    assert page.status_code == 200
    tokens = csrf_tokens(page.get_data(as_text=True))
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        f"{BASE}/import",
        data={**tokens, "csv_file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def export(client) -> str:
    response = client.get(f"{BASE}/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return response.get_data(as_text=True)


def csv_text(rows: list[dict[str, str]], columns=None) -> str:
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=columns or COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return output.getvalue()


def test_export_has_one_row_per_resource_with_rates(client, factory, catalogue):
    login(client, factory.coordinator().email)
    text = export(client)
    assert text.startswith("\ufeff")
    rows = {row["code"]: row for row in rows_of(text)}
    assert list(rows) == ["BIO-HS-01", "FAC-BSL3-01", "SVC-ASSAY-01"]
    suite = rows["FAC-BSL3-01"]
    assert suite["facility_code"] == "FAC-BSL3"
    assert suite["price_academic"] == "300000" and suite["setup_academic"] == ""
    assert suite["price_industry"] == "900000" and suite["setup_industry"] == "50000"
    assert suite["approval_chain"] == "coordinator;facility_manager;biosafety"
    assert suite["required_documents"] == "training_certificate;ibc_approval;contract"
    assert suite["opening_hours"] == "mon 09:00-18:00; wed 08:30-12:00"
    assert suite["high_risk_pathogen"] == "yes" and suite["gmo"] == "no"
    # Spreadsheets must not run cells as formulas.
    assert suite["availability_note"].startswith("'=")
    assert suite["training_requirement"] == "'-BSL-3 entry training"
    assert rows["SVC-ASSAY-01"]["price_sme"] == "quote"
    assert rows["BIO-HS-01"]["active"] == "no"
    assert rows["BIO-HS-01"]["price_internal"] == "0"


def test_round_trip_over_the_existing_catalogue_changes_nothing(client, factory, catalogue):
    login(client, factory.coordinator().email)
    before = all_snapshots()
    text = export(client)
    response = upload_csv(client, text)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "0 created, 0 updated, 3 unchanged" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert all_snapshots() == before
    assert export(client) == text


def test_round_trip_into_an_empty_catalogue_recreates_identical_data(client, factory, catalogue):
    login(client, factory.coordinator().email)
    before = all_snapshots()
    text = export(client)
    db.session.execute(delete(Rate))
    db.session.execute(delete(Resource))
    db.session.commit()
    assert all_snapshots() == {}

    response = upload_csv(client, text)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert all_snapshots() == before
    assert export(client) == text
    db.session.expire_all()
    retired = db.session.scalar(select(Resource).where(Resource.code == "BIO-HS-01"))
    assert retired.retired_at is not None
    actions = list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions.count("catalogue.resource_created") == 3
    assert actions[-1] == "catalogue.csv_imported"


def test_import_creates_and_updates_by_code(client, factory, catalogue):
    coordinator = factory.coordinator()
    login(client, coordinator.email)
    rows = rows_of(export(client))
    suite = next(row for row in rows if row["code"] == "FAC-BSL3-01")
    suite["price_academic"] = "310000"
    suite["name_ko"] = ""
    new = dict(suite, code="fac-bsl3-02", name="BSL-3 Suite B", active="yes")
    response = upload_csv(client, csv_text([suite, new]))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    updated = db.session.scalar(select(Resource).where(Resource.code == "FAC-BSL3-01"))
    assert updated.rate_for(PriceTier.ACADEMIC).unit_price == 310_000
    assert updated.name_ko is None
    created = db.session.scalar(select(Resource).where(Resource.code == "FAC-BSL3-02"))
    assert created.name == "BSL-3 Suite B"
    assert created.availability_note == '=HYPERLINK("http://evil.example")'
    detail = db.session.scalar(
        select(AuditLog.detail).where(AuditLog.action == "catalogue.resource_updated")
    )
    assert "rate_academic: 300000 → 310000" in detail


def test_a_partial_file_updates_only_its_columns(client, factory, catalogue):
    login(client, factory.coordinator().email)
    before = all_snapshots()
    text = "code,price_sme,setup_sme\r\nFAC-BSL3-01,460000,1000\r\n"
    response = upload_csv(client, text)
    assert response.status_code == 302, response.get_data(as_text=True)
    after = all_snapshots()
    assert after["FAC-BSL3-01"]["rate_sme"] == "460000 + set-up 1000"
    after["FAC-BSL3-01"]["rate_sme"] = before["FAC-BSL3-01"]["rate_sme"]
    assert after == before


def test_one_bad_row_changes_nothing_and_is_named(client, factory, catalogue):
    login(client, factory.coordinator().email)
    before = all_snapshots()
    rows = rows_of(export(client))
    rows[0]["price_academic"] = "99"  # a good change that must not be applied
    bad = dict(rows[1], code="INS-NEW-01", price_sme="12,000")
    good_new = dict(rows[2], code="INS-NEW-02")
    response = upload_csv(client, csv_text([rows[0], bad, good_new]))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    problems = page.split('id="import-problems"')[1]
    assert "<td>3</td><td>price_sme</td>" in problems
    assert "is not a whole number" in problems
    assert "<td>2</td>" not in problems and "<td>4</td>" not in problems
    assert all_snapshots() == before
    catalogue_entries = select(func.count(AuditLog.id)).where(AuditLog.action.like("catalogue.%"))
    assert db.session.scalar(catalogue_entries) == 0


def test_every_kind_of_bad_row_is_reported(client, factory, catalogue):
    coordinator = factory.coordinator()
    login(client, coordinator.email)
    before = all_snapshots()
    template = next(row for row in rows_of(export(client)) if row["code"] == "SVC-ASSAY-01")
    rows = [
        dict(template, code="R-02", facility_code="FAC-NOPE"),
        dict(template, code="R-03", kind="robot"),
        dict(template, code="R-04", price_academic="-5"),
        dict(template, code="R-05", name=""),
        dict(template, code="R-02"),
        dict(template, code="R-07", booking_mode="slot", unit_minutes=""),
        dict(template, code="R-08", approval_chain="coordinator;boss"),
        dict(template, code="R-09", gmo="maybe"),
        dict(template, code="R-10", opening_hours="monday 9-5"),
        dict(template, code="R-11", price_industry=""),
        dict(template, code="bad code!"),
        dict(template, code="R-13", slot_granularity_minutes="abc"),
    ]
    response = upload_csv(client, csv_text(rows))
    page = response.get_data(as_text=True)
    problems = page.split('id="import-problems"')[1]
    expected = [
        (2, "facility_code", "There is no facility with the code"),
        (3, "kind", "Unknown value"),
        (4, "price_academic", "Must not be negative."),
        (5, "name", "Give a name."),
        (6, "code", "already used in row 2"),
        (7, "unit_minutes", "Slot resources need"),
        (8, "approval_chain", "Unknown value"),
        (9, "gmo", "Write yes or no."),
        (10, "opening_hours", "mon 09:00-18:00"),
        (11, "price_industry", "on quote"),
        (12, "code", "capital letters"),
        (13, "slot_granularity_minutes", "not a whole number"),
    ]
    for row, column, message in expected:
        assert f"<td>{row}</td><td>{column}</td>" in problems, (row, column)
        assert message in problems, message
    assert all_snapshots() == before


def test_file_level_problems(client, factory, catalogue):
    login(client, factory.coordinator().email)
    page = upload_csv(client, "code,colour\r\nX-1,red\r\n").get_data(as_text=True)
    assert "<td>1</td><td>colour</td>" in page and "Unknown column." in page
    page = upload_csv(client, "name\r\nX\r\n").get_data(as_text=True)
    assert "The file needs a code column." in page
    page = upload_csv(client, "code,name\r\nNEW-1,Thing\r\n").get_data(as_text=True)
    assert "<td>2</td><td>facility_code</td>" in page and "Required for a new resource" in page
    page = upload_csv(client, "code,name\r\nFAC-BSL3-01\r\n").get_data(as_text=True)
    assert "This row has 1 cells" in page
    page = upload_csv(client, b"code,name\r\n" + "é".encode("latin-1")).get_data(as_text=True)
    assert "not UTF-8" in page
    page = upload_csv(client, "code\r\n").get_data(as_text=True)
    assert "no rows to import" in page
    assert "The file is empty." in upload_csv(client, "").get_data(as_text=True)
    # A spreadsheet saved as .xlsx and renamed .csv: a ZIP full of NUL bytes.
    xlsx = b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64
    page = upload_csv(client, xlsx).get_data(as_text=True)
    assert "The file is not CSV text." in page
    # (The service, not the form: the test client leaves a large upload's spool file open.)
    too_big = ("code,name\r\n" + "X-1,Thing\r\n" * (MAX_BYTES // 11 + 1)).encode()
    with pytest.raises(ImportRejected) as rejected:
        import_resources(factory.coordinator(), too_big)
    assert [problem.message for problem in rejected.value.problems] == [
        "The file is larger than 5 MB."
    ]
    assert db.session.scalar(select(func.count(Resource.id))) == 3
    page = post_form(client, f"{BASE}/import", {}).get_data(as_text=True)
    assert 'id="csv_file-error"' in page


def test_a_facility_manager_may_export_only_their_facilities_and_not_import(
    client, factory, catalogue
):
    bsl3, _bank = catalogue
    manager = factory.facility_manager(bsl3)
    login(client, manager.email)
    rows = rows_of(export(client))
    assert [row["code"] for row in rows] == ["FAC-BSL3-01"]
    assert client.get(f"{BASE}/import").status_code == 403
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert "Import CSV" not in page and "Export CSV" in page


def test_the_import_service_refuses_rows_of_facilities_the_actor_does_not_manage(
    app, factory, catalogue
):
    bsl3, _bank = catalogue
    manager = factory.facility_manager(bsl3)
    text = (
        "code,price_academic,facility_code\r\n"
        "FAC-BSL3-01,1,FAC-BSL3\r\n"
        "SVC-ASSAY-01,1,FAC-BANK\r\n"
        "FAC-BSL3-01-B,1,FAC-BANK\r\n"
    )
    with pytest.raises(ImportRejected) as caught:
        import_resources(manager, text.encode())
    problems = {(problem.row, problem.column) for problem in caught.value.problems}
    assert (3, "facility_code") in problems  # an existing resource of another facility
    assert (4, "facility_code") in problems  # a new resource in another facility
    assert not any(problem.row == 2 for problem in caught.value.problems)


def test_opening_hours_format_round_trips():
    hours = {"1": ["09:00", "18:00"], "7": ["10:00", "12:30"]}
    text = csv_io.format_opening_hours(hours)
    assert text == "mon 09:00-18:00; sun 10:00-12:30"
    assert csv_io.parse_opening_hours(text) == hours
    assert csv_io.parse_opening_hours("") is None
    for bad in ("mon 18:00-09:00", "mon 09:00-18:00; mon 10:00-11:00", "xyz 09:00-10:00"):
        with pytest.raises(ValueError):
            csv_io.parse_opening_hours(bad)


def test_formula_escaping_round_trips():
    for value in ("=1+1", "+82 10", "-", "@home", "'quoted", "'", "''=x", "plain", ""):
        assert csv_io._unsafe_text(csv_io._safe_text(value)) == value
