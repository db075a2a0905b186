"""What people do in the portal, written with the labels and roles they see on screen.

Every step finds elements by their label or role, in the page's language: ``Language("ko")``
translates the English text through the portal's own Korean catalogue.
"""

import gettext
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from rrc.demo_catalogue import RESOURCES

REPO = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "pasteur-demo-2026"  # the demo accounts' password (README)
PARTNER_PASSWORD = "violet tundra kettle 7391 marble"

COORDINATOR = "coordinator@ip-korea.org"
ADMIN = "admin@ip-korea.org"
SCREENING_MANAGER = "fm.screening@ip-korea.org"  # manages the imaging core (Operetta)
BSL3_MANAGER = "fm.bsl3@ip-korea.org"  # manages the biobank; Korean interface
BIOSAFETY_OFFICER = "biosafety@ip-korea.org"

SEOUL = ZoneInfo("Asia/Seoul")  # the facilities' time zone
OPERETTA = "INS-HCS-02"
OPERETTA_NAMES = next(  # its name in each language, as the demo catalogue gives it
    {"en": spec.name, "ko": spec.name_ko} for spec in RESOURCES if spec.code == OPERETTA
)


class Language:
    """The portal's wording in one language: ``t("Log in")`` is what the page shows."""

    def __init__(self, code: str):
        self.code = code
        self.browser_locale = {"en": "en-US", "ko": "ko-KR"}[code]
        if code == "en":
            self.catalogue = gettext.NullTranslations()
        else:
            self.catalogue = gettext.translation(
                "messages", localedir=REPO / "rrc" / "translations", languages=[code]
            )

    def __call__(self, text: str, **values) -> str:
        translated = self.catalogue.gettext(text)
        return translated % values if values else translated


ENGLISH = Language("en")
TERMS_VERSION = "2026-11"  # rrc.config.Defaults.TERMS_VERSION


def accept_terms_label(t: Language) -> str:
    """The label of the terms-of-use box of the request form."""
    return t(
        "I accept the terms of use of this resource (version %(version)s)", version=TERMS_VERSION
    )


def unique(prefix: str) -> str:
    """A short unique token, so that tests sharing one server never meet."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def pdf(title: str) -> bytes:
    """A small, valid one-page PDF showing ``title``."""
    stream = f"BT /F1 18 Tf 72 720 Td ({title}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        body += b"%010d 00000 n \n" % offset
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(body)


# --- accounts -----------------------------------------------------------------------------------


def flash(page: Page):
    """The messages the portal shows at the top of the page after an action (a live region)."""
    return page.locator("main > .flash-messages[role=status]")


def switch_language(page: Page, language: Language) -> None:
    """Press the language button of the menu bar (each button is named in its own language)."""
    name = {"en": "English", "ko": "한국어"}[language.code]
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", language.code)


def log_in(
    page: Page,
    email: str,
    password: str = DEMO_PASSWORD,
    t: Language = ENGLISH,
    then: Language | None = None,
) -> None:
    """Log in through the form of the login page (shown in ``t``); afterwards the portal speaks
    the person's own language, ``then`` (by default ``t``)."""
    then = then or t
    page.goto("/login")
    page.get_by_label(t("E-mail"), exact=True).fill(email)
    page.get_by_label(t("Password"), exact=True).fill(password)
    page.get_by_role("button", name=t("Log in"), exact=True).click()
    logout = page.get_by_role("button", name=then("Log out"), include_hidden=True)
    expect(logout).to_be_attached()


@dataclass
class NewPartner:
    """A partner who signs up in a test."""

    email: str
    name: str
    password: str = PARTNER_PASSWORD


def sign_up(page: Page, partner: NewPartner, t: Language, organisation: str | None) -> None:
    """Fill the sign-up form: join ``organisation`` (its label in the list), or propose a new
    one when it is ``None``."""
    page.get_by_role("link", name=t("Sign up"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Open a partner account"))
    page.get_by_label(t("E-mail"), exact=True).fill(partner.email)
    page.get_by_label(t("Password"), exact=True).fill(partner.password)
    page.get_by_label(t("Full name"), exact=True).fill(partner.name)
    page.get_by_label(t("Position"), exact=True).fill("Research scientist")
    page.get_by_label(t("Language for e-mails"), exact=True).select_option(
        label={"en": "English", "ko": "한국어"}[t.code]
    )
    if organisation is None:
        page.get_by_label(t("Organisation"), exact=True).select_option(
            label=t("My organisation is not listed: propose it")
        )
        page.get_by_label(t("Legal name of the organisation"), exact=True).fill(
            f"{partner.name} Bioimaging Lab"
        )
        page.get_by_label(t("Type of organisation"), exact=True).select_option(
            label=t("University")
        )
        page.get_by_label(t("Country"), exact=True).select_option(value="KR")
        page.get_by_label(t("Billing e-mail"), exact=True).fill(f"billing-{partner.email}")
        page.get_by_label(t("Address"), exact=True).fill("7 Test-ro, Seongnam")
    else:
        page.get_by_label(t("Organisation"), exact=True).select_option(label=organisation)
        expect(page.get_by_label(t("Legal name of the organisation"), exact=True)).to_be_hidden()
    page.get_by_label(
        t("I agree to the collection and use of the required personal data described above.")
    ).check()
    page.get_by_label(
        t("I agree to the collection and use of the optional items (phone, position).")
    ).check()
    page.get_by_role("button", name=t("Create my account")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Check your e-mail"))


def vet_partner(page: Page, partner_name: str) -> None:
    """A coordinator approves a partner from the vetting queue (English interface)."""
    page.get_by_role("button", name="Partners", exact=True).click()
    page.get_by_role("link", name="Vetting queue", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vetting queue")
    page.get_by_role("link", name=f"Review {partner_name}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(partner_name)
    page.get_by_role("group", name="Decision").get_by_label("Approve", exact=True).check()
    page.get_by_role("button", name="Record the decision").click()
    expect(flash(page)).to_contain_text(partner_name)


# --- requests -----------------------------------------------------------------------------------


CELL = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d)$")


def free_cells(page: Page, t: Language) -> dict[str, set[str]]:
    """The free cells of the week shown by the slot picker: {day: {"HH:MM", ...}}."""
    free = page.get_by_role("checkbox", name=re.compile(r"^" + re.escape(t("Free"))))
    days: dict[str, set[str]] = {}
    for name in free.evaluate_all("cells => cells.map(cell => cell.labels[0].textContent)"):
        match = CELL.search(" ".join(name.split()))
        if match:
            days.setdefault(match[1], set()).add(match[2])
    return days


def pick_sessions(page: Page, t: Language, times: tuple[str, ...], count: int) -> list[str]:
    """Tick ``times`` (consecutive half-hours) on ``count`` days of the slot picker, moving to
    later weeks when the shown one has too few free days; returns the days chosen."""
    chosen: list[str] = []
    for _week in range(4):
        days = free_cells(page, t)
        for day in sorted(days):
            if len(chosen) == count:
                break
            if set(times) <= days[day]:
                for moment in times:
                    page.get_by_role(
                        "checkbox", name=re.compile(re.escape(f"{day} {moment}") + "$")
                    ).check()
                chosen.append(day)
        if len(chosen) == count:
            return chosen
        # Changing the week keeps what is ticked so far (carried by a new request's form).
        page.get_by_role("button", name=t("Next week") + " →").click()
    raise AssertionError(f"fewer than {count} free days at {times} in four weeks")


def upload_document(page: Page, t: Language, document_type: str, filename: str) -> None:
    """Add a document from the form's or the request page's upload box."""
    box = page.get_by_role("region", name=t("Documents"), exact=True)
    box.get_by_label(t("Document type"), exact=True).select_option(label=t(document_type))
    box.get_by_label(t("File"), exact=True).set_input_files(
        files=[{"name": filename, "mimeType": "application/pdf", "buffer": pdf(filename)}]
    )
    box.get_by_role("button", name=t("Upload"), exact=True).click()
    expect(flash(page)).to_contain_text(t("%(name)s was added.", name=filename))


def reference_of(page: Page) -> str:
    """The reference of the request whose page (or edit form) is shown."""
    match = re.search(r"/requests/([^/?#]+)", page.url)
    assert match, page.url
    return match[1]


def open_from_queue(page: Page, reference: str, t: Language = ENGLISH) -> None:
    """Staff: Requests → Waiting for me → the request."""
    page.get_by_role("link", name=t("Requests"), exact=True).click()
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)


def decide(page: Page, t: Language, button: str, comment_label: str, comment: str) -> None:
    """Staff: write in the decision form of ``button`` and press it."""
    actions = page.get_by_role("region", name=t("What you can do"))
    form = actions.locator("form").filter(
        has=page.get_by_role("button", name=t(button), exact=True)
    )
    form.get_by_label(t(comment_label), exact=True).fill(comment)
    form.get_by_role("button", name=t(button), exact=True).click()


def approve(page: Page, t: Language = ENGLISH, comment: str = "Fine with me.") -> None:
    """Staff: approve the current step of the request shown."""
    decide(page, t, "Approve", "Comment (optional)", comment)
    expect(flash(page)).to_be_visible()


def request_operetta(
    page: Page, t: Language, investigator: str, times: tuple[str, ...], count: int
) -> tuple[str, list[str]]:
    """On the Operetta's request form: fill it in, pick ``count`` sessions at ``times``, save
    the draft, upload the training certificate and submit. Returns the reference and the days."""
    page.get_by_label(t("Project title"), exact=True).fill("Live imaging of infected organoids")
    page.get_by_label(t("Purpose and research summary"), exact=True).fill(
        "Time-lapse imaging of lung organoids after infection, four channels."
    )
    page.get_by_label(t("Principal investigator"), exact=True).fill(investigator)
    page.get_by_label(t("Billing contact"), exact=True).fill("Finance office")
    page.get_by_label(t("Usage mode"), exact=True).select_option(
        label=t("Self-use (after the required training)")
    )
    page.get_by_label(t("Agent and strain"), exact=True).fill("Lentiviral pseudovirus")
    page.get_by_label(t("Risk group"), exact=True).select_option(label="2")
    page.get_by_label(t("Training evidence"), exact=True).fill("Operetta training, May 2026.")
    days = pick_sessions(page, t, times, count)
    page.get_by_label(accept_terms_label(t), exact=True).check()
    page.get_by_role("button", name=t("Save draft")).click()
    reference = reference_of(page)
    expect(flash(page)).to_contain_text(t("Draft %(reference)s is saved.", reference=reference))
    picker = page.get_by_role("group", name=t("Choose sessions on the calendar"))
    expect(picker.get_by_role("listitem")).to_have_count(count)

    upload_document(page, t, "Training certificate", "operetta-training.pdf")
    page.get_by_role("button", name=t("Submit for review")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(flash(page)).to_contain_text(reference)
    return reference, days


def seoul_time(moment: datetime) -> str:
    """``moment`` as the facilities' calendars show it: "YYYY-MM-DD HH:MM" in Seoul."""
    return moment.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")
