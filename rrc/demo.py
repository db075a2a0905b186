"""Demo data for a first look at the portal (idempotent: existing records are left alone)."""

from datetime import timedelta

from sqlalchemy import select

from rrc.demo_catalogue import load_catalogue
from rrc.extensions import db
from rrc.models import (
    ConsentItem,
    ConsentRecord,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    User,
    UserKind,
    UserStatus,
)
from rrc.models.types import utcnow
from rrc.security import hash_password

# Every demo account shares this password; the README lists the logins. Demo data only.
DEMO_PASSWORD = "pasteur-demo-2026"  # noqa: S105

DEMO_ORGANISATIONS = [
    # name, local name, type, country, business no, billing e-mail, address, status
    (
        "Institut Pasteur Korea",
        "한국파스퇴르연구소",
        OrganisationType.INTERNAL,
        "KR",
        None,
        "finance@ip-korea.org",
        "16, Daewangpangyo-ro 712beon-gil, Bundang-gu, Seongnam-si, Gyeonggi-do",
        OrganisationStatus.VERIFIED,
    ),
    (
        "Hanbit University",
        "한빛대학교",
        OrganisationType.UNIVERSITY,
        "KR",
        None,
        "research-billing@hanbit.ac.kr",
        "1 Hanbit-ro, Gwanak-gu, Seoul",
        OrganisationStatus.VERIFIED,
    ),
    (
        "Saebyeok Bio Co., Ltd.",
        "새벽바이오 주식회사",
        OrganisationType.SME,
        "KR",
        "214-87-12345",
        "billing@saebyeokbio.co.kr",
        "55 Pangyo-ro, Bundang-gu, Seongnam-si",
        OrganisationStatus.VERIFIED,
    ),
    (
        "Daehan Pharmaceutical",
        "대한제약",
        OrganisationType.LARGE_COMPANY,
        "KR",
        "120-81-54321",
        "ap@daehanpharma.co.kr",
        "300 Teheran-ro, Gangnam-gu, Seoul",
        OrganisationStatus.VERIFIED,
    ),
    (
        "University of Lyon Virology Lab",
        None,
        OrganisationType.FOREIGN_ACADEMIC,
        "FR",
        None,
        "compta@virolab.example.fr",
        "50 avenue Tony Garnier, 69007 Lyon",
        OrganisationStatus.VERIFIED,
    ),
    (
        "Mirae Diagnostics",
        "미래진단",
        OrganisationType.STARTUP,
        "KR",
        "617-86-00999",
        "cfo@miraedx.co.kr",
        "12 Songdo-dong, Yeonsu-gu, Incheon",
        OrganisationStatus.PENDING,
    ),
]

# e-mail, name, organisation, kind, status, capabilities / flags
DEMO_PEOPLE = [
    (
        "admin@ip-korea.org",
        "Ji-ho Admin",
        "Institut Pasteur Korea",
        UserKind.STAFF,
        UserStatus.ACTIVE,
        {"is_admin", "is_coordinator"},
    ),
    (
        "coordinator@ip-korea.org",
        "Seo-yeon Coordinator",
        "Institut Pasteur Korea",
        UserKind.STAFF,
        UserStatus.ACTIVE,
        {"is_coordinator"},
    ),
    (
        "fm.bsl3@ip-korea.org",
        "Min-jun Kang (BSL-3 facility manager)",
        "Institut Pasteur Korea",
        UserKind.STAFF,
        UserStatus.ACTIVE,
        {"is_facility_manager"},
    ),
    (
        "fm.screening@ip-korea.org",
        "Ha-eun Lim (screening facility manager)",
        "Institut Pasteur Korea",
        UserKind.STAFF,
        UserStatus.ACTIVE,
        {"is_facility_manager"},
    ),
    (
        "biosafety@ip-korea.org",
        "Do-yun Park (biosafety officer)",
        "Institut Pasteur Korea",
        UserKind.STAFF,
        UserStatus.ACTIVE,
        {"is_biosafety_officer"},
    ),
    (
        "kim.prof@hanbit.ac.kr",
        "Prof. Kim Soo-jin",
        "Hanbit University",
        UserKind.PARTNER,
        UserStatus.ACTIVE,
        {"is_org_manager"},
    ),
    (
        "lee.postdoc@hanbit.ac.kr",
        "Dr. Lee Jae-won",
        "Hanbit University",
        UserKind.PARTNER,
        UserStatus.ACTIVE,
        set(),
    ),
    (
        "choi@saebyeokbio.co.kr",
        "Choi Eun-ji",
        "Saebyeok Bio Co., Ltd.",
        UserKind.PARTNER,
        UserStatus.ACTIVE,
        {"is_org_manager"},
    ),
    (
        "park@daehanpharma.co.kr",
        "Park Hyun-woo",
        "Daehan Pharmaceutical",
        UserKind.PARTNER,
        UserStatus.ACTIVE,
        set(),
    ),
    (
        "claire.martin@virolab.example.fr",
        "Claire Martin",
        "University of Lyon Virology Lab",
        UserKind.PARTNER,
        UserStatus.ACTIVE,
        set(),
    ),
    (
        "yoon@miraedx.co.kr",
        "Yoon Ji-min (awaiting approval)",
        "Mirae Diagnostics",
        UserKind.PARTNER,
        UserStatus.PENDING_APPROVAL,
        set(),
    ),
    (
        "new.student@hanbit.ac.kr",
        "Jung Min-seo (e-mail not verified)",
        "Hanbit University",
        UserKind.PARTNER,
        UserStatus.UNVERIFIED,
        set(),
    ),
    (
        "rejected@example.com",
        "Rejected Applicant",
        "Hanbit University",
        UserKind.PARTNER,
        UserStatus.REJECTED,
        set(),
    ),
    (
        "suspended@daehanpharma.co.kr",
        "Suspended Partner",
        "Daehan Pharmaceutical",
        UserKind.PARTNER,
        UserStatus.SUSPENDED,
        set(),
    ),
]


# Demo people whose portal and e-mails are in Korean.
KOREAN_SPEAKERS = {"kim.prof@hanbit.ac.kr", "choi@saebyeokbio.co.kr", "fm.bsl3@ip-korea.org"}


def load_demo() -> int:
    """Create the demo organisations, people and catalogue not there yet; return how many."""
    created = 0
    now = utcnow()
    organisations: dict[str, Organisation] = {}
    for name, local, org_type, country, business_no, billing, address, status in DEMO_ORGANISATIONS:
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if organisation is None:
            organisation = Organisation(
                name=name,
                local_name=local,
                org_type=org_type,
                country=country,
                business_registration_no=business_no,
                billing_email=billing,
                address=address,
                status=status,
                created_at=now - timedelta(days=3),
                decided_at=now - timedelta(days=2)
                if status != OrganisationStatus.PENDING
                else None,
            )
            db.session.add(organisation)
            created += 1
        organisations[name] = organisation
    db.session.flush()

    password_hash = None
    for email, name, organisation_name, kind, status, flags in DEMO_PEOPLE:
        if db.session.scalar(select(User.id).where(User.email == email)) is not None:
            continue
        password_hash = password_hash or hash_password(DEMO_PASSWORD)
        organisation = organisations[organisation_name]
        user = User(
            email=email,
            name=name,
            kind=kind,
            status=status,
            organisation=organisation,
            password_hash=password_hash,
            locale="ko" if email in KOREAN_SPEAKERS else "en",
            email_verified_at=None if status == UserStatus.UNVERIFIED else now - timedelta(days=2),
            decided_at=now - timedelta(days=1)
            if status in (UserStatus.ACTIVE, UserStatus.REJECTED, UserStatus.SUSPENDED)
            else None,
            rejection_reason="Demo: the applicant could not show an affiliation."
            if status == UserStatus.REJECTED
            else (
                "Demo: suspended for unpaid invoices." if status == UserStatus.SUSPENDED else None
            ),
            created_at=now - timedelta(days=2),
        )
        for flag in flags:
            setattr(user, flag, True)
        if kind == UserKind.PARTNER:
            user.consents.append(
                ConsentRecord(item=ConsentItem.REQUIRED, text_version="2026-11", granted=True)
            )
            user.consents.append(
                ConsentRecord(item=ConsentItem.OPTIONAL, text_version="2026-11", granted=False)
            )
            if organisation.country != "KR":
                user.consents.append(
                    ConsentRecord(
                        item=ConsentItem.CROSS_BORDER, text_version="2026-11", granted=True
                    )
                )
        db.session.add(user)
        created += 1
    db.session.flush()
    # After the people: the catalogue's facilities are given the demo facility managers.
    created += load_catalogue()
    return created
