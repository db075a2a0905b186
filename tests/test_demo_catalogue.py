"""The demo catalogue: loaded once by ``flask demo``, complete enough to show every feature."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from rrc.catalogue.photos import photo_file
from rrc.catalogue.pricing import estimate
from rrc.demo_catalogue import (
    CLOSURE_REASON,
    FACILITIES,
    RESOURCES,
    internal_price,
    load_catalogue,
)
from rrc.extensions import db
from rrc.models import (
    ApprovalStepKind,
    BookingMode,
    Closure,
    DocumentType,
    Facility,
    PriceTier,
    Rate,
    Resource,
)

CODES = {
    "FAC-BSL3-01",
    "FAC-ABSL3-01",
    "INS-HCS-01",
    "INS-HCS-02",
    "INS-FCM-01",
    "INS-QPCR-01",
    "SVC-HTS-01",
    "SVC-AVR-01",
    "SVC-ASSAY-01",
    "LIB-CPD-01",
    "LIB-CPD-02",
    "BIO-PATH-01",
    "BIO-PATH-02",
    "BIO-INACT-01",
    "BIO-HS-01",
    "BIO-CELL-01",
    "TRN-BSL3-01",
    "CON-01",
}


def counts() -> tuple[int, int, int, int]:
    """Facilities, resources, rates and closures in the database."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Facility, Resource, Rate, Closure)
    )


def resources() -> dict[str, Resource]:
    """Every resource by code, with rates and facility."""
    db.session.expire_all()
    statement = select(Resource).options(
        selectinload(Resource.rates), selectinload(Resource.facility)
    )
    return {resource.code: resource for resource in db.session.scalars(statement)}


def run_demo(runner):
    """``flask demo``, checked to succeed."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result


def test_demo_creates_the_catalogue_once(runner):
    run_demo(runner)
    first = counts()
    assert first == (len(FACILITIES), 18, 18 * 4, 1)

    second = run_demo(runner)
    assert "(0 new records)" in second.output
    assert counts() == first
    assert set(resources()) == CODES


def test_every_resource_has_four_tiers_bilingual_texts_and_a_photo(runner):
    run_demo(runner)
    for code, resource in resources().items():
        assert {rate.tier for rate in resource.rates} == set(PriceTier), code
        for field in ("name", "summary", "description", "unit_label"):
            assert getattr(resource, field) and getattr(resource, f"{field}_ko"), (code, field)
        assert resource.description.count(". ") >= 2, code
        path = photo_file(resource.photo_filename)
        assert path.is_file(), code
        with Image.open(path) as image:
            image.load()
            assert image.size == (800, 500)
        assert all(DocumentType(value) for value in resource.required_documents)
        if resource.booking_mode == BookingMode.SLOT:
            assert resource.unit_minutes and resource.unit_minutes > 0, code
            assert resource.min_duration_minutes <= resource.max_duration_minutes
            assert resource.min_duration_minutes % resource.slot_granularity_minutes == 0
        else:
            assert resource.unit_minutes is None
            assert resource.lead_time_days and resource.availability_note, code


def test_units_rates_and_pricing_follow_the_domain_table(runner):
    run_demo(runner)
    catalogue = resources()
    assert catalogue["FAC-BSL3-01"].unit_minutes == 240
    assert catalogue["FAC-BSL3-01"].buffer_minutes == 30
    assert catalogue["INS-QPCR-01"].unit_minutes == 120
    assert catalogue["TRN-BSL3-01"].unit_minutes == 480
    assert catalogue["CON-01"].unit_minutes == 60

    screening = catalogue["SVC-HTS-01"]
    quote = estimate(screening, PriceTier.ACADEMIC, quantity=10)
    assert [line.label for line in quote.lines] == ["setup", "units"]
    assert quote.total.amount == 3_000_000 + 10 * 150_000
    assert estimate(screening, PriceTier.INDUSTRY, quantity=1).total.amount == 3_450_000

    for tier in PriceTier:
        assert estimate(catalogue["SVC-ASSAY-01"], tier, quantity=1).on_quote
    library = catalogue["LIB-CPD-01"]
    assert estimate(library, PriceTier.INDUSTRY, quantity=2).on_quote
    assert estimate(library, PriceTier.SME, quantity=2).total.amount == 600_000

    consultation = catalogue["CON-01"]
    for tier in (PriceTier.INTERNAL, PriceTier.ACADEMIC, PriceTier.SME):
        assert estimate(consultation, tier, duration_minutes=60).total.amount == 0
    assert estimate(consultation, PriceTier.INDUSTRY, duration_minutes=90).total.amount == 300_000

    cytometer = catalogue["INS-FCM-01"]
    assert cytometer.rate_for(PriceTier.INTERNAL).unit_price == internal_price(40_000) == 13_000
    assert cytometer.rate_for(PriceTier.INDUSTRY).unit_price == 120_000


def test_hazards_documents_and_approval_chains(runner):
    run_demo(runner)
    catalogue = resources()
    isolate = catalogue["BIO-PATH-01"]
    assert isolate.biosafety_level == 3 and isolate.high_risk_pathogen
    assert isolate.chain[-1] == ApprovalStepKind.BIOSAFETY
    assert set(isolate.document_types) == {
        DocumentType.BL3_PERMIT,
        DocumentType.TRANSFER_NOTICE,
        DocumentType.SIGNED_MTA,
        DocumentType.IBC_APPROVAL,
        DocumentType.FACILITY_LIST,
        DocumentType.RESEARCH_PLAN,
    }
    assert catalogue["BIO-HS-01"].human_specimen
    assert catalogue["FAC-ABSL3-01"].animal_work and catalogue["FAC-ABSL3-01"].gmo
    for code, resource in catalogue.items():
        hazardous = (
            resource.biosafety_level >= 3
            or resource.high_risk_pathogen
            or resource.human_specimen
            or resource.animal_work
            or resource.gmo
        )
        if hazardous:
            assert resource.chain[-1] == ApprovalStepKind.BIOSAFETY, code
        else:
            assert ApprovalStepKind.BIOSAFETY not in resource.chain, code
        if ApprovalStepKind.FACILITY_MANAGER in resource.chain:
            assert resource.facility.managers, code
    assert catalogue["CON-01"].chain == []
    assert catalogue["INS-QPCR-01"].chain == [ApprovalStepKind.FACILITY_MANAGER]
    assert catalogue["INS-HCS-02"].training_requirement
    assert catalogue["FAC-BSL3-01"].training_requirement


def test_demo_facility_managers_are_assigned(runner):
    run_demo(runner)
    managers = {
        facility.code: {manager.email for manager in facility.managers}
        for facility in db.session.scalars(select(Facility))
    }
    assert managers == {
        "BSL3": {"fm.bsl3@ip-korea.org"},
        "BIOBANK": {"fm.bsl3@ip-korea.org"},
        "SCREENING": {"fm.screening@ip-korea.org"},
        "IMAGING": {"fm.screening@ip-korea.org"},
        "COMPOUNDS": {"fm.screening@ip-korea.org"},
        "TRAINING": set(),
    }
    bsl3 = db.session.scalar(select(Facility).where(Facility.code == "BSL3"))
    assert bsl3.opening_hours["1"] == ["09:00", "17:00"]
    assert "5" in bsl3.opening_hours and "6" not in bsl3.opening_hours
    assert bsl3.timezone == "Asia/Seoul" and bsl3.name_ko and bsl3.description_ko


def test_maintenance_closure_is_added_once(app, runner):
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
    run_demo(runner)  # people and the catalogue (with today's closure)
    db.session.execute(delete(Closure))
    assert load_catalogue(now=now) == 1
    assert load_catalogue(now=now + timedelta(days=1)) == 0
    (closure,) = db.session.scalars(select(Closure))
    seoul = ZoneInfo("Asia/Seoul")
    assert closure.facility.code == "BSL3" and closure.reason == CLOSURE_REASON
    assert closure.starts_at == datetime(2026, 3, 16, tzinfo=seoul)
    assert closure.ends_at - closure.starts_at == timedelta(days=3)
    assert closure.created_by.email == "fm.bsl3@ip-korea.org"


def test_lost_photos_are_drawn_again_and_edits_are_kept(runner):
    run_demo(runner)
    catalogue = resources()
    lost = catalogue["INS-HCS-02"]
    photo_file(lost.photo_filename).unlink()
    catalogue["CON-01"].photo_filename = None
    edited = catalogue["BIO-PATH-01"]
    edited.availability_note = "3 vials left"
    kept_photo = edited.photo_filename
    db.session.commit()

    result = run_demo(runner)
    assert "(0 new records)" in result.output
    catalogue = resources()
    for code in ("INS-HCS-02", "CON-01"):
        assert photo_file(catalogue[code].photo_filename).is_file(), code
    assert catalogue["BIO-PATH-01"].availability_note == "3 vials left"
    assert catalogue["BIO-PATH-01"].photo_filename == kept_photo


def test_spec_list_matches_the_domain_table():
    assert {spec.code for spec in RESOURCES} == CODES
    assert len(RESOURCES) == len(CODES)
    facility_codes = {spec.code for spec in FACILITIES}
    assert {spec.facility for spec in RESOURCES} == facility_codes


def test_demo_resources_pass_the_staff_editing_rules(runner):
    """Staff can open and save every demo resource without a validation error."""
    from rrc.catalogue_admin.services import ResourceData, check_resource

    run_demo(runner)
    for code, resource in resources().items():
        assert check_resource(ResourceData.from_resource(resource), resource) == {}, code
