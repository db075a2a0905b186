"""Demo catalogue: IPK's facilities and the 18 resources of DOMAIN.md, with rates, rules, photos.

Idempotent: facilities and resources are created only when their code is new, a photo is drawn
only for a resource without one, and the demo closure is added once. Demo data only.
"""

import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from rrc.catalogue.photos import photo_file, store_photo
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
    ResourceKind,
    User,
)
from rrc.models.types import utcnow

COORDINATOR = ApprovalStepKind.COORDINATOR
FACILITY_MANAGER = ApprovalStepKind.FACILITY_MANAGER
BIOSAFETY = ApprovalStepKind.BIOSAFETY

# Ordinary work: intake, then technical review. Hazardous work (BSL-3, high-risk pathogens, human
# specimens, animal work, GMO) adds the biosafety officer at the end.
ORDINARY_CHAIN = (COORDINATOR, FACILITY_MANAGER)
HAZARDOUS_CHAIN = (COORDINATOR, FACILITY_MANAGER, BIOSAFETY)

SEOUL = "Asia/Seoul"
WEEKDAYS_9_TO_18 = {str(day): ["09:00", "18:00"] for day in range(1, 6)}
WEEKDAYS_9_TO_17 = {str(day): ["09:00", "17:00"] for day in range(1, 6)}

BSL3_MANAGER = "fm.bsl3@ip-korea.org"
SCREENING_MANAGER = "fm.screening@ip-korea.org"

CLOSURE_FACILITY = "BSL3"
CLOSURE_REASON = "Annual decontamination and certification"
CLOSURE_STARTS_IN_DAYS = 14
CLOSURE_DAYS = 3


@dataclass(frozen=True)
class FacilitySpec:
    """One demo facility."""

    code: str
    name: str
    name_ko: str
    description: str
    description_ko: str
    location: str
    biosafety_level: int
    opening_hours: dict
    contact_email: str
    managers: tuple[str, ...]
    colour: str  # background of its resources' illustrations


@dataclass(frozen=True)
class SlotRules:
    """Booking rules of a slot resource."""

    granularity: int = 30
    min_minutes: int = 60
    max_minutes: int = 480
    min_notice_hours: int = 24
    max_advance_days: int = 60
    buffer_minutes: int = 0
    cancellation_notice_hours: int = 24


@dataclass(frozen=True)
class ResourceSpec:
    """One demo resource. ``prices`` are academic, SME, industry (None: on quote)."""

    code: str
    facility: str
    kind: ResourceKind
    mode: BookingMode
    name: str
    name_ko: str
    summary: str
    summary_ko: str
    description: str
    description_ko: str
    unit_label: str
    unit_label_ko: str
    prices: tuple[int | None, int | None, int | None]
    chain: tuple[ApprovalStepKind, ...]
    biosafety_level: int = 1
    high_risk_pathogen: bool = False
    human_specimen: bool = False
    animal_work: bool = False
    gmo: bool = False
    unit_minutes: int | None = None
    rules: SlotRules | None = None
    setup_fee: int | None = None
    lead_time_days: int | None = None
    availability_note: str | None = None
    training_requirement: str | None = None
    documents: tuple[DocumentType, ...] = ()
    pictogram: str | None = None  # defaults to the kind's pictogram


FACILITIES = [
    FacilitySpec(
        code="BSL3",
        name="BSL-3 Laboratory and Animal BSL-3 Suite",
        name_ko="생물안전 3등급 연구시설 및 동물실험시설 (BL3·ABL3)",
        description=(
            "About 330 m² of containment laboratory certified by the Korea Disease Control and "
            "Prevention Agency: 12 class II biosafety cabinets, Opera and Operetta high-content "
            "imagers inside containment, and animal BSL-3 housing in IsoCage racks. Outside "
            "researchers work here as in an open lab, escorted by IPK staff, after a pre-review "
            "and approval of their project."
        ),
        description_ko=(
            "질병관리청 인증을 받은 약 330 m² 규모의 밀폐 연구시설로, 2등급 생물안전작업대 12대, "
            "밀폐구역 내부의 Opera·Operetta 고함량 이미징 장비, IsoCage 랙을 갖춘 동물 생물안전 "
            "3등급 사육 시설을 운영합니다. 외부 연구자는 과제 사전 검토와 승인을 거쳐 IPK 직원의 "
            "동행 하에 오픈랩 형태로 이용합니다."
        ),
        location="IPK, Pangyo — B2 BSL-3 wing",
        biosafety_level=3,
        opening_hours=WEEKDAYS_9_TO_17,
        contact_email="bsl3@ip-korea.org",
        managers=(BSL3_MANAGER,),
        colour="#8c2f39",
    ),
    FacilitySpec(
        code="SCREENING",
        name="Screening Platform",
        name_ko="스크리닝 플랫폼",
        description=(
            "Automated image-based and cell-based phenotypic screening in 384-well format: "
            "liquid handlers, plate hotels and incubators linked to high-content readers, with "
            "data analysis by the platform's scientists. The team runs screening campaigns for "
            "partners and develops and miniaturises their assays."
        ),
        description_ko=(
            "384웰 포맷의 이미지 기반·세포 기반 표현형 스크리닝을 자동화 설비로 수행합니다. 분주 "
            "로봇, 플레이트 호텔과 배양기가 고함량 판독 장비와 연결되어 있으며, 플랫폼 연구진이 "
            "데이터 분석까지 지원합니다. 파트너를 위해 스크리닝 캠페인을 수행하고 분석법을 "
            "개발·소형화합니다."
        ),
        location="IPK, Pangyo — 3F screening hall",
        biosafety_level=2,
        opening_hours=WEEKDAYS_9_TO_18,
        contact_email="screening@ip-korea.org",
        managers=(SCREENING_MANAGER,),
        colour="#1f6f78",
    ),
    FacilitySpec(
        code="IMAGING",
        name="Imaging and Flow Cytometry Core",
        name_ko="이미징·유세포분석 공용장비실",
        description=(
            "Self-use instruments in a BSL-2 laboratory: an Operetta high-content imager, a flow "
            "cytometer and a real-time PCR system. Trained users book time on the calendar; the "
            "platform staff give the instrument training and help with set-up."
        ),
        description_ko=(
            "BSL-2 실험실에 설치된 직접 이용 장비(Operetta 고함량 이미징 장비, 유세포 분석기, "
            "실시간 PCR 장비)를 제공합니다. 교육을 이수한 이용자는 달력에서 시간을 예약하며, "
            "플랫폼 직원이 장비 교육과 실험 설정을 지원합니다."
        ),
        location="IPK, Pangyo — 2F BSL-2 instrument room",
        biosafety_level=2,
        opening_hours=WEEKDAYS_9_TO_18,
        contact_email="imaging@ip-korea.org",
        managers=(SCREENING_MANAGER,),
        colour="#3b4a8c",
    ),
    FacilitySpec(
        code="COMPOUNDS",
        name="Compound Library",
        name_ko="화합물 라이브러리",
        description=(
            "A diversity collection of about 100,000 drug-like small molecules, kept as 10 mM DMSO "
            "solutions in 384-well plates in an automated, humidity-controlled compound store. "
            "Plate copies and cherry-picks are prepared by the compound-management team under a "
            "material transfer agreement."
        ),
        description_ko=(
            "약 10만 종의 약물유사 저분자 화합물로 구성된 다양성 라이브러리로, 384웰 플레이트에 "
            "10 mM DMSO 용액으로 담아 자동화된 항습 화합물 저장고에 보관합니다. 플레이트 복제본과 "
            "개별 화합물은 물질이전계약(MTA)에 따라 화합물 관리팀이 준비합니다."
        ),
        location="IPK, Pangyo — 3F compound room",
        biosafety_level=1,
        opening_hours=WEEKDAYS_9_TO_18,
        contact_email="compounds@ip-korea.org",
        managers=(SCREENING_MANAGER,),
        colour="#8a5a14",
    ),
    FacilitySpec(
        code="BIOBANK",
        name="Global Infectious Disease Specimen Bank",
        name_ko="글로벌 감염병 검체은행",
        description=(
            "A licensed bank of pathogen resources and human specimens: in 2024 it offered 133 "
            "pathogen resources from 17 species, MPOX among them, and 21 types of human specimen, "
            "as well as inactivated antigens for users without containment laboratories and "
            "authenticated cell stocks. Distribution follows the Korean rules on high-risk "
            "pathogens and human material: the recipient's permits, approvals and material "
            "transfer agreement are checked before anything ships."
        ),
        description_ko=(
            "병원체 자원과 인체유래물을 분양하는 허가 은행입니다. 2024년 기준 MPOX를 포함한 17종 "
            "133건의 병원체 자원과 21종의 인체유래물을 제공하며, 밀폐 실험실이 없는 이용자를 위한 "
            "불활화 항원과 검증된 세포주도 분양합니다. 분양은 고위험병원체와 인체유래물에 관한 "
            "국내 규정을 따르며, 발송 전에 수령 기관의 허가·승인 서류와 물질이전계약을 확인합니다."
        ),
        location="IPK, Pangyo — B1 biobank",
        biosafety_level=3,
        opening_hours=WEEKDAYS_9_TO_18,
        contact_email="biobank@ip-korea.org",
        managers=(BSL3_MANAGER,),
        colour="#2f6b3a",
    ),
    FacilitySpec(
        code="TRAINING",
        name="Training and Scientific Consultation",
        name_ko="교육 및 과학 자문",
        description=(
            "Biosafety training for partners, and meetings with IPK scientists to plan a project "
            "before any request: feasibility, assay choice, timelines and costs. The RRC "
            "coordinators organise both."
        ),
        description_ko=(
            "파트너를 위한 생물안전 교육과, 요청 전에 IPK 연구진과 과제를 설계하는 자문 회의"
            "(타당성, 분석법 선택, 일정과 비용)를 제공합니다. 두 가지 모두 RRC 코디네이터가 "
            "운영합니다."
        ),
        location="IPK, Pangyo — 1F seminar rooms and B2 BSL-3 training area",
        biosafety_level=2,
        opening_hours=WEEKDAYS_9_TO_18,
        contact_email="rrc@ip-korea.org",
        # Run by the coordinators: no facility manager, and no facility-manager step in its chains.
        managers=(),
        colour="#4a5566",
    ),
]

HOURLY_SELF_USE = SlotRules(granularity=30, min_minutes=60, max_minutes=480)
BSL3_DOCUMENTS = (
    DocumentType.BL3_PERMIT,
    DocumentType.TRANSFER_NOTICE,
    DocumentType.SIGNED_MTA,
    DocumentType.IBC_APPROVAL,
    DocumentType.FACILITY_LIST,
    DocumentType.RESEARCH_PLAN,
)

RESOURCES = [
    ResourceSpec(
        code="FAC-BSL3-01",
        facility="BSL3",
        kind=ResourceKind.SPACE,
        mode=BookingMode.SLOT,
        name="BSL-3 Suite A, biosafety cabinet workstation (escorted)",
        name_ko="BSL-3 A실 생물안전작업대 작업공간 (직원 동행)",
        summary=(
            "A class II biosafety cabinet in a certified BSL-3 suite, booked in 4-hour blocks "
            "with an IPK escort."
        ),
        summary_ko=(
            "인증된 BSL-3 실험실의 2등급 생물안전작업대를 IPK 직원 동행 하에 4시간 단위로 "
            "이용합니다."
        ),
        description=(
            "One workstation of BSL-3 Suite A: a class II biosafety cabinet, with the suite's CO2 "
            "incubator, centrifuge with sealed rotors and inverted microscope. Work with risk "
            "group 3 agents such as SARS-CoV-2 or MERS-CoV, always accompanied by an IPK BSL-3 "
            "operator. Only people who passed the BSL-3 entry training may enter, and the project "
            "needs a valid IBC approval and a signed facility-use contract. Every block is "
            "followed by 30 minutes of decontamination."
        ),
        description_ko=(
            "BSL-3 A실의 작업공간 1석으로, 2등급 생물안전작업대와 실내 공용 CO2 배양기, 밀폐 로터 "
            "원심분리기, 도립현미경을 이용할 수 있습니다. SARS-CoV-2, MERS-CoV 등 위험군 3 병원체 "
            "실험을 항상 IPK BSL-3 운영 인력의 동행 하에 수행합니다. BSL-3 출입 교육을 이수한 "
            "사람만 출입할 수 있으며, 과제는 유효한 기관생물안전위원회(IBC) 승인과 시설 이용 "
            "계약을 갖추어야 합니다. 각 블록 뒤에는 30분의 소독 시간이 있습니다."
        ),
        unit_label="4 h block",
        unit_label_ko="4시간 블록",
        unit_minutes=240,
        prices=(300_000, 450_000, 900_000),
        biosafety_level=3,
        rules=SlotRules(
            granularity=30,
            min_minutes=240,
            max_minutes=480,
            min_notice_hours=72,
            max_advance_days=60,
            buffer_minutes=30,
            cancellation_notice_hours=72,
        ),
        training_requirement=(
            "BSL-3 entry training with practical assessment (TRN-BSL3-01) passed within the last "
            "12 months"
        ),
        documents=(
            DocumentType.TRAINING_CERTIFICATE,
            DocumentType.IBC_APPROVAL,
            DocumentType.CONTRACT,
        ),
        chain=HAZARDOUS_CHAIN,
    ),
    ResourceSpec(
        code="FAC-ABSL3-01",
        facility="BSL3",
        kind=ResourceKind.SPACE,
        mode=BookingMode.QUANTITY,
        name="ABSL-3 IsoCage housing (mouse, hamster)",
        name_ko="ABSL-3 IsoCage 사육 공간 (마우스, 햄스터)",
        summary=(
            "Individually ventilated IsoCage housing for infected mice and hamsters in animal "
            "BSL-3, with daily husbandry."
        ),
        summary_ko=(
            "동물 BSL-3 시설의 개별 환기 IsoCage에서 감염 마우스와 햄스터를 사육하며, 일일 사육 "
            "관리를 포함합니다."
        ),
        description=(
            "Negative-pressure IsoCage racks in the animal BSL-3 suite for infection studies in "
            "mice, K18-hACE2 transgenic mice included, and Syrian hamsters. The price covers one "
            "cage for one day with bedding, feed, water and a daily health check by IPK animal "
            "technicians. Partners bring an approved IACUC protocol and IBC approval; procedures "
            "on animals are done by trained staff or by trained users under escort. A cage holds "
            "up to 5 mice or 2 hamsters."
        ),
        description_ko=(
            "동물 BSL-3 실험실의 음압 IsoCage 랙에서 마우스(K18-hACE2 형질전환 마우스 포함)와 "
            "골든햄스터 감염 실험을 수행합니다. 요금은 케이지 1개·1일 기준이며 깔짚, 사료, 급수와 "
            "IPK 동물 관리 인력의 일일 건강 관찰을 포함합니다. 이용자는 승인된 동물실험윤리위원회"
            "(IACUC) 계획서와 IBC 승인을 갖추어야 하며, 동물 처치는 교육받은 직원 또는 동행한 교육 "
            "이수자가 수행합니다. 케이지당 마우스 최대 5마리, 햄스터 최대 2마리를 사육합니다."
        ),
        unit_label="cage-day",
        unit_label_ko="케이지·일",
        prices=(15_000, 22_000, 45_000),
        biosafety_level=3,
        animal_work=True,
        gmo=True,
        lead_time_days=14,
        availability_note="40 cage positions; about 15 free over the next four weeks",
        documents=(DocumentType.IACUC_APPROVAL, DocumentType.IBC_APPROVAL),
        chain=HAZARDOUS_CHAIN,
    ),
    ResourceSpec(
        code="INS-HCS-01",
        facility="BSL3",
        kind=ResourceKind.SERVICE,
        mode=BookingMode.QUANTITY,
        name="Opera high-content imager in BSL-3 (staff-operated)",
        name_ko="BSL-3 내 오페라 고함량 이미징 장비 (직원 운용)",
        summary=(
            "Confocal high-content imaging of infected 384-well plates inside containment, run "
            "by IPK staff."
        ),
        summary_ko=(
            "밀폐구역 안에서 감염된 384웰 플레이트를 IPK 직원이 공초점 고함량 이미징으로 "
            "촬영합니다."
        ),
        description=(
            "An Opera confocal high-content screening system installed inside the BSL-3 "
            "laboratory, so that plates infected with risk group 3 viruses are imaged without "
            "leaving containment. IPK staff image your fixed or live plates in up to four "
            "fluorescence channels with water-immersion objectives. You receive the raw images "
            "and per-well measurements from a standard analysis: cell count, infection rate and "
            "intensities. Plates must follow the infectious-plate SOP (sealing, fixation, "
            "labelling)."
        ),
        description_ko=(
            "BSL-3 실험실 안에 설치된 Opera 공초점 고함량 스크리닝 시스템으로, 위험군 3 "
            "바이러스에 감염된 플레이트를 밀폐구역 밖으로 꺼내지 않고 촬영합니다. IPK 직원이 "
            "고정 또는 생세포 플레이트를 최대 4개 형광 채널과 수침 대물렌즈로 촬영합니다. 원본 "
            "이미지와 표준 분석(세포 수, 감염률, 형광 강도)에 따른 웰별 측정값을 제공합니다. "
            "플레이트는 감염성 플레이트 SOP(밀봉, 고정, 라벨링)를 따라야 합니다."
        ),
        unit_label="384-well plate",
        unit_label_ko="384웰 플레이트",
        prices=(120_000, 180_000, 360_000),
        biosafety_level=3,
        lead_time_days=10,
        availability_note="Up to 40 plates a week; the next free week is in about two weeks",
        documents=(DocumentType.SOP,),
        chain=HAZARDOUS_CHAIN,
        pictogram="instrument",
    ),
    ResourceSpec(
        code="INS-HCS-02",
        facility="IMAGING",
        kind=ResourceKind.INSTRUMENT,
        mode=BookingMode.SLOT,
        name="Operetta high-content imager, BSL-2 (self-use)",
        name_ko="오페레타 고함량 이미징 장비 (BSL-2, 직접 이용)",
        summary=(
            "Widefield and confocal high-content imaging of 96- and 384-well plates, booked by "
            "the hour by trained users."
        ),
        summary_ko=(
            "교육을 이수한 이용자가 시간 단위로 예약하여 96·384웰 플레이트를 광시야·공초점 "
            "고함량 이미징으로 촬영합니다."
        ),
        description=(
            "An Operetta CLS high-content analysis system in the BSL-2 instrument room, with "
            "spinning-disk confocal and widefield modes, 5x to 63x objectives and environmental "
            "control for live-cell imaging. Trained users book it by the hour and image their "
            "own plates; Harmony analysis software runs on the attached workstation. Imaging a "
            "384-well plate in four channels takes about 30 to 60 minutes. First-time users take "
            "the instrument training from the platform staff before their first booking."
        ),
        description_ko=(
            "BSL-2 장비실에 설치된 Operetta CLS 고함량 분석 시스템으로, 스피닝 디스크 공초점과 "
            "광시야 모드, 5배~63배 대물렌즈, 생세포 이미징용 환경 제어 장치를 갖추고 있습니다. "
            "교육을 이수한 이용자가 시간 단위로 예약하여 직접 플레이트를 촬영하며, 연결된 "
            "워크스테이션에서 Harmony 분석 소프트웨어를 사용할 수 있습니다. 384웰 플레이트 1장을 "
            "4채널로 촬영하는 데 약 30~60분이 걸립니다. 처음 이용하는 경우 첫 예약 전에 플랫폼 "
            "직원의 장비 교육을 받아야 합니다."
        ),
        unit_label="hour",
        unit_label_ko="시간",
        unit_minutes=60,
        prices=(60_000, 90_000, 180_000),
        biosafety_level=2,
        rules=HOURLY_SELF_USE,
        training_requirement="Operetta user training by the platform staff (about 3 hours)",
        documents=(DocumentType.TRAINING_CERTIFICATE,),
        chain=ORDINARY_CHAIN,
    ),
    ResourceSpec(
        code="INS-FCM-01",
        facility="IMAGING",
        kind=ResourceKind.INSTRUMENT,
        mode=BookingMode.SLOT,
        name="Flow cytometer, BSL-2 (self-use)",
        name_ko="유세포 분석기 (BSL-2, 직접 이용)",
        summary=(
            "A four-laser, 16-colour analytical flow cytometer with a plate loader, booked by the "
            "hour by trained users."
        ),
        summary_ko=(
            "플레이트 로더를 갖춘 4레이저·16색 분석용 유세포 분석기를 교육 이수자가 시간 단위로 "
            "예약해 이용합니다."
        ),
        description=(
            "An analytical flow cytometer with four lasers (405, 488, 561 and 640 nm) detecting "
            "up to 16 colours, and a high-throughput loader for 96-well plates. It stands in a "
            "BSL-2 room: samples from infection experiments must be fixed by the facility's "
            "protocol before they leave containment. Trained users book it by the hour and run "
            "their own samples; analysis software is installed on the workstation. Keep the last "
            "15 minutes of a booking for the cleaning cycle."
        ),
        description_ko=(
            "405, 488, 561, 640 nm의 4개 레이저로 최대 16색을 검출하는 분석용 유세포 분석기로, "
            "96웰 플레이트용 고속 로더를 갖추고 있습니다. BSL-2 실험실에 있으므로 감염 실험 "
            "시료는 시설 프로토콜에 따라 고정한 뒤 밀폐구역 밖으로 반출해야 합니다. 교육을 이수한 "
            "이용자가 시간 단위로 예약하여 직접 시료를 측정하며, 워크스테이션에 분석 소프트웨어가 "
            "설치되어 있습니다. 예약 시간의 마지막 15분은 세척 과정에 사용해 주십시오."
        ),
        unit_label="hour",
        unit_label_ko="시간",
        unit_minutes=60,
        prices=(40_000, 60_000, 120_000),
        biosafety_level=2,
        rules=HOURLY_SELF_USE,
        training_requirement="Flow cytometer user training by the platform staff (about 2 hours)",
        documents=(DocumentType.TRAINING_CERTIFICATE,),
        chain=ORDINARY_CHAIN,
    ),
    ResourceSpec(
        code="INS-QPCR-01",
        facility="IMAGING",
        kind=ResourceKind.INSTRUMENT,
        mode=BookingMode.SLOT,
        name="Real-time PCR system, 96-well",
        name_ko="실시간 PCR 장비 (96웰)",
        summary="A 96-well real-time PCR system for nucleic-acid extracts, booked per 2-hour run.",
        summary_ko="핵산 추출물을 분석하는 96웰 실시간 PCR 장비를 2시간 단위 분석으로 예약합니다.",
        description=(
            "A 96-well real-time PCR system with five-colour detection, for viral RNA "
            "quantification, gene expression and genotyping. Only extracted, inactivated nucleic "
            "acids enter the room, so no biosafety review is needed. One unit is a 2-hour run, "
            "which fits a standard 40-cycle RT-qPCR protocol with a melt curve. The facility "
            "manager confirms each booking; users bring their own reagents and plates."
        ),
        description_ko=(
            "5색 검출이 가능한 96웰 실시간 PCR 장비로, 바이러스 RNA 정량, 유전자 발현 분석, "
            "유전형 분석에 사용합니다. 추출·불활화된 핵산만 반입할 수 있어 생물안전 검토가 "
            "필요하지 않습니다. 1단위는 2시간 분석 1회로, 융해 곡선을 포함한 일반적인 "
            "40사이클 RT-qPCR 프로토콜에 맞습니다. 시설 책임자가 예약을 확인하며, 시약과 "
            "플레이트는 이용자가 준비합니다."
        ),
        unit_label="run (2 h)",
        unit_label_ko="1회 분석 (2시간)",
        unit_minutes=120,
        prices=(20_000, 30_000, 60_000),
        biosafety_level=1,
        rules=SlotRules(
            granularity=30,
            min_minutes=120,
            max_minutes=240,
            min_notice_hours=12,
            max_advance_days=30,
            buffer_minutes=15,
            cancellation_notice_hours=12,
        ),
        # Low-risk, no training: the facility manager alone confirms the booking.
        chain=(FACILITY_MANAGER,),
    ),
    ResourceSpec(
        code="SVC-HTS-01",
        facility="SCREENING",
        kind=ResourceKind.SERVICE,
        mode=BookingMode.QUANTITY,
        name="Phenotypic high-content screening campaign",
        name_ko="표현형 고함량 스크리닝 캠페인",
        summary=(
            "An image-based screening campaign run by the platform: assay transfer, automated "
            "screening, image analysis and a hit list."
        ),
        summary_ko=(
            "분석법 이전부터 자동화 스크리닝, 이미지 분석, 히트 목록 도출까지 플랫폼이 수행하는 "
            "이미지 기반 스크리닝 캠페인입니다."
        ),
        description=(
            "The platform transfers your validated cell-based assay to its automated 384-well "
            "workflow, runs a pilot, then screens your compounds or the IPK library. A one-time "
            "set-up fee covers the assay transfer, the pilot screen and a Z-factor validation; "
            "each screened plate is then charged. You receive per-well measurements, images on "
            "request, a quality-control report per plate and a ranked hit list with options for "
            "dose-response follow-up. A feasibility meeting (CON-01) comes first, and a service "
            "contract is signed before the campaign starts."
        ),
        description_ko=(
            "검증된 세포 기반 분석법을 플랫폼의 자동화 384웰 공정으로 이전하고 파일럿 시험을 거쳐 "
            "의뢰 화합물 또는 IPK 라이브러리를 스크리닝합니다. 1회 셋업 비용에는 분석법 이전, "
            "파일럿 스크리닝, Z-factor 검증이 포함되며, 이후 스크리닝한 플레이트 수에 따라 비용이 "
            "청구됩니다. 웰별 측정값, 요청 시 원본 이미지, 플레이트별 품질관리 보고서, 농도-반응 "
            "후속 실험 옵션이 포함된 히트 순위 목록을 제공합니다. 타당성 검토 회의(CON-01)를 먼저 "
            "진행하며, 캠페인 시작 전에 용역 계약을 체결합니다."
        ),
        unit_label="384-well plate",
        unit_label_ko="384웰 플레이트",
        prices=(150_000, 225_000, 450_000),
        setup_fee=3_000_000,
        biosafety_level=2,
        lead_time_days=42,
        availability_note=(
            "Feasibility meeting (CON-01) first; campaigns start about six weeks after the "
            "contract is signed"
        ),
        documents=(DocumentType.CONTRACT, DocumentType.RESEARCH_PLAN),
        chain=ORDINARY_CHAIN,
    ),
    ResourceSpec(
        code="SVC-AVR-01",
        facility="BSL3",
        kind=ResourceKind.SERVICE,
        mode=BookingMode.QUANTITY,
        name="Antiviral efficacy (CPE / IC50) against SARS-CoV-2 in BSL-3",
        name_ko="BSL-3 SARS-CoV-2 항바이러스 효능 평가 (CPE / IC50)",
        summary=(
            "Dose-response testing of your compounds against live SARS-CoV-2 in BSL-3, with IC50, "
            "CC50 and selectivity index."
        ),
        summary_ko=(
            "BSL-3에서 살아있는 SARS-CoV-2에 대한 의뢰 화합물의 농도-반응 시험을 수행하고 IC50, "
            "CC50, 선택지수를 제공합니다."
        ),
        description=(
            "IPK scientists test each compound in a 10-point dose-response against a current "
            "SARS-CoV-2 variant in Vero E6 or Calu-3 cells, read by high-content imaging of "
            "infected cells and by cytopathic effect. Cytotoxicity is measured in parallel on "
            "uninfected cells, with remdesivir as the reference. You receive IC50, CC50 and "
            "selectivity index per compound, the curves and a short report. Compounds are sent "
            "to IPK as DMSO stocks under a material transfer agreement; results stay confidential."
        ),
        description_ko=(
            "IPK 연구진이 Vero E6 또는 Calu-3 세포에서 최신 SARS-CoV-2 변이주에 대해 화합물별 "
            "10단계 농도-반응 시험을 수행하고, 감염 세포의 고함량 이미징과 세포변성효과(CPE)로 "
            "판독합니다. 비감염 세포에서 세포독성을 함께 측정하며 렘데시비르를 대조 물질로 "
            "사용합니다. 화합물별 IC50, CC50, 선택지수와 농도-반응 곡선, 간단한 보고서를 "
            "제공합니다. 화합물은 물질이전계약에 따라 DMSO 용액으로 IPK에 보내며, 결과는 비밀로 "
            "유지됩니다."
        ),
        unit_label="compound",
        unit_label_ko="화합물",
        prices=(400_000, 600_000, 1_200_000),
        biosafety_level=3,
        high_risk_pathogen=True,
        lead_time_days=28,
        availability_note="Batches of up to 40 compounds start every two weeks",
        documents=(DocumentType.SIGNED_MTA, DocumentType.COMPOUND_LIST),
        chain=HAZARDOUS_CHAIN,
    ),
    ResourceSpec(
        code="SVC-ASSAY-01",
        facility="SCREENING",
        kind=ResourceKind.SERVICE,
        mode=BookingMode.QUANTITY,
        name="Assay development and miniaturisation (384-well)",
        name_ko="분석법 개발 및 소형화 (384웰)",
        summary=(
            "Platform scientists turn your bench assay into a robust, automated 384-well "
            "screening assay; priced on quote."
        ),
        summary_ko=(
            "플랫폼 연구진이 실험실 분석법을 자동화 가능한 견고한 384웰 스크리닝 분석법으로 "
            "개발합니다. 비용은 견적에 따릅니다."
        ),
        description=(
            "For partners whose assay is not yet ready for screening: the platform adapts cell "
            "seeding, infection or treatment, staining and readout to 384-well plates and "
            "automated liquid handling. Typical work covers cell density and time-course "
            "optimisation, the choice of controls, DMSO tolerance and a Z-factor validation over "
            "three days. Scope and price are agreed in a quote after a consultation, because "
            "projects range from a few weeks to several months. You receive the validated "
            "protocol, the validation data and a recommendation for screening."
        ),
        description_ko=(
            "아직 스크리닝에 적용할 준비가 되지 않은 분석법을 위한 서비스로, 세포 분주, 감염 또는 "
            "처리, 염색, 판독 과정을 384웰 플레이트와 자동 분주 공정에 맞게 조정합니다. 일반적으로 "
            "세포 밀도와 시간 경과 최적화, 대조군 선정, DMSO 내성 시험, 3일간의 Z-factor 검증을 "
            "수행합니다. 과제 기간이 몇 주에서 몇 달까지 다양하므로 자문 후 견적으로 범위와 비용을 "
            "정합니다. 검증된 프로토콜, 검증 데이터, 스크리닝 적용 권고안을 제공합니다."
        ),
        unit_label="project",
        unit_label_ko="과제",
        prices=(None, None, None),
        biosafety_level=2,
        lead_time_days=14,
        availability_note="A quote within two weeks of the consultation (CON-01)",
        documents=(DocumentType.RESEARCH_PLAN,),
        chain=ORDINARY_CHAIN,
    ),
    ResourceSpec(
        code="LIB-CPD-01",
        facility="COMPOUNDS",
        kind=ResourceKind.MATERIAL,
        mode=BookingMode.QUANTITY,
        name="Diversity compound library, plate copy (10 mM DMSO)",
        name_ko="다양성 화합물 라이브러리 플레이트 복제본 (10 mM DMSO)",
        summary=(
            "Copies of IPK's diversity library plates, 320 compounds per 384-well plate at 10 mM "
            "in DMSO, for the recipient's own screening only."
        ),
        summary_ko=(
            "IPK 다양성 라이브러리의 플레이트 복제본으로, 384웰 플레이트당 320종 화합물을 DMSO "
            "10 mM 농도로 제공하며 수령 기관의 자체 스크리닝에만 사용합니다."
        ),
        description=(
            "Plate copies from IPK's collection of about 100,000 drug-like compounds, selected for "
            "structural diversity and filtered for reactive and promiscuous groups. Each 384-well "
            "plate carries 320 compounds at 10 mM in DMSO (1 microlitre per well), with the outer "
            "columns free for your controls, and ships sealed on dry ice with an SD file of the "
            "structures. Copies are for the recipient's own screening: the material transfer "
            "agreement forbids redistribution. Industry partners obtain copies under a contract."
        ),
        description_ko=(
            "구조적 다양성을 기준으로 선별하고 반응성·비특이적 구조를 걸러낸 약 10만 종 약물유사 "
            "화합물 컬렉션의 플레이트 복제본입니다. 384웰 플레이트 1장에 320종 화합물이 DMSO "
            "10 mM 농도(웰당 1마이크로리터)로 담겨 있고 바깥 열은 대조군용으로 비워 두며, 구조 "
            "정보(SD 파일)와 함께 밀봉하여 드라이아이스로 발송합니다. 복제본은 수령 기관의 자체 "
            "스크리닝에만 사용할 수 있으며, 물질이전계약에 따라 재배포가 금지됩니다. 기업 "
            "파트너는 별도 계약으로 이용합니다."
        ),
        unit_label="384-well plate",
        unit_label_ko="384웰 플레이트",
        # Industry: under contract, i.e. on quote.
        prices=(200_000, 300_000, None),
        biosafety_level=1,
        lead_time_days=21,
        availability_note="Full set of 313 plates; 2 replica sets ready to ship",
        documents=(DocumentType.SIGNED_MTA,),
        chain=ORDINARY_CHAIN,
    ),
    ResourceSpec(
        code="LIB-CPD-02",
        facility="COMPOUNDS",
        kind=ResourceKind.MATERIAL,
        mode=BookingMode.QUANTITY,
        name="Cherry-pick / hit re-supply",
        name_ko="개별 화합물 선별 공급 (히트 재공급)",
        summary=(
            "Single library compounds picked into tubes or plates for hit confirmation and "
            "dose-response."
        ),
        summary_ko=(
            "히트 확인과 농도-반응 실험을 위해 라이브러리 화합물을 하나씩 선별하여 튜브나 "
            "플레이트로 공급합니다."
        ),
        description=(
            "After a screen, the compound-management team picks the compounds on your list from "
            "the store and dispenses them into matrix tubes or a 384-well plate at 10 mM in DMSO, "
            "up to 20 microlitres each. Fresh powder of the most interesting hits can be "
            "re-ordered from the supplier at cost. Each shipment comes with structures, "
            "identifiers and QC data where available. Attach the list of compound identifiers to "
            "the request; the material transfer agreement covers the shipment."
        ),
        description_ko=(
            "스크리닝 후 의뢰한 목록의 화합물을 화합물 관리팀이 저장고에서 선별하여 매트릭스 튜브 "
            "또는 384웰 플레이트에 DMSO 10 mM 농도로, 화합물당 최대 20마이크로리터씩 분주합니다. "
            "유망한 히트는 공급사에서 분말 시료를 실비로 재주문할 수 있습니다. 발송 시 구조, "
            "식별번호, 확보된 품질관리 데이터를 함께 제공합니다. 요청에 화합물 식별번호 목록을 "
            "첨부해 주시면 물질이전계약에 따라 발송합니다."
        ),
        unit_label="compound",
        unit_label_ko="화합물",
        prices=(5_000, 7_500, 15_000),
        biosafety_level=1,
        lead_time_days=10,
        availability_note="About 97% of the library in stock as DMSO solutions",
        documents=(DocumentType.SIGNED_MTA, DocumentType.COMPOUND_LIST),
        chain=ORDINARY_CHAIN,
    ),
    ResourceSpec(
        code="BIO-PATH-01",
        facility="BIOBANK",
        kind=ResourceKind.MATERIAL,
        mode=BookingMode.QUANTITY,
        name="SARS-CoV-2 variant isolate (live, risk group 3)",
        name_ko="SARS-CoV-2 변이주 분리주 (생바이러스, 위험군 3)",
        summary=(
            "Sequence-verified, titrated SARS-CoV-2 isolates of current variants, for licensed "
            "BL3 laboratories only."
        ),
        summary_ko=(
            "유전체 분석과 역가 측정을 마친 최신 SARS-CoV-2 변이주 분리주로, 허가받은 BL3 "
            "실험실에만 분양합니다."
        ),
        description=(
            "Low-passage SARS-CoV-2 isolates from Korean patients, grown on Vero E6 cells, "
            "whole-genome sequenced and titrated by plaque assay (typically 10^6 to 10^7 PFU/mL). "
            "Each vial holds 0.5 mL and ships frozen on dry ice in triple packaging as a category "
            "A infectious substance. SARS-CoV-2 is a high-risk pathogen in Korea: the recipient "
            "needs a BL3 facility permit, files the transfer notice with the KDCA before shipment "
            "and signs the material transfer agreement. The biosafety officer reviews every "
            "request."
        ),
        description_ko=(
            "국내 환자에서 분리하여 Vero E6 세포에서 증식한 저계대 SARS-CoV-2 분리주로, 전장 "
            "유전체 분석과 플라크 분석법 역가 측정(일반적으로 10^6~10^7 PFU/mL)을 마쳤습니다. "
            "바이알당 0.5 mL이며 A등급 감염성 물질로 3중 포장하여 드라이아이스로 발송합니다. "
            "SARS-CoV-2는 국내 고위험병원체이므로 수령 기관은 BL3 시설 허가를 갖추고, 발송 전에 "
            "질병관리청에 이동 신고를 하며, 물질이전계약에 서명해야 합니다. 모든 요청은 "
            "생물안전관리책임자가 검토합니다."
        ),
        unit_label="vial 0.5 mL",
        unit_label_ko="바이알 (0.5 mL)",
        prices=(200_000, 300_000, 600_000),
        biosafety_level=3,
        high_risk_pathogen=True,
        lead_time_days=21,
        availability_note="12 vials in stock (JN.1 and KP.2 lineages)",
        documents=BSL3_DOCUMENTS,
        chain=HAZARDOUS_CHAIN,
    ),
    ResourceSpec(
        code="BIO-PATH-02",
        facility="BIOBANK",
        kind=ResourceKind.MATERIAL,
        mode=BookingMode.QUANTITY,
        name="MPOX virus isolate (live)",
        name_ko="엠폭스(MPOX) 바이러스 분리주 (생바이러스)",
        summary=(
            "A clade IIb MPOX virus isolate, sequence-verified and titrated, for licensed BL3 "
            "laboratories only."
        ),
        summary_ko=(
            "유전체 분석과 역가 측정을 마친 엠폭스 바이러스 IIb 계통 분리주로, 허가받은 BL3 "
            "실험실에만 분양합니다."
        ),
        description=(
            "An MPOX virus isolate of clade IIb from a Korean patient, grown on Vero cells, "
            "whole-genome sequenced and titrated by plaque assay. Each vial holds 0.5 mL at about "
            "10^6 PFU/mL and ships frozen as a category A infectious substance. The conditions "
            "for high-risk pathogens apply: a BL3 facility permit, the transfer notice to the "
            "KDCA, IBC approval, a list of your facilities, a research plan and the material "
            "transfer agreement. The biosafety officer reviews every request."
        ),
        description_ko=(
            "국내 환자에서 분리한 IIb 계통 엠폭스 바이러스로, Vero 세포에서 증식하고 전장 유전체 "
            "분석과 플라크 분석법 역가 측정을 마쳤습니다. 바이알당 약 10^6 PFU/mL 0.5 mL이며 "
            "A등급 감염성 물질로 동결 발송합니다. 고위험병원체 분양 조건이 적용되어 BL3 시설 허가, "
            "질병관리청 이동 신고, IBC 승인, 보유 시설 목록, 연구계획서, 물질이전계약이 "
            "필요합니다. 모든 요청은 생물안전관리책임자가 검토합니다."
        ),
        unit_label="vial",
        unit_label_ko="바이알",
        prices=(250_000, 375_000, 750_000),
        biosafety_level=3,
        high_risk_pathogen=True,
        lead_time_days=21,
        availability_note="6 vials in stock (clade IIb)",
        documents=BSL3_DOCUMENTS,
        chain=HAZARDOUS_CHAIN,
    ),
    ResourceSpec(
        code="BIO-INACT-01",
        facility="BIOBANK",
        kind=ResourceKind.MATERIAL,
        mode=BookingMode.QUANTITY,
        name="Inactivated SFTSV antigen",
        name_ko="불활화 SFTSV 항원",
        summary=(
            "Gamma-irradiated SFTS virus antigen with a certificate of inactivation, for use in "
            "BSL-2 laboratories."
        ),
        summary_ko=(
            "감마선으로 불활화하고 불활화 확인서를 갖춘 SFTS 바이러스 항원으로, BSL-2 실험실에서 "
            "사용할 수 있습니다."
        ),
        description=(
            "Severe fever with thrombocytopenia syndrome virus (SFTSV) grown in BSL-3, "
            "concentrated and inactivated by gamma irradiation, for laboratories without "
            "containment. Inactivation is confirmed by three blind passages on cells and "
            "documented lot by lot in an inactivation certificate. Typical uses are ELISA and "
            "immunoassay development, antibody screening and the validation of diagnostic kits. "
            "Each vial holds 100 microlitres at about 1 mg/mL total protein and ships on dry ice "
            "under a material transfer agreement."
        ),
        description_ko=(
            "BSL-3에서 배양한 중증열성혈소판감소증후군 바이러스(SFTSV)를 농축한 뒤 감마선으로 "
            "불활화한 항원으로, 밀폐 실험실이 없는 기관도 사용할 수 있습니다. 불활화 여부는 세포 "
            "3회 맹계대 배양으로 확인하며 로트별 불활화 확인서로 문서화합니다. ELISA 및 "
            "면역분석법 개발, 항체 스크리닝, 진단키트 검증에 주로 사용합니다. 바이알당 총단백 약 "
            "1 mg/mL 100마이크로리터이며 물질이전계약에 따라 드라이아이스로 발송합니다."
        ),
        unit_label="vial",
        unit_label_ko="바이알",
        prices=(100_000, 150_000, 300_000),
        biosafety_level=2,
        lead_time_days=14,
        availability_note="25 vials in stock (lot 2025-03)",
        # IPK issues the inactivation certificate with the shipment; the partner signs the MTA.
        documents=(DocumentType.SIGNED_MTA,),
        chain=ORDINARY_CHAIN,
    ),
    ResourceSpec(
        code="BIO-HS-01",
        facility="BIOBANK",
        kind=ResourceKind.MATERIAL,
        mode=BookingMode.QUANTITY,
        name="SFTS patient serum (de-identified)",
        name_ko="SFTS 환자 혈청 (비식별화)",
        summary=(
            "De-identified acute- and convalescent-phase sera of SFTS patients, for research "
            "under IRB approval."
        ),
        summary_ko=(
            "SFTS 환자의 급성기·회복기 비식별 혈청으로, 기관생명윤리위원회(IRB) 승인을 받은 "
            "연구에 분양합니다."
        ),
        description=(
            "Sera collected from confirmed SFTS patients at partner hospitals with informed "
            "consent, heat-inactivated and de-identified: no patient identifier ever leaves the "
            "bank. Each 200-microlitre aliquot comes with the days from onset to collection, the "
            "RT-PCR result and, where measured, the neutralising antibody titre. Typical uses are "
            "the validation of serological assays and antibody research. The recipient's IRB "
            "approval and a use plan are required; the bank's distribution committee and the "
            "biosafety officer review each request."
        ),
        description_ko=(
            "협력 병원에서 동의를 받아 수집한 SFTS 확진 환자 혈청으로, 열불활화와 비식별화를 "
            "거쳐 환자 식별 정보는 은행 밖으로 나가지 않습니다. 200마이크로리터 분주마다 발병 후 "
            "채취까지의 일수, RT-PCR 결과, 측정한 경우 중화항체가를 함께 제공합니다. 혈청학적 "
            "분석법 검증과 항체 연구에 주로 사용합니다. 수령 기관의 IRB 승인과 사용 계획서가 "
            "필요하며, 은행 분양심의위원회와 생물안전관리책임자가 요청을 검토합니다."
        ),
        unit_label="200 µL aliquot",
        unit_label_ko="200 µL 분주",
        prices=(80_000, 120_000, 240_000),
        biosafety_level=2,
        human_specimen=True,
        lead_time_days=30,
        availability_note="21 aliquots in stock from 7 patients",
        documents=(DocumentType.IRB_APPROVAL, DocumentType.USE_PLAN),
        chain=HAZARDOUS_CHAIN,
    ),
    ResourceSpec(
        code="BIO-CELL-01",
        facility="BIOBANK",
        kind=ResourceKind.MATERIAL,
        mode=BookingMode.QUANTITY,
        name="Vero E6 / Calu-3 cell stock",
        name_ko="Vero E6 / Calu-3 세포주",
        summary=(
            "Authenticated, mycoplasma-free Vero E6 and Calu-3 cells, the standard hosts for "
            "coronavirus work."
        ),
        summary_ko=(
            "코로나바이러스 연구의 표준 숙주세포인 Vero E6와 Calu-3 세포를 인증과 마이코플라스마 "
            "음성 확인을 거쳐 분양합니다."
        ),
        description=(
            "Low-passage working stocks of Vero E6 (African green monkey kidney) and Calu-3 "
            "(human lung adenocarcinoma) cells, banked at IPK and used in its own antiviral "
            "assays. Each lot is authenticated by STR profiling or species identification and "
            "tested negative for mycoplasma. A vial holds about two million cells in freezing "
            "medium and ships on dry ice with a culture protocol. Name the cell line in the "
            "request; the material transfer agreement forbids redistribution."
        ),
        description_ko=(
            "IPK가 자체 항바이러스 시험에 사용하는 저계대 Vero E6(아프리카녹색원숭이 신장) 및 "
            "Calu-3(인간 폐 선암) 세포 작업 스톡입니다. 로트마다 STR 분석 또는 종 확인으로 "
            "인증하고 마이코플라스마 음성을 확인합니다. 바이알당 약 200만 개 세포가 동결 배지에 "
            "담겨 있으며 배양 프로토콜과 함께 드라이아이스로 발송합니다. 요청 시 세포주를 적어 "
            "주시고, 물질이전계약에 따라 재배포는 금지됩니다."
        ),
        unit_label="vial",
        unit_label_ko="바이알",
        prices=(100_000, 150_000, 300_000),
        biosafety_level=1,
        lead_time_days=7,
        availability_note="Vero E6: 18 vials, Calu-3: 9 vials in stock",
        documents=(DocumentType.SIGNED_MTA,),
        chain=ORDINARY_CHAIN,
    ),
    ResourceSpec(
        code="TRN-BSL3-01",
        facility="TRAINING",
        kind=ResourceKind.TRAINING,
        mode=BookingMode.SLOT,
        name="BSL-3 entry training with practical assessment",
        name_ko="BSL-3 출입 교육 및 실습 평가",
        summary=(
            "A one-day course on BSL-3 practice with a supervised practical session and "
            "assessment, required before BSL-3 access."
        ),
        summary_ko=(
            "BSL-3 출입 전에 필요한 1일 과정으로, 이론 교육과 감독 하의 실습 및 평가로 구성됩니다."
        ),
        description=(
            "The morning covers the rules of BSL-3 work: risk assessment, protective equipment "
            "and powered respirators, biosafety cabinet practice, spills, waste and emergencies. "
            "In the afternoon each trainee enters the BSL-3 training area, without live agents, "
            "and is assessed on gowning, cabinet work and decontamination. Those who pass receive "
            "a certificate valid for 12 months, which the BSL-3 suite requires. At least six "
            "months of BSL-2 laboratory experience is expected; one booking is one person for "
            "one day."
        ),
        description_ko=(
            "오전에는 위험성 평가, 개인보호구와 전동식 호흡보호구, 생물안전작업대 사용, 유출 "
            "대응, 폐기물 처리, 비상 절차 등 BSL-3 작업 규칙을 교육합니다. 오후에는 교육생이 "
            "병원체가 없는 BSL-3 교육 구역에 들어가 보호구 착용, 작업대 작업, 소독을 평가받습니다. "
            "합격자는 BSL-3 실험실 이용에 필요한 12개월 유효 수료증을 받습니다. 6개월 이상의 "
            "BSL-2 실험 경험이 필요하며, 예약 1건은 1인·1일입니다."
        ),
        unit_label="person, 1 day",
        unit_label_ko="1인·1일",
        unit_minutes=480,
        prices=(200_000, 300_000, 600_000),
        biosafety_level=3,
        rules=SlotRules(
            granularity=60,
            min_minutes=480,
            max_minutes=480,
            min_notice_hours=7 * 24,
            max_advance_days=120,
            buffer_minutes=0,
            cancellation_notice_hours=5 * 24,
        ),
        training_requirement="At least six months of BSL-2 laboratory experience",
        documents=(DocumentType.TRAINING_CERTIFICATE,),
        # The biosafety officer gives the course: intake, then biosafety review.
        chain=(COORDINATOR, BIOSAFETY),
    ),
    ResourceSpec(
        code="CON-01",
        facility="TRAINING",
        kind=ResourceKind.CONSULTATION,
        mode=BookingMode.SLOT,
        name="Scientific consultation / feasibility meeting",
        name_ko="과학 자문 / 타당성 검토 회의",
        summary=(
            "A meeting with IPK scientists to plan a project, check its feasibility and prepare "
            "a quote; free for academic and SME partners."
        ),
        summary_ko=(
            "IPK 연구진과 과제를 설계하고 타당성을 검토하며 견적을 준비하는 회의로, 학계와 "
            "중소기업 파트너는 무료입니다."
        ),
        description=(
            "Meet the platform scientists in Pangyo or by video call to discuss your biological "
            "question, the assay and readout, the compounds or materials involved and the "
            "biosafety constraints. The meeting ends with a feasibility opinion and, for "
            "services, the next steps towards a quote or a contract. It is the usual first step "
            "before a screening campaign or an assay development project. No approval is needed: "
            "a booked hour is confirmed at once, and the coordinator sends the meeting details."
        ),
        description_ko=(
            "판교 연구소 또는 화상회의로 플랫폼 연구진을 만나 연구 질문, 분석법과 판독 방식, "
            "사용할 화합물이나 물질, 생물안전 관련 제약을 논의합니다. 회의 결과로 타당성 "
            "의견을 드리고, 서비스의 경우 견적이나 계약을 위한 다음 단계를 안내합니다. "
            "스크리닝 캠페인이나 분석법 개발 과제의 일반적인 첫 단계입니다. 별도 승인 없이 "
            "예약 즉시 확정되며, 코디네이터가 회의 안내를 보내 드립니다."
        ),
        unit_label="hour",
        unit_label_ko="시간",
        unit_minutes=60,
        prices=(0, 0, 150_000),
        biosafety_level=1,
        rules=SlotRules(
            granularity=30,
            min_minutes=60,
            max_minutes=120,
            min_notice_hours=48,
            max_advance_days=60,
            buffer_minutes=0,
            cancellation_notice_hours=24,
        ),
        # No approval: confirmed on submission.
        chain=(),
    ),
]


def internal_price(academic: int) -> int:
    """About a third of the academic price, rounded to a round figure (0 stays 0)."""
    third = academic / 3
    step = 1_000 if third >= 10_000 else 100
    return round(third / step) * step


def build_rates(spec: ResourceSpec) -> list[Rate]:
    """The four tiers' rates of ``spec``; internal pays about a third of the academic price."""
    academic, sme, industry = spec.prices
    internal = None if academic is None else internal_price(academic)
    internal_fee = None if spec.setup_fee is None else internal_price(spec.setup_fee)
    rates = []
    for tier, price, fee in (
        (PriceTier.INTERNAL, internal, internal_fee),
        (PriceTier.ACADEMIC, academic, spec.setup_fee),
        (PriceTier.SME, sme, spec.setup_fee),
        (PriceTier.INDUSTRY, industry, spec.setup_fee),
    ):
        if price is None:
            rates.append(Rate(tier=tier, on_quote=True))
        else:
            rates.append(Rate(tier=tier, unit_price=price, setup_fee=fee))
    return rates


def build_resource(spec: ResourceSpec, facility: Facility) -> Resource:
    """A new Resource row (with its rates) from ``spec``."""
    resource = Resource(
        code=spec.code,
        facility=facility,
        name=spec.name,
        name_ko=spec.name_ko,
        kind=spec.kind,
        summary=spec.summary,
        summary_ko=spec.summary_ko,
        description=spec.description,
        description_ko=spec.description_ko,
        biosafety_level=spec.biosafety_level,
        high_risk_pathogen=spec.high_risk_pathogen,
        human_specimen=spec.human_specimen,
        animal_work=spec.animal_work,
        gmo=spec.gmo,
        booking_mode=spec.mode,
        unit_label=spec.unit_label,
        unit_label_ko=spec.unit_label_ko,
        unit_minutes=spec.unit_minutes,
        currency="KRW",
        lead_time_days=spec.lead_time_days,
        availability_note=spec.availability_note,
        training_requirement=spec.training_requirement,
        required_documents=[document.value for document in spec.documents],
        approval_chain=[step.value for step in spec.chain],
        rates=build_rates(spec),
    )
    if spec.rules is not None:
        resource.slot_granularity_minutes = spec.rules.granularity
        resource.min_duration_minutes = spec.rules.min_minutes
        resource.max_duration_minutes = spec.rules.max_minutes
        resource.min_notice_hours = spec.rules.min_notice_hours
        resource.max_advance_days = spec.rules.max_advance_days
        resource.buffer_minutes = spec.rules.buffer_minutes
        resource.cancellation_notice_hours = spec.rules.cancellation_notice_hours
    return resource


# --- Illustrations: our own drawings, one per resource ---------------------------------------

PHOTO_SIZE = (800, 500)
INK = "#f6f3ec"
Box = tuple[int, int, int, int]


def _draw_microscope(draw: ImageDraw.ImageDraw, box: Box, accent: str) -> None:
    x0, y0, _, _ = box

    def at(x: int, y: int) -> tuple[int, int]:
        return x0 + x, y0 + y

    draw.rounded_rectangle((*at(30, 248), *at(230, 280)), radius=10, fill=INK)  # base
    draw.rounded_rectangle((*at(168, 70), *at(204, 256)), radius=14, fill=INK)  # pillar
    draw.line((at(112, 100), at(186, 100)), fill=INK, width=24)  # arm
    draw.line((at(62, 24), at(118, 140)), fill=INK, width=40)  # tube
    draw.line((at(44, -12), at(62, 24)), fill=accent, width=30)  # eyepiece
    draw.rectangle((*at(104, 140), *at(130, 176)), fill=INK)  # objective
    draw.rectangle((*at(56, 184), *at(196, 200)), fill=INK)  # stage
    draw.rectangle((*at(80, 176), *at(160, 184)), fill=accent)  # slide
    draw.ellipse((*at(170, 150), *at(206, 186)), fill=accent)  # focus knob


def _draw_vial(draw: ImageDraw.ImageDraw, box: Box, accent: str) -> None:
    x0, y0, x1, y1 = box
    middle = (x0 + x1) // 2
    draw.rounded_rectangle((middle - 55, y0 + 10, middle + 55, y0 + 60), radius=8, fill=accent)
    draw.rounded_rectangle(
        (middle - 45, y0 + 55, middle + 45, y1 - 10), radius=30, outline=INK, width=8
    )
    draw.rounded_rectangle((middle - 37, y0 + 160, middle + 37, y1 - 18), radius=24, fill=accent)
    draw.rectangle((middle - 45, y0 + 95, middle + 45, y0 + 135), fill=INK)  # label
    for offset in (-20, 0, 20):
        draw.ellipse((middle + offset - 6, y0 + 200, middle + offset + 6, y0 + 212), fill=INK)


def _draw_plate(draw: ImageDraw.ImageDraw, box: Box, accent: str) -> None:
    x0, y0, x1, _ = box
    top = y0 + 50
    draw.rounded_rectangle((x0, top, x1, top + 200), radius=18, fill=INK)
    rows, columns = 8, 12
    step_x = (x1 - x0 - 40) / columns
    step_y = 180 / rows
    hits = {(1, 3), (2, 9), (4, 6), (5, 1), (6, 10), (3, 7)}
    for row in range(rows):
        for column in range(columns):
            cx = x0 + 20 + step_x * (column + 0.5)
            cy = top + 10 + step_y * (row + 0.5)
            radius = min(step_x, step_y) * 0.36
            colour = accent if (row, column) in hits else "#c9c4b8"
            draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)


def _draw_door(draw: ImageDraw.ImageDraw, box: Box, accent: str) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle((x0 + 20, y0 + 20, x1 - 20, y1), outline=INK, width=10)  # wall opening
    draw.rectangle((x0 + 60, y0 + 60, x1 - 60, y1), fill=INK)  # door
    draw.rounded_rectangle((x0 + 95, y0 + 90, x1 - 95, y0 + 150), radius=10, fill=accent)
    draw.ellipse((x1 - 100, y0 + 175, x1 - 80, y0 + 195), fill=accent)  # handle
    # A warning triangle on the door.
    middle = (x0 + x1) // 2
    draw.polygon(
        [(middle, y0 + 205), (middle - 30, y0 + 255), (middle + 30, y0 + 255)], fill=accent
    )


def _draw_person(draw: ImageDraw.ImageDraw, box: Box, accent: str) -> None:
    x0, y0, x1, y1 = box
    middle = (x0 + x1) // 2 - 30
    draw.ellipse((middle - 45, y0 + 20, middle + 45, y0 + 110), fill=INK)  # head
    draw.pieslice((middle - 90, y0 + 125, middle + 90, y1 + 80), 180, 360, fill=INK)  # body
    draw.rounded_rectangle((x1 - 95, y0 + 60, x1 - 5, y0 + 170), radius=6, fill=accent)  # board
    for line in range(3):
        y = y0 + 85 + line * 25
        draw.line((x1 - 80, y, x1 - 20, y), fill=INK, width=6)


def _draw_speech(draw: ImageDraw.ImageDraw, box: Box, accent: str) -> None:
    x0, y0, x1, _ = box
    draw.rounded_rectangle((x0, y0 + 20, x0 + 190, y0 + 130), radius=24, fill=INK)
    draw.polygon([(x0 + 40, y0 + 125), (x0 + 30, y0 + 175), (x0 + 85, y0 + 125)], fill=INK)
    for line in range(3):
        y = y0 + 50 + line * 25
        draw.line((x0 + 25, y, x0 + 165 - line * 30, y), fill="#9c978c", width=7)
    draw.rounded_rectangle((x1 - 190, y0 + 150, x1, y0 + 260), radius=24, fill=accent)
    draw.polygon([(x1 - 40, y0 + 255), (x1 - 30, y0 + 300), (x1 - 85, y0 + 255)], fill=accent)
    for line in range(3):
        y = y0 + 180 + line * 25
        draw.line((x1 - 165, y, x1 - 25 - line * 30, y), fill=INK, width=7)


PICTOGRAMS: dict[str, Callable[[ImageDraw.ImageDraw, Box, str], None]] = {
    "instrument": _draw_microscope,
    "material": _draw_vial,
    "service": _draw_plate,
    "space": _draw_door,
    "training": _draw_person,
    "consultation": _draw_speech,
}


def _darker(colour: str, factor: float = 0.7) -> tuple[int, int, int]:
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    return int(red * factor), int(green * factor), int(blue * factor)


def draw_illustration(spec: ResourceSpec, facility_spec: FacilitySpec) -> bytes:
    """A PNG illustration of ``spec``: facility colour, a pictogram of its kind, its code."""
    image = Image.new("RGB", PHOTO_SIZE, facility_spec.colour)
    draw = ImageDraw.Draw(image)
    accent = "#f2b84b"
    draw.rectangle(
        (0, PHOTO_SIZE[1] - 60, PHOTO_SIZE[0], PHOTO_SIZE[1]), fill=_darker(facility_spec.colour)
    )
    draw.ellipse((50, 70, 390, 410), fill=_darker(facility_spec.colour, 0.85))
    pictogram = PICTOGRAMS[spec.pictogram or spec.kind.value]
    pictogram(draw, (90, 100, 350, 380), accent)

    code_font = ImageFont.load_default(size=54)
    name_font = ImageFont.load_default(size=26)
    small_font = ImageFont.load_default(size=20)
    draw.text((430, 110), spec.code, font=code_font, fill=INK)
    draw.line((430, 185, 760, 185), fill=accent, width=4)
    y = 205
    for line in textwrap.wrap(spec.name, width=26)[:5]:
        draw.text((430, y), line, font=name_font, fill=INK)
        y += 34
    draw.text(
        (30, PHOTO_SIZE[1] - 42),
        f"Institut Pasteur Korea · {facility_spec.name}",
        font=small_font,
        fill=INK,
    )
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def _has_photo(resource: Resource) -> bool:
    """True when the resource's photo file is there (a lost file is drawn again)."""
    if not resource.photo_filename:
        return False
    try:
        return photo_file(resource.photo_filename).is_file()
    except FileNotFoundError:
        return False


# --- Loading ---------------------------------------------------------------------------------


def _load_facilities() -> tuple[dict[str, Facility], int]:
    """Every demo facility by code, creating the missing ones with their managers."""
    existing = {
        facility.code: facility
        for facility in db.session.scalars(
            select(Facility).where(Facility.code.in_([spec.code for spec in FACILITIES]))
        )
    }
    emails = {email for spec in FACILITIES for email in spec.managers}
    managers = {
        user.email: user for user in db.session.scalars(select(User).where(User.email.in_(emails)))
    }
    created = 0
    for spec in FACILITIES:
        if spec.code in existing:
            continue
        facility = Facility(
            code=spec.code,
            name=spec.name,
            name_ko=spec.name_ko,
            description=spec.description,
            description_ko=spec.description_ko,
            location=spec.location,
            biosafety_level=spec.biosafety_level,
            timezone=SEOUL,
            opening_hours=dict(spec.opening_hours),
            contact_email=spec.contact_email,
            managers=[managers[email] for email in spec.managers if email in managers],
        )
        db.session.add(facility)
        existing[spec.code] = facility
        created += 1
    db.session.flush()
    return existing, created


def _load_closure(facility: Facility, now: datetime) -> int:
    """The demo closure of the BSL-3 laboratory, added once (1 if it was added)."""
    known = db.session.scalar(
        select(Closure.id).where(
            Closure.facility_id == facility.id, Closure.reason == CLOSURE_REASON
        )
    )
    if known is not None:
        return 0
    zone = ZoneInfo(facility.timezone or SEOUL)
    first_day = now.astimezone(zone).date() + timedelta(days=CLOSURE_STARTS_IN_DAYS)
    starts_at = datetime.combine(first_day, time.min, tzinfo=zone)
    ends_at = datetime.combine(first_day + timedelta(days=CLOSURE_DAYS), time.min, tzinfo=zone)
    manager = facility.managers[0] if facility.managers else None
    db.session.add(
        Closure(
            facility=facility,
            starts_at=starts_at.astimezone(UTC),
            ends_at=ends_at.astimezone(UTC),
            reason=CLOSURE_REASON,
            created_by=manager,
        )
    )
    return 1


def load_catalogue(now: datetime | None = None) -> int:
    """Create the demo facilities, resources (rates, photos) and closure that do not exist yet.

    Returns how many facilities, resources and closures were added; flushes, never commits.
    """
    now = now or utcnow()
    facilities, created = _load_facilities()
    facility_specs = {spec.code: spec for spec in FACILITIES}
    resources = {
        resource.code: resource
        for resource in db.session.scalars(
            select(Resource).where(Resource.code.in_([spec.code for spec in RESOURCES]))
        )
    }
    for spec in RESOURCES:
        resource = resources.get(spec.code)
        if resource is None:
            resource = build_resource(spec, facilities[spec.facility])
            db.session.add(resource)
            resources[spec.code] = resource
            created += 1
        if not _has_photo(resource):
            resource.photo_filename = store_photo(
                draw_illustration(spec, facility_specs[spec.facility])
            )
    created += _load_closure(facilities[CLOSURE_FACILITY], now)
    db.session.flush()
    return created
