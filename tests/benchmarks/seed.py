"""Seed a benchmark database: the schema by migration, the demo's staff and catalogue, then a
small or a large generated data set of ten years of open access.

    python -m tests.benchmarks.seed --size large \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_large

The database is emptied first (its name must contain "bench"). The schema comes from the
Alembic migrations (``flask db upgrade``), so the real indexes and PostgreSQL's exclusion
constraint are in place while the rows arrive: PostgreSQL is loaded with ``COPY``, SQLite with
SQLAlchemy Core ``executemany`` in large batches. Every generated row satisfies the schema's
constraints; active bookings of a resource never overlap (they sit in disjoint cells of a grid).
"""

import argparse
import itertools
import json
import math
import random
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from resource import RUSAGE_SELF, getrusage
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url

from rrc import create_app
from rrc.config import normalise_database_url
from rrc.demo import load_demo
from rrc.extensions import db
from rrc.models import (
    ApprovalStep,
    ApprovalStepKind,
    Booking,
    BookingMode,
    BookingStatus,
    Closure,
    Comment,
    ConsentRecord,
    Facility,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    PriceTier,
    Rate,
    RequestCounter,
    RequestEvent,
    RequestStatus,
    Resource,
    ResourceKind,
    ResourceRequest,
    StepState,
    User,
    UserKind,
    UserStatus,
    facility_manager,
)
from rrc.models.accounts import TIER_BY_ORGANISATION_TYPE
from rrc.models.bookings import EXCLUSION_CONSTRAINT
from rrc.models.types import UTCDateTime
from rrc.security import hash_password
from tests.benchmarks.common import (
    BUSY_RESOURCE,
    PASSWORD,
    SUBMISSION_FACILITY,
    SUBMISSION_RESOURCES,
    bench_config,
    database_size,
    instance_path,
    megabytes,
    refuse_shared_database,
)

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class Size:
    """How much of everything a data set holds."""

    facilities: int
    resources: int
    organisations: int
    partners: int
    requests: int
    bookings: int
    # Share of the demo's slot resources' grid cells that are booked (they are the busy ones).
    busy_fill: float


SIZES = {
    "large": Size(
        facilities=24,
        resources=2_000,
        organisations=3_000,
        partners=20_000,
        requests=200_000,
        bookings=1_000_000,
        busy_fill=0.85,
    ),
    "small": Size(
        facilities=4,
        resources=100,
        organisations=150,
        partners=1_000,
        requests=10_000,
        bookings=50_000,
        busy_fill=0.85 / 20,
    ),
}

# --- vocabulary of the generated catalogue ---------------------------------------------------

FACILITY_NAMES = [
    ("Open-access instrument hall", "개방형 공용장비실"),
    ("Imaging core", "이미징 코어"),
    ("Genomics core", "유전체 코어"),
    ("Proteomics core", "단백체 코어"),
    ("Flow cytometry core", "유세포 분석 코어"),
    ("Structural biology platform", "구조생물학 플랫폼"),
    ("Animal facility", "동물실험시설"),
    ("BSL-2 cell culture suite", "BSL-2 세포배양실"),
    ("Medicinal chemistry platform", "의약화학 플랫폼"),
    ("Bioinformatics platform", "생물정보학 플랫폼"),
]
INSTRUMENTS = [
    ("Confocal microscope", "공초점 현미경"),
    ("Spinning-disk confocal microscope", "회전 디스크 공초점 현미경"),
    ("Widefield fluorescence microscope", "광시야 형광 현미경"),
    ("Flow cytometer", "유세포 분석기"),
    ("Cell sorter", "세포 분류기"),
    ("Microplate reader", "마이크로플레이트 리더"),
    ("Liquid handling robot", "자동 분주 로봇"),
    ("Real-time PCR system", "실시간 PCR 장비"),
    ("Digital PCR system", "디지털 PCR 장비"),
    ("Next-generation sequencer", "차세대 염기서열 분석기"),
    ("LC-MS/MS mass spectrometer", "LC-MS/MS 질량분석기"),
    ("MALDI-TOF mass spectrometer", "MALDI-TOF 질량분석기"),
    ("Cryo-electron microscope", "초저온 전자현미경"),
    ("Transmission electron microscope", "투과전자현미경"),
    ("High-content imager", "고함량 이미징 장비"),
    ("Live-cell imaging system", "생세포 이미징 시스템"),
    ("Ultracentrifuge", "초원심분리기"),
    ("Surface plasmon resonance system", "표면 플라즈몬 공명 장비"),
    ("Isothermal titration calorimeter", "등온 적정 열량계"),
    ("Automated patch clamp", "자동 패치 클램프"),
    ("Capillary electrophoresis analyser", "모세관 전기영동 분석기"),
    ("Light-sheet microscope", "광시트 현미경"),
    ("Laser-scanning confocal with Airyscan", "에어리스캔 레이저 주사 공초점 현미경"),
    ("Multiphoton microscope", "다광자 현미경"),
]
SPACES = [
    ("BSL-2 cell culture room", "BSL-2 세포배양실"),
    ("Tissue culture hood", "세포배양 후드"),
    ("Cold room bench", "저온실 실험대"),
    ("Animal procedure room", "동물 처치실"),
    ("Clean bench workstation", "클린벤치 작업공간"),
]
SERVICES = [
    ("Sequencing service", "염기서열 분석 서비스"),
    ("Proteomics analysis service", "단백체 분석 서비스"),
    ("Compound screening service", "화합물 스크리닝 서비스"),
    ("Antibody production service", "항체 생산 서비스"),
    ("Histology service", "조직병리 서비스"),
    ("Bioinformatics analysis", "생물정보 분석"),
]
MATERIALS = [
    ("Cell line", "세포주"),
    ("Compound plate set", "화합물 플레이트 세트"),
    ("Viral vector stock", "바이러스 벡터 스톡"),
    ("Serum panel", "혈청 패널"),
    ("Plasmid library", "플라스미드 라이브러리"),
]
TRAININGS = [("Instrument training", "장비 교육"), ("Biosafety training", "생물안전 교육")]
CONSULTATIONS = [
    ("Assay design consultation", "분석법 설계 상담"),
    ("Statistics consultation", "통계 상담"),
]
VOCABULARY = {
    ResourceKind.INSTRUMENT: INSTRUMENTS,
    ResourceKind.SPACE: SPACES,
    ResourceKind.SERVICE: SERVICES,
    ResourceKind.MATERIAL: MATERIALS,
    ResourceKind.TRAINING: TRAININGS,
    ResourceKind.CONSULTATION: CONSULTATIONS,
}
KIND_WEIGHTS = {
    ResourceKind.INSTRUMENT: 45,
    ResourceKind.SPACE: 10,
    ResourceKind.SERVICE: 20,
    ResourceKind.MATERIAL: 15,
    ResourceKind.TRAINING: 5,
    ResourceKind.CONSULTATION: 5,
}
CODE_PREFIX = {
    ResourceKind.INSTRUMENT: "INS",
    ResourceKind.SPACE: "FAC",
    ResourceKind.SERVICE: "SVC",
    ResourceKind.MATERIAL: "MAT",
    ResourceKind.TRAINING: "TRN",
    ResourceKind.CONSULTATION: "CON",
}
QUANTITY_UNITS = [
    ("sample", "시료"),
    ("plate", "플레이트"),
    ("vial", "바이알"),
    ("project", "과제"),
]
PLACES = [
    "Seoul", "Busan", "Incheon", "Daejeon", "Daegu", "Gwangju", "Ulsan", "Suwon", "Seongnam",
    "Pohang", "Jeonju", "Cheongju", "Chuncheon", "Gangneung", "Jeju", "Songdo", "Pangyo", "Osong",
]  # fmt: skip
ORGANISATION_WORDS = {
    OrganisationType.UNIVERSITY: "National University",
    OrganisationType.PUBLIC_INSTITUTE: "Institute of Biomedical Research",
    OrganisationType.HOSPITAL: "University Hospital",
    OrganisationType.STARTUP: "Therapeutics Inc.",
    OrganisationType.SME: "Bio Co., Ltd.",
    OrganisationType.LARGE_COMPANY: "Pharmaceutical Co.",
    OrganisationType.FOREIGN_ACADEMIC: "University Virology Laboratory",
    OrganisationType.FOREIGN_INDUSTRY: "Biosciences GmbH",
}
ORGANISATION_TYPE_WEIGHTS = {
    OrganisationType.UNIVERSITY: 30,
    OrganisationType.PUBLIC_INSTITUTE: 10,
    OrganisationType.HOSPITAL: 10,
    OrganisationType.STARTUP: 15,
    OrganisationType.SME: 15,
    OrganisationType.LARGE_COMPANY: 8,
    OrganisationType.FOREIGN_ACADEMIC: 8,
    OrganisationType.FOREIGN_INDUSTRY: 4,
}
FOREIGN_COUNTRIES = ["FR", "US", "DE", "JP", "SG", "GB", "CH", "AU"]
FAMILY_NAMES = ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han"]
GIVEN_NAMES = [
    "Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun", "Soo-ah", "Jae-won", "Eun-ji",
    "Hyun-woo", "Ye-jin", "Sung-min", "Da-eun", "Claire", "Lukas", "Emma", "Hiroshi",
]  # fmt: skip
PROJECT_WORDS = [
    "antiviral screening", "host-pathogen interaction", "tuberculosis drug discovery",
    "organoid imaging", "antibody validation", "single-cell profiling", "biomarker discovery",
    "vaccine candidate characterisation", "kinase inhibitor profiling", "CRISPR screen follow-up",
]  # fmt: skip

# --- the request's life ----------------------------------------------------------------------

FUTURE_MIX = [
    (RequestStatus.APPROVED, 75),
    (RequestStatus.IN_REVIEW, 12),
    (RequestStatus.CHANGES_REQUESTED, 2),
    (RequestStatus.CANCELLED, 6),
    (RequestStatus.REJECTED, 5),
]
PAST_MIX = [
    (RequestStatus.COMPLETED, 84),
    (RequestStatus.CANCELLED, 9),
    (RequestStatus.REJECTED, 7),
]
CURRENT_MIX = [
    (RequestStatus.IN_PROGRESS, 50),
    (RequestStatus.APPROVED, 40),
    (RequestStatus.CANCELLED, 10),
]
RECENT_QUANTITY_MIX = [
    (RequestStatus.IN_REVIEW, 35),
    (RequestStatus.CHANGES_REQUESTED, 5),
    (RequestStatus.APPROVED, 25),
    (RequestStatus.IN_PROGRESS, 25),
    (RequestStatus.CANCELLED, 5),
    (RequestStatus.REJECTED, 5),
]
DRAFT_SHARE = 0.10
# Statuses that need an approval step to wait on or to have decided.
UNDECIDED = (RequestStatus.IN_REVIEW, RequestStatus.CHANGES_REQUESTED, RequestStatus.REJECTED)


def weighted(rng: random.Random, choices: list[tuple]) -> object:
    """One value of ``[(value, weight), ...]``."""
    values = [value for value, _weight in choices]
    weights = [weight for _value, weight in choices]
    return rng.choices(values, weights)[0]


# Columns of the timeline events, kept as tuples until they are written (there are a million).
EVENT_COLUMNS = (
    "id", "request_id", "at", "actor_id", "kind", "from_status", "to_status", "step_kind", "detail",
)  # fmt: skip


# The big tables: loaded without their secondary indexes and constraints, which are then
# rebuilt exactly as the migrations made them.
BULK_TABLES = {"resource_request", "approval_step", "request_event", "booking"}


# --- writing rows fast -------------------------------------------------------------------------


class Writer:
    """Bulk-loads rows into a table: COPY on PostgreSQL, Core executemany on SQLite.

    Rows are dicts; a column left out gets its model default (a scalar, or a callable's value
    computed once per table), and a non-nullable column without one must be given.
    """

    BATCH = 20_000

    def __init__(self, engine: Engine):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.timings: list[tuple[str, int, float]] = []

    def _columns(self, table: sa.Table) -> list[tuple[str, object]]:
        """Each column's name and the value it gets when a row leaves it out."""
        columns = []
        for column in table.columns:
            default = column.default
            if default is None:
                value = None
            elif callable(default.arg):
                value = default.arg(None)
            else:
                value = default.arg
            columns.append((column.name, value))
        return columns

    def _converters(self, table: sa.Table) -> list[tuple[int, object]]:
        """Columns whose values need converting to what the driver takes, with the function."""
        converters = []
        for index, column in enumerate(table.columns):
            if isinstance(column.type, sa.JSON):
                converters.append((index, json.dumps))
            elif not self.postgres and isinstance(column.type, UTCDateTime):
                converters.append((index, sqlite_datetime))
            elif not self.postgres and isinstance(column.type, sa.Date):
                converters.append((index, date.isoformat))
        return converters

    def write(self, table: sa.Table, rows: Iterable[dict]) -> int:
        if table.name in BULK_TABLES:
            recreate = self._detach(table.name)
            count = self._write(table, rows)
            started = time.perf_counter()
            with self.engine.begin() as connection:
                if self.postgres:
                    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
                for statement in recreate:
                    connection.exec_driver_sql(statement)
            self.timings.append(
                (
                    f"  {table.name}: indexes, constraints",
                    len(recreate),
                    time.perf_counter() - started,
                )
            )
            return count
        return self._write(table, rows)

    def _detach(self, table: str) -> list[str]:
        """Drop the table's secondary indexes (and on PostgreSQL its foreign keys and exclusion
        constraint) before a bulk load; return the DDL that recreates them exactly as they were.

        Building an index once is much faster than updating it a million times, and re-adding
        a constraint checks every loaded row against it (the exclusion constraint included).
        """
        with self.engine.begin() as connection:
            if not self.postgres:
                indexes = connection.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                    "AND sql IS NOT NULL",
                    (table,),
                ).all()
                for name, _sql in indexes:
                    connection.exec_driver_sql(f'DROP INDEX "{name}"')
                return [sql for _name, sql in indexes]
            qualified = f'"{table}"'
            constraints = connection.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = CAST(:table AS regclass) AND contype IN ('f', 'x')"
                ),
                {"table": qualified},
            ).all()
            indexes = connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = current_schema() AND tablename = :name "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint "
                    "WHERE conrelid = CAST(:table AS regclass))"
                ),
                {"name": table, "table": qualified},
            ).all()
            for name, _definition in constraints:
                connection.exec_driver_sql(f'ALTER TABLE {qualified} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                connection.exec_driver_sql(f'DROP INDEX "{name}"')
        return [definition for _name, definition in indexes] + [
            f'ALTER TABLE {qualified} ADD CONSTRAINT "{name}" {definition}'
            for name, definition in constraints
        ]

    def _write(self, table: sa.Table, rows: Iterable[dict]) -> int:
        started = time.perf_counter()
        columns = self._columns(table)
        converters = self._converters(table)

        def values(row: dict) -> tuple:
            found = [row.get(name, default) for name, default in columns]
            for index, convert in converters:
                if found[index] is not None:
                    found[index] = convert(found[index])
            return tuple(found)

        names = ", ".join(f'"{name}"' for name, _default in columns)
        if self.postgres:
            count = self._copy(table.name, names, map(values, rows))
        else:
            count = self._insert(table.name, names, len(columns), map(values, rows))
        self.timings.append((table.name, count, time.perf_counter() - started))
        return count

    def _copy(self, table: str, names: str, rows: Iterable[tuple]) -> int:
        count = 0
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            connection.commit()
        finally:
            connection.close()
        return count

    def _insert(self, table: str, names: str, width: int, rows: Iterable[tuple]) -> int:
        """Core ``executemany`` in batches, with the values already in SQLite's storage form
        (what the column types' bind processors produce, without their per-value cost)."""
        marks = ", ".join("?" for _column in range(width))
        statement = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608
        count = 0
        with self.engine.connect() as connection:
            while batch := list(itertools.islice(rows, self.BATCH)):
                connection.exec_driver_sql(statement, batch)
                connection.commit()
                count += len(batch)
        return count


def sqlite_datetime(value: datetime) -> str:
    """An aware datetime as SQLAlchemy stores it in SQLite: naive UTC text, microseconds."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


# --- the data set ------------------------------------------------------------------------------


@dataclass
class ResourceInfo:
    """What generating requests and bookings needs to know of a resource."""

    id: int
    code: str
    facility_id: int
    kind: ResourceKind
    mode: BookingMode
    chain: list[str]
    hazardous: bool
    unit_minutes: int | None
    min_minutes: int
    max_minutes: int
    granularity: int
    buffer: int
    opening: dict
    manager_id: int | None
    rates: dict[str, tuple[int | None, bool]]
    busy: bool = False
    bookings: int = 0


@dataclass
class PlannedRequest:
    """A request before its id: when it was created, for what, by whom, and its sessions."""

    created_at: datetime
    resource: ResourceInfo
    status: RequestStatus
    sessions: list[tuple[datetime, datetime]] = field(default_factory=list)
    quantity: int | None = None
    requester: tuple[int, int, str] | None = None  # user id, organisation id, tier
    times: dict[str, datetime] = field(default_factory=dict)


class DataSet:
    """Generates the rows of one data set, deterministically from ``seed``."""

    def __init__(self, size: Size, now: datetime, seed: int, years_past: int, years_future: int):
        self.size = size
        self.now = now
        self.rng = random.Random(seed)
        self.today = now.astimezone(SEOUL).date()
        self.first_day = self.today - timedelta(days=365 * years_past)
        self.last_day = self.today + timedelta(days=365 * years_future)
        self.password_hash = hash_password(PASSWORD)
        self.facility_managers: dict[int, int] = {}
        self.resources: list[ResourceInfo] = []
        self.requesters: list[tuple[int, int, str]] = []
        self.counts: dict[str, int] = {}
        self._days_cache: dict[tuple, list[date]] = {}

    # -- ids ---------------------------------------------------------------------------------

    @staticmethod
    def next_id(model) -> int:
        value = (db.session.scalar(select(sa.func.max(model.id))) or 0) + 1
        db.session.rollback()  # hold no lock: the bulk load alters tables
        return value

    # -- demo references ------------------------------------------------------------------------

    def load_demo_references(self) -> None:
        staff = {user.email: user for user in db.session.scalars(select(User))}
        self.coordinator_id = staff["coordinator@ip-korea.org"].id
        self.biosafety_id = staff["biosafety@ip-korea.org"].id
        for facility in db.session.scalars(select(Facility)):
            if facility.managers:
                self.facility_managers[facility.id] = facility.managers[0].id
        for resource in db.session.scalars(select(Resource).order_by(Resource.id)):
            opening = resource.opening_hours or resource.facility.opening_hours or {}
            info = ResourceInfo(
                id=resource.id,
                code=resource.code,
                facility_id=resource.facility_id,
                kind=resource.kind,
                mode=resource.booking_mode,
                chain=list(resource.approval_chain or []),
                hazardous=resource.is_hazardous,
                unit_minutes=resource.unit_minutes,
                min_minutes=resource.min_duration_minutes,
                max_minutes=resource.max_duration_minutes,
                granularity=resource.slot_granularity_minutes,
                buffer=resource.buffer_minutes,
                opening=opening,
                manager_id=self.facility_managers.get(resource.facility_id),
                rates={str(rate.tier): (rate.unit_price, rate.on_quote) for rate in resource.rates},
                busy=resource.booking_mode == BookingMode.SLOT,
            )
            self.resources.append(info)

    # -- catalogue ------------------------------------------------------------------------------

    def facilities_and_staff(self, writer: Writer) -> None:
        rng = self.rng
        facility_id = self.next_id(Facility)
        user_id = self.next_id(User)
        facilities, managers, links = [], [], []
        self.generated_facilities = []
        for number in range(1, self.size.facilities + 1):
            code = f"F{number:02d}"
            name, name_ko = FACILITY_NAMES[(number - 1) % len(FACILITY_NAMES)]
            if code == SUBMISSION_FACILITY:
                # Open every day, so that submissions always find free time.
                hours = {str(day): ["08:00", "20:00"] for day in range(1, 8)}
            else:
                hours = {str(day): ["09:00", "18:00"] for day in range(1, 6)}
            facilities.append(
                {
                    "id": facility_id,
                    "code": code,
                    "name": f"{name} {number}",
                    "name_ko": f"{name_ko} {number}",
                    "description": f"{name} number {number} of the RRC, open to outside "
                    "researchers after a short introduction by its staff.",
                    "description_ko": f"RRC의 {name_ko} {number}호입니다.",
                    "location": f"Building {chr(64 + (number % 5) + 1)}, floor {number % 4 + 1}",
                    "biosafety_level": 2 if number % 6 == 0 else 1,
                    "timezone": "Asia/Seoul",
                    "opening_hours": hours,
                    "contact_email": f"facility{number:02d}@ip-korea.org",
                    "active": True,
                    "created_at": self.now - timedelta(days=365 * 9 + rng.randint(0, 300)),
                }
            )
            managers.append(
                {
                    "id": user_id,
                    "email": f"fm.{code.lower()}@ip-korea.org",
                    "password_hash": self.password_hash,
                    "name": f"{rng.choice(FAMILY_NAMES)} {rng.choice(GIVEN_NAMES)} ({code})",
                    "kind": UserKind.STAFF,
                    "status": UserStatus.ACTIVE,
                    "is_facility_manager": True,
                    "login_token": secrets.token_urlsafe(24),
                    "created_at": self.now - timedelta(days=365 * 9),
                    "email_verified_at": self.now - timedelta(days=365 * 9),
                    "password_changed_at": self.now - timedelta(days=365),
                }
            )
            links.append({"facility_id": facility_id, "user_id": user_id})
            self.facility_managers[facility_id] = user_id
            self.generated_facilities.append((facility_id, code, hours))
            facility_id += 1
            user_id += 1
        writer.write(Facility.__table__, facilities)
        writer.write(User.__table__, managers)
        writer.write(facility_manager, links)
        self.next_user_id = user_id

    def catalogue(self, writer: Writer) -> None:
        rng = self.rng
        resource_id = self.next_id(Resource)
        rate_id = self.next_id(Rate)
        count = self.size.resources - len(self.resources)
        rows, rates = [], []
        serial: dict[str, int] = {}
        submission_targets = 0
        for index in range(count):
            facility_id, facility_code, hours = self.generated_facilities[
                index % len(self.generated_facilities)
            ]
            target = facility_code == SUBMISSION_FACILITY and (
                submission_targets < SUBMISSION_RESOURCES
            )
            kind = ResourceKind.INSTRUMENT if target else weighted(rng, list(KIND_WEIGHTS.items()))
            mode = (
                BookingMode.QUANTITY
                if kind in (ResourceKind.SERVICE, ResourceKind.MATERIAL)
                else BookingMode.SLOT
            )
            base, base_ko = rng.choice(VOCABULARY[kind])
            prefix = f"{CODE_PREFIX[kind]}-{facility_code}"
            serial[prefix] = serial.get(prefix, 0) + 1
            code = f"{prefix}-{serial[prefix]:04d}"
            model = f"{rng.choice('ABCDEFGHKLMNPRSTX')}{rng.randint(100, 990)}"
            level = 1
            if not target and kind in (ResourceKind.SPACE, ResourceKind.MATERIAL):
                level = weighted(rng, [(1, 80), (2, 16), (3, 4)])
            chain = [ApprovalStepKind.COORDINATOR.value, ApprovalStepKind.FACILITY_MANAGER.value]
            if level >= 2:
                chain.append(ApprovalStepKind.BIOSAFETY.value)
            elif target or rng.random() < 0.15:
                # The submission resources are reviewed by their facility manager alone, so the
                # benchmark's submissions never lengthen the coordinator's measured queue.
                chain = [ApprovalStepKind.FACILITY_MANAGER.value]
            if mode == BookingMode.SLOT:
                hourly = target or rng.random() < 0.8
                unit, unit_ko = ("hour", "시간") if hourly else ("4 h block", "4시간 블록")
                unit_minutes = 60 if unit == "hour" else 240
                min_minutes = 60 if unit_minutes == 60 else 240
                max_minutes = 240 if target else rng.choice([240, 480])
                buffer = 0 if target or rng.random() < 0.8 else rng.choice([15, 30])
                advance = 365 if target else rng.choice([30, 60, 90, 180])
                notice = 24 if target else rng.choice([12, 24, 48, 72])
            else:
                unit, unit_ko = rng.choice(QUANTITY_UNITS)
                unit_minutes, min_minutes, max_minutes, buffer, advance, notice = (
                    None, 30, 480, 0, 90, 24,
                )  # fmt: skip
            documents = []
            if level >= 2:
                documents = ["ibc_approval", "research_plan"]
            elif kind == ResourceKind.MATERIAL:
                documents = ["signed_mta"]
            elif kind == ResourceKind.INSTRUMENT and not target and rng.random() < 0.3:
                documents = ["training_certificate"]
            academic = rng.randint(20, 500) * 1_000
            prices = {
                PriceTier.INTERNAL: (academic // 3 // 100 * 100, False),
                PriceTier.ACADEMIC: (academic, False),
                PriceTier.SME: (academic * 3 // 2, False),
                PriceTier.INDUSTRY: (academic * 3, rng.random() < 0.05),
            }
            for tier, (price, on_quote) in prices.items():
                rates.append(
                    {
                        "id": rate_id,
                        "resource_id": resource_id,
                        "tier": tier,
                        "unit_price": None if on_quote else price,
                        "setup_fee": None,
                        "on_quote": on_quote,
                    }
                )
                rate_id += 1
            name = f"{base} {model}"
            created = self.now - timedelta(days=rng.randint(30, 365 * 9))
            active = target or rng.random() > 0.02
            rows.append(
                {
                    "id": resource_id,
                    "code": code,
                    "facility_id": facility_id,
                    "name": name,
                    "name_ko": f"{base_ko} {model}",
                    "kind": kind,
                    "summary": f"{base} of the RRC, booked by the {unit}.",
                    "summary_ko": f"RRC의 {base_ko}, {unit_ko} 단위로 이용합니다.",
                    "description": (
                        f"The {name} is run by trained RRC staff and open to partners. "
                        f"Typical uses: {rng.choice(PROJECT_WORDS)} and "
                        f"{rng.choice(PROJECT_WORDS)}. Users new to the {base.lower()} get a "
                        "short introduction before their first session; data are copied to "
                        "the partner's storage at the end of each session."
                    ),
                    "description_ko": f"{base_ko} {model}은(는) RRC 전문 인력이 운영합니다.",
                    "biosafety_level": level,
                    "high_risk_pathogen": level >= 3,
                    "booking_mode": mode,
                    "unit_label": unit,
                    "unit_label_ko": unit_ko,
                    "unit_minutes": unit_minutes,
                    "currency": "KRW",
                    "slot_granularity_minutes": 30,
                    "min_duration_minutes": min_minutes,
                    "max_duration_minutes": max_minutes,
                    "min_notice_hours": notice,
                    "max_advance_days": advance,
                    "buffer_minutes": buffer,
                    "opening_hours": None,
                    "cancellation_notice_hours": 24,
                    "lead_time_days": None if mode == BookingMode.SLOT else rng.randint(5, 40),
                    "required_documents": documents,
                    "approval_chain": chain,
                    "active": active,
                    "retired_at": None if active else created + timedelta(days=20),
                    "created_at": created,
                    "updated_at": created,
                    "booking_version": 0,
                }
            )
            self.resources.append(
                ResourceInfo(
                    id=resource_id,
                    code=code,
                    facility_id=facility_id,
                    kind=kind,
                    mode=mode,
                    chain=chain,
                    hazardous=level >= 2,
                    unit_minutes=unit_minutes,
                    min_minutes=min_minutes,
                    max_minutes=max_minutes,
                    granularity=30,
                    buffer=buffer,
                    opening=hours,
                    manager_id=self.facility_managers[facility_id],
                    rates={str(tier): value for tier, value in prices.items()},
                )
            )
            if target:
                submission_targets += 1
            resource_id += 1
        writer.write(Resource.__table__, rows)
        writer.write(Rate.__table__, rates)

    def closures(self, writer: Writer) -> None:
        """A three-day maintenance closure per generated facility and year."""
        rng = self.rng
        closure_id = self.next_id(Closure)
        rows = []
        for facility_id, _code, _hours in self.generated_facilities:
            for year in range(self.first_day.year, self.last_day.year + 1):
                first = date(year, rng.randint(1, 12), rng.randint(1, 28))
                starts = datetime.combine(first, clock(0), tzinfo=SEOUL).astimezone(UTC)
                rows.append(
                    {
                        "id": closure_id,
                        "facility_id": facility_id,
                        "resource_id": None,
                        "starts_at": starts,
                        "ends_at": starts + timedelta(days=3),
                        "reason": "Annual maintenance and calibration",
                        "created_by_id": self.facility_managers[facility_id],
                        "created_at": starts - timedelta(days=30),
                    }
                )
                closure_id += 1
        writer.write(Closure.__table__, rows)

    # -- people -----------------------------------------------------------------------------

    def organisations_and_partners(self, writer: Writer) -> None:
        rng = self.rng
        organisation_id = self.next_id(Organisation)
        organisations = []
        for number in range(self.size.organisations):
            org_type = weighted(rng, list(ORGANISATION_TYPE_WEIGHTS.items()))
            foreign = org_type in (
                OrganisationType.FOREIGN_ACADEMIC,
                OrganisationType.FOREIGN_INDUSTRY,
            )
            status = weighted(
                rng,
                [
                    (OrganisationStatus.VERIFIED, 94),
                    (OrganisationStatus.PENDING, 3),
                    (OrganisationStatus.REJECTED, 2),
                    (OrganisationStatus.SUSPENDED, 1),
                ],
            )
            created = self.now - timedelta(days=rng.randint(1, 365 * 9))
            place = rng.choice(PLACES)
            organisations.append(
                {
                    "id": organisation_id + number,
                    "name": f"{place} {ORGANISATION_WORDS[org_type]} {number + 1}",
                    "local_name": None if foreign else f"{place} 기관 {number + 1}",
                    "org_type": org_type,
                    "country": rng.choice(FOREIGN_COUNTRIES) if foreign else "KR",
                    "business_registration_no": (
                        f"{rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10000, 99999)}"
                        if org_type
                        in (
                            OrganisationType.STARTUP,
                            OrganisationType.SME,
                            OrganisationType.LARGE_COMPANY,
                        )
                        else None
                    ),
                    "billing_email": f"billing@org{number + 1}.example.org",
                    "address": f"{rng.randint(1, 400)} {place}-ro, {place}",
                    "status": status,
                    "created_at": created,
                    "decided_at": None if status == OrganisationStatus.PENDING else created,
                    "decided_by_id": None
                    if status == OrganisationStatus.PENDING
                    else self.coordinator_id,
                    "rejection_reason": "Not a research organisation."
                    if status == OrganisationStatus.REJECTED
                    else None,
                }
            )
        writer.write(Organisation.__table__, organisations)

        user_id = self.next_user_id
        consent_id = self.next_id(ConsentRecord)
        partners, consents = [], []
        # Every organisation has a first member (its manager); the rest join skewed toward big
        # organisations.
        weights = [1 / (rank + 1) ** 0.6 for rank in range(len(organisations))]
        members = list(range(len(organisations)))
        members += rng.choices(
            range(len(organisations)), weights, k=self.size.partners - len(members)
        )
        seen: set[int] = set()
        for number, org_index in enumerate(members):
            organisation = organisations[org_index]
            manager = org_index not in seen
            seen.add(org_index)
            org_status = organisation["status"]
            if org_status == OrganisationStatus.VERIFIED:
                status = weighted(
                    rng,
                    [
                        (UserStatus.ACTIVE, 93),
                        (UserStatus.PENDING_APPROVAL, 2),
                        (UserStatus.UNVERIFIED, 3),
                        (UserStatus.SUSPENDED, 1),
                        (UserStatus.REJECTED, 1),
                    ],
                )
            elif org_status == OrganisationStatus.PENDING:
                status = UserStatus.PENDING_APPROVAL
            elif org_status == OrganisationStatus.REJECTED:
                status = UserStatus.REJECTED
            else:
                status = UserStatus.SUSPENDED
            created = max(
                organisation["created_at"], self.now - timedelta(days=rng.randint(1, 365 * 9))
            )
            korean = organisation["country"] == "KR"
            partner_id = user_id + number
            partners.append(
                {
                    "id": partner_id,
                    "email": f"partner{number + 1}@org{org_index + 1}.example.org",
                    "password_hash": self.password_hash,
                    "name": f"{rng.choice(FAMILY_NAMES)} {rng.choice(GIVEN_NAMES)}",
                    "phone": f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                    "position": rng.choice(["Professor", "Postdoc", "PhD student", "Scientist"]),
                    "kind": UserKind.PARTNER,
                    "organisation_id": organisation["id"],
                    "status": status,
                    "is_org_manager": manager,
                    "locale": "ko" if korean and rng.random() < 0.6 else "en",
                    "timezone": "Asia/Seoul" if korean else "Europe/Paris",
                    "login_token": secrets.token_urlsafe(24),
                    "created_at": created,
                    "email_verified_at": None if status == UserStatus.UNVERIFIED else created,
                    "decided_at": created
                    if status in (UserStatus.ACTIVE, UserStatus.REJECTED, UserStatus.SUSPENDED)
                    else None,
                    "decided_by_id": self.coordinator_id
                    if status in (UserStatus.ACTIVE, UserStatus.REJECTED, UserStatus.SUSPENDED)
                    else None,
                    "password_changed_at": created,
                }
            )
            for item, granted in (("required", True), ("optional", rng.random() < 0.4)):
                consents.append(
                    {
                        "id": consent_id,
                        "user_id": partner_id,
                        "item": item,
                        "text_version": "2026-11",
                        "granted": granted,
                        "recorded_at": created,
                    }
                )
                consent_id += 1
            if status == UserStatus.ACTIVE and org_status == OrganisationStatus.VERIFIED:
                tier = TIER_BY_ORGANISATION_TYPE[organisation["org_type"]]
                self.requesters.append((partner_id, organisation["id"], str(tier)))
        writer.write(User.__table__, partners)
        writer.write(ConsentRecord.__table__, consents)

    # -- bookings and requests ----------------------------------------------------------------

    def _open_days(self, opening: dict) -> list[date]:
        key = tuple(sorted(opening))
        if key not in self._days_cache:
            days = []
            day = self.first_day
            while day <= self.last_day:
                if str(day.isoweekday()) in opening:
                    days.append(day)
                day += timedelta(days=1)
            self._days_cache[key] = days
        return self._days_cache[key]

    @staticmethod
    def _grid(info: ResourceInfo) -> tuple[int, int, int, list[int]]:
        """Opening minute, cell length, cells per day and session lengths of ``info``.

        Sessions sit in disjoint cells (each session plus the buffer fits in its cell), so
        active bookings never overlap, buffers included.
        """
        hours = next(iter(info.opening.values()))
        opens = int(hours[0][:2]) * 60 + int(hours[0][3:])
        closes = int(hours[1][:2]) * 60 + int(hours[1][3:])
        step = info.granularity or 30
        shortest = max(info.min_minutes, step)
        cell = max(shortest, min(120, info.max_minutes)) + info.buffer
        cell = -(-cell // step) * step
        lengths = list(range(shortest, min(cell - info.buffer, info.max_minutes) + 1, step))
        return opens, cell, (closes - opens) // cell, lengths or [shortest]

    def plan_bookings(self) -> None:
        """How many bookings each slot resource gets: the busy ones a share of their grid."""
        slot = [info for info in self.resources if info.mode == BookingMode.SLOT]
        remaining = self.size.bookings
        for info in slot:
            if info.busy:
                _opens, _cell, per_day, _lengths = self._grid(info)
                universe = len(self._open_days(info.opening)) * per_day
                info.bookings = int(universe * self.size.busy_fill)
                remaining -= info.bookings
        others = [info for info in slot if not info.busy]
        for position, info in enumerate(others):
            _opens, _cell, per_day, _lengths = self._grid(info)
            universe = len(self._open_days(info.opening)) * per_day
            share = remaining // (len(others) - position)
            wanted = (
                share if position == len(others) - 1 else int(share * self.rng.uniform(0.7, 1.3))
            )
            info.bookings = min(wanted, int(universe * 0.9))
            remaining -= info.bookings
        if remaining:
            raise SystemExit(f"the grid cannot hold {remaining} more bookings")

    def _sessions(self, info: ResourceInfo) -> list[tuple[datetime, datetime]]:
        opens, cell, per_day, lengths = self._grid(info)
        days = self._open_days(info.opening)
        picked = sorted(self.rng.sample(range(len(days) * per_day), info.bookings))
        sessions = []
        offset = timedelta(hours=9)  # Seoul has no daylight-saving time
        for position in picked:
            day_index, cell_index = divmod(position, per_day)
            minutes = opens + cell_index * cell
            start = datetime.combine(days[day_index], clock(minutes // 60, minutes % 60)) - offset
            start = start.replace(tzinfo=UTC)
            sessions.append((start, start + timedelta(minutes=self.rng.choice(lengths))))
        return sessions

    def plan_requests(self) -> list[PlannedRequest]:
        rng = self.rng
        now = self.now
        planned: list[PlannedRequest] = []
        for info in self.resources:
            if info.mode != BookingMode.SLOT or not info.bookings:
                continue
            sessions = self._sessions(info)
            position = 0
            while position < len(sessions):
                take = rng.randint(1, 15)
                chunk = sessions[position : position + take]
                position += take
                first, last = chunk[0][0], chunk[-1][1]
                if first > now:
                    status = weighted(rng, FUTURE_MIX)
                elif last < now - timedelta(days=30):
                    status = weighted(rng, PAST_MIX)
                else:
                    status = weighted(rng, CURRENT_MIX)
                if not info.chain and status in UNDECIDED:
                    status = RequestStatus.APPROVED  # nothing to decide: approved at submission
                created = min(
                    first - timedelta(days=rng.uniform(2, 45)),
                    now - timedelta(hours=rng.uniform(2, 240)),
                )
                planned.append(PlannedRequest(created, info, status, chunk))
        slot_requests = len(planned)
        remaining = self.size.requests - slot_requests
        if remaining < 0:
            raise SystemExit("more slot requests than requests: raise the request count")
        drafts = min(remaining, int(self.size.requests * DRAFT_SHARE))
        span = (now - datetime.combine(self.first_day, clock(0), tzinfo=UTC)).total_seconds()
        for number in range(remaining):
            info = rng.choice(self.resources)
            created = now - timedelta(seconds=rng.uniform(3600, span))
            if number < drafts:
                status = RequestStatus.DRAFT
            elif created > now - timedelta(days=60):
                status = weighted(rng, RECENT_QUANTITY_MIX)
            else:
                status = weighted(rng, PAST_MIX)
            if info.mode == BookingMode.SLOT and status != RequestStatus.DRAFT:
                # Slot resources are requested with sessions; without them only as drafts.
                info = rng.choice(self.quantity_resources)
            if not info.chain and status in UNDECIDED:
                status = RequestStatus.APPROVED
            quantity = rng.randint(1, 24) if info.mode == BookingMode.QUANTITY else None
            planned.append(PlannedRequest(created, info, status, [], quantity))
        planned.sort(key=lambda item: item.created_at)
        for item in planned:
            item.requester = rng.choice(self.requesters)
        self.counts["slot requests"] = slot_requests
        return planned

    @property
    def quantity_resources(self) -> list[ResourceInfo]:
        if not hasattr(self, "_quantity"):
            self._quantity = [info for info in self.resources if info.mode == BookingMode.QUANTITY]
        return self._quantity

    def requests_and_bookings(self, writer: Writer) -> None:
        planned = self.plan_requests()
        first_ids = {
            "request": self.next_id(ResourceRequest),
            "step": self.next_id(ApprovalStep),
            "event": self.next_id(RequestEvent),
            "comment": self.next_id(Comment),
            "booking": self.next_id(Booking),
        }
        numbers: dict[int, int] = {}
        stories = []
        for offset, item in enumerate(planned):
            year = item.created_at.year
            numbers[year] = numbers.get(year, 0) + 1
            stories.append((first_ids["request"] + offset, f"RRC-{year}-{numbers[year]:05d}", item))

        writer.write(
            ResourceRequest.__table__,
            (
                self._request_row(request_id, reference, item)
                for request_id, reference, item in stories
            ),
        )
        steps: list[dict] = []
        events: list[dict] = []
        comments: list[dict] = []
        ids = dict(first_ids)
        for request_id, _reference, item in stories:
            self._story(request_id, item, ids, steps, events, comments)
        writer.write(ApprovalStep.__table__, steps)
        del steps
        writer.write(
            RequestEvent.__table__,
            (dict(zip(EVENT_COLUMNS, values, strict=True)) for values in events),
        )
        del events
        writer.write(Comment.__table__, comments)
        writer.write(Booking.__table__, self._booking_rows(stories, first_ids["booking"]))
        writer.write(
            RequestCounter.__table__,
            ({"year": year, "last_number": last} for year, last in sorted(numbers.items())),
        )

    # Times of a request's life, kept in order and never after now.
    def _times(self, item: PlannedRequest) -> dict[str, datetime]:
        rng, now = self.rng, self.now
        created = item.created_at
        submitted = min(created + timedelta(hours=rng.uniform(0.2, 30)), now)
        decided = min(submitted + timedelta(hours=rng.uniform(4, 120)), now)
        if item.sessions:
            finished = min(item.sessions[-1][1] + timedelta(hours=rng.uniform(1, 72)), now)
        else:
            finished = min(decided + timedelta(days=rng.uniform(3, 40)), now)
        started = min(decided + timedelta(hours=rng.uniform(1, 48)), finished)
        return {
            "created": created,
            "submitted": submitted,
            "decided": decided,
            "started": started,
            "finished": max(finished, started),
        }

    def _estimate(self, item: PlannedRequest) -> dict | None:
        info = item.resource
        tier = item.requester[2]
        price, on_quote = info.rates.get(tier, (None, True))
        if item.sessions:
            quantity = sum(
                units_for_duration_minutes(info, int((end - start).total_seconds() // 60))
                for start, end in item.sessions
            )
        else:
            quantity = item.quantity or 1
        if on_quote or price is None:
            return {
                "tier": tier, "currency": "KRW", "on_quote": True, "quantity": quantity,
                "lines": [], "total": None,
            }  # fmt: skip
        return {
            "tier": tier,
            "currency": "KRW",
            "on_quote": False,
            "quantity": quantity,
            "lines": [
                {
                    "label": "units",
                    "unit_price": price,
                    "quantity": quantity,
                    "total": price * quantity,
                }
            ],
            "total": price * quantity,
        }

    def _request_row(self, request_id: int, reference: str, item: PlannedRequest) -> dict:
        rng = self.rng
        info = item.resource
        user_id, organisation_id, _tier = item.requester
        times = self._times(item)
        item.times = times  # used again for the story
        draft = item.status == RequestStatus.DRAFT
        project = rng.choice(PROJECT_WORDS)
        row = {
            "id": request_id,
            "reference": reference,
            "requester_id": user_id,
            "organisation_id": organisation_id,
            "resource_id": info.id,
            "status": item.status,
            "title": ""
            if draft and rng.random() < 0.3
            else f"{project.capitalize()} ({info.code})",
            "purpose": f"We need the {info.kind.value} for our {project} project.",
            "principal_investigator": f"Prof. {rng.choice(FAMILY_NAMES)}",
            "payer": f"Organisation {organisation_id}",
            "billing_contact": f"{rng.choice(FAMILY_NAMES)} {rng.choice(GIVEN_NAMES)}",
            "billing_email": f"billing{organisation_id}@example.org",
            "proprietary": rng.random() < 0.2,
            "terms_version": None if draft else "2026-11",
            "terms_accepted_at": None if draft else times["submitted"],
            "quantity": item.quantity,
            "requested_minutes": sum(int((e - s).total_seconds() // 60) for s, e in item.sessions)
            or None,
            "requested_slots": [
                {"start": start.isoformat(), "end": end.isoformat()} for start, end in item.sessions
            ],
            "usage_mode": "self_use" if info.mode == BookingMode.SLOT else None,
            "agent_name": "Inactivated SARS-CoV-2 (BetaCoV/Korea)" if info.hazardous else "",
            "risk_group": 3 if info.hazardous else None,
            "estimate_snapshot": None if draft else self._estimate(item),
            "created_at": times["created"],
            "submitted_at": None if draft else times["submitted"],
            "updated_at": times["created"],
        }
        status = item.status
        if status in (RequestStatus.APPROVED, RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
            row["decided_at"] = times["decided"]
            row["updated_at"] = times["decided"]
        if status == RequestStatus.IN_PROGRESS:
            row["updated_at"] = times["started"]
        if status == RequestStatus.COMPLETED:
            row["closed_at"] = row["updated_at"] = times["finished"]
        if status == RequestStatus.REJECTED:
            row["decided_at"] = row["closed_at"] = row["updated_at"] = times["decided"]
        if status == RequestStatus.CANCELLED:
            row["closed_at"] = row["updated_at"] = times["decided"]
            row["cancel_reason"] = "The project was postponed."
        if status in (RequestStatus.IN_REVIEW, RequestStatus.CHANGES_REQUESTED):
            row["updated_at"] = times["decided"]
        return row

    def _story(self, request_id, item, ids, steps, events, comments) -> None:
        """The approval steps, timeline events and comments of one request."""
        rng = self.rng
        times = item.times
        status = item.status
        requester = item.requester[0]
        info = item.resource

        def event(at, kind, actor, from_status=None, to_status=None, step_kind=None, detail=""):
            events.append(
                (
                    ids["event"],
                    request_id,
                    at,
                    actor,
                    kind,
                    from_status,
                    to_status,
                    step_kind,
                    detail,
                )
            )
            ids["event"] += 1

        event(times["created"], "created", requester, to_status="draft")
        if status == RequestStatus.DRAFT:
            return
        chain = info.chain or []
        event(times["submitted"], "submitted", requester, "draft", "in_review")
        if status in (
            RequestStatus.IN_REVIEW,
            RequestStatus.CHANGES_REQUESTED,
            RequestStatus.REJECTED,
        ):
            stop = rng.randrange(len(chain)) if chain else 0
        elif status == RequestStatus.CANCELLED:
            stop = rng.randrange(len(chain) + 1) if chain else 0
        else:
            stop = len(chain)
        span = times["decided"] - times["submitted"]
        deciders = {
            "coordinator": self.coordinator_id,
            "facility_manager": info.manager_id or self.coordinator_id,
            "biosafety": self.biosafety_id,
        }
        for position, kind in enumerate(chain, start=1):
            at = times["submitted"] + span * position / (len(chain) + 1)
            row = {
                "id": ids["step"],
                "request_id": request_id,
                "position": position,
                "kind": kind,
                "state": StepState.WAITING,
            }
            ids["step"] += 1
            if position <= stop:
                row.update(
                    state=StepState.APPROVED,
                    pending_since=at - span / (len(chain) + 1),
                    decided_by_id=deciders[kind],
                    decided_at=at,
                )
                last = position == len(chain)
                to_status = "approved" if last else "in_review"
                event(at, "step_approved", deciders[kind], "in_review", to_status, kind)
            elif position == stop + 1 and status == RequestStatus.IN_REVIEW:
                row.update(state=StepState.PENDING, pending_since=at - span / (len(chain) + 1))
            elif position == stop + 1 and status == RequestStatus.CHANGES_REQUESTED:
                row.update(
                    state=StepState.CHANGES_REQUESTED,
                    decided_by_id=deciders[kind],
                    decided_at=at,
                    comment="Please give the IBC approval number.",
                )
                event(at, "changes_requested", deciders[kind], "in_review", "changes_requested",
                      kind, "Please give the IBC approval number.")  # fmt: skip
            elif position == stop + 1 and status == RequestStatus.REJECTED:
                row.update(
                    state=StepState.REJECTED,
                    decided_by_id=deciders[kind],
                    decided_at=at,
                    comment="The facility cannot support this protocol.",
                )
                event(at, "rejected", deciders[kind], "in_review", "rejected", kind,
                      "The facility cannot support this protocol.")  # fmt: skip
            elif status in (RequestStatus.REJECTED, RequestStatus.CANCELLED):
                row["state"] = StepState.SKIPPED
            steps.append(row)
        if not chain and status != RequestStatus.CANCELLED:
            event(times["submitted"], "approved", None, "approved", "approved",
                  detail="no approval needed")  # fmt: skip
        if status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
            event(times["started"], "started", info.manager_id, "approved", "in_progress")
        if status == RequestStatus.COMPLETED:
            event(times["finished"], "completed", info.manager_id, "in_progress", "completed")
        if status == RequestStatus.CANCELLED:
            before = "approved" if stop == len(chain) else "in_review"
            event(times["decided"], "cancelled", requester, before, "cancelled",
                  detail="The project was postponed.")  # fmt: skip
        if rng.random() < 0.05:
            at = times["submitted"] + span / 2
            comments.append(
                {
                    "id": ids["comment"],
                    "request_id": request_id,
                    "author_id": requester,
                    "body": "Could we start half an hour earlier on the first day?",
                    "internal": False,
                    "created_at": at,
                }
            )
            ids["comment"] += 1
            event(at, "commented", requester, detail="Could we start half an hour earlier?")

    def _booking_rows(self, stories, first_id: int) -> Iterator[dict]:
        rng = self.rng
        booking_id = first_id
        for request_id, _reference, item in stories:
            if not item.sessions:
                continue
            status = item.status
            created = item.times["submitted"]
            for start, end in item.sessions:
                if status == RequestStatus.COMPLETED:
                    state = (
                        BookingStatus.NO_SHOW if rng.random() < 0.05 else BookingStatus.COMPLETED
                    )
                elif status == RequestStatus.IN_PROGRESS:
                    state = BookingStatus.COMPLETED if end < self.now else BookingStatus.CONFIRMED
                elif status == RequestStatus.APPROVED:
                    state = BookingStatus.CONFIRMED
                elif status in (RequestStatus.IN_REVIEW, RequestStatus.CHANGES_REQUESTED):
                    state = BookingStatus.HELD
                elif status == RequestStatus.CANCELLED:
                    state = BookingStatus.CANCELLED
                else:
                    state = BookingStatus.RELEASED
                yield {
                    "id": booking_id,
                    "resource_id": item.resource.id,
                    "request_id": request_id,
                    "starts_at": start,
                    "ends_at": end,
                    "status": state,
                    "sequence": 0 if state == BookingStatus.HELD else 1,
                    "late_cancellation": state == BookingStatus.CANCELLED and rng.random() < 0.1,
                    "reminded_at": start - timedelta(hours=24)
                    if state in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
                    else None,
                    "created_at": created,
                    "updated_at": created,
                }
                booking_id += 1
            self.counts["bookings"] = booking_id - first_id


def units_for_duration_minutes(info: ResourceInfo, minutes: int) -> int:
    """Priced units of a session: a started unit counts whole (as ``pricing`` computes it)."""
    return math.ceil(minutes / (info.unit_minutes or 60))


# --- the database ------------------------------------------------------------------------------


def prepare_database(database_url: str) -> None:
    """Start from nothing: a new or emptied PostgreSQL database, or no SQLite file."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            candidate = path.with_name(path.name + suffix)
            if candidate.exists():
                candidate.unlink()
        return
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        ).scalar()
        if exists:
            connection.execute(text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def finish(engine: Engine) -> None:
    """Sequences after the explicit ids; statistics as autovacuum would gather them."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in db.metadata.sorted_tables:
                if "id" in table.columns and table.columns["id"].primary_key:
                    # Table names come from our own metadata.
                    last = f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1'  # noqa: S608
                    sequence = f"pg_get_serial_sequence('\"{table.name}\"', 'id')"
                    connection.execute(text(f"SELECT setval({sequence}, {last}, false)"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def check_schema(engine: Engine) -> None:
    """The loaded database still has exactly the migrated schema (as tests/test_migrations.py
    checks it), and on PostgreSQL the exclusion constraint against double booking."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
        if differences:
            raise SystemExit(f"the schema differs from the models after loading: {differences}")
        if engine.dialect.name == "postgresql":
            present = connection.execute(
                text("SELECT 1 FROM pg_constraint WHERE conname = :name"),
                {"name": EXCLUSION_CONSTRAINT},
            ).scalar()
            if not present:
                raise SystemExit(f"{EXCLUSION_CONSTRAINT} is missing after loading")


def seed(size_name: str, database_url: str, seed_value: int, years_past: int, years_future: int):
    refuse_shared_database(database_url)
    size = SIZES[size_name]
    started = time.perf_counter()
    prepare_database(database_url)
    app = create_app(bench_config(database_url))
    instance_path(database_url).mkdir(parents=True, exist_ok=True)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        load_demo()
        db.session.commit()
        schema_done = time.perf_counter()
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        data = DataSet(size, now, seed_value, years_past, years_future)
        data.load_demo_references()
        writer = Writer(db.engine)
        data.facilities_and_staff(writer)
        data.catalogue(writer)
        data.closures(writer)
        data.organisations_and_partners(writer)
        data.plan_bookings()
        data.requests_and_bookings(writer)
        db.session.remove()
        loaded = time.perf_counter()
        finish(db.engine)
        total = time.perf_counter() - started
        print(f"Seeded {size_name} set into {database_name_for_print(database_url)}")
        print(f"  schema (alembic upgrade) and demo data: {schema_done - started:6.1f} s")
        for table, count, seconds in writer.timings:
            print(f"  {table:<18} {count:>10,} rows {seconds:6.1f} s")
        print(f"  bulk load total:                         {loaded - schema_done:6.1f} s")
        finishing = time.perf_counter() - loaded
        check_schema(db.engine)
        print(f"  finishing (sequences, VACUUM ANALYZE or WAL checkpoint): {finishing:5.1f} s")
        usage = getrusage(RUSAGE_SELF)
        print(
            f"  SEEDING TIME: {total:.1f} s wall clock "
            f"({usage.ru_utime + usage.ru_stime:.0f} s CPU in this process)"
        )
        print("  schema check: as migrated (models match, exclusion constraint on PostgreSQL)")
        print(f"  DATABASE SIZE: {megabytes(database_size(db.engine))}")
        print(f"  busy resource {BUSY_RESOURCE}: {busy_count(data)} bookings")
        db.engine.dispose()


def busy_count(data: DataSet) -> int:
    return next((info.bookings for info in data.resources if info.code == BUSY_RESOURCE), 0)


def database_name_for_print(database_url: str) -> str:
    return make_url(normalise_database_url(database_url)).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--database-url", required=True, help="must name a 'bench' database")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--years-past", type=int, default=9)
    parser.add_argument("--years-future", type=int, default=1)
    args = parser.parse_args(argv)
    seed(args.size, args.database_url, args.seed, args.years_past, args.years_future)


if __name__ == "__main__":
    main()
