"""Accessibility (issue 6, item 2): axe-core, from npm, runs in the main pages of every role; no
serious or critical violation is allowed. Each test lists every page's violations when it fails.

axe-core is a test tool declared in package.json (``npm ci`` at the repository root installs it
into node_modules/). It is injected through the DevTools protocol (``page.evaluate``), which the
portal's Content-Security-Policy (no inline script) does not govern.
"""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.steps import (
    ADMIN,
    COORDINATOR,
    OPERETTA,
    SCREENING_MANAGER,
    Language,
    log_in,
    open_from_queue,
    request_operetta,
)

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
PARTNER = "kim.prof@hanbit.ac.kr"  # organisation manager of Hanbit University; Korean interface
SHOWN_NODES = 5


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(
            f"axe-core is not installed ({AXE} is missing): run `npm ci` at the repository root "
            "(needs Node.js and npm) to install the test tools of package.json"
        )
    return AXE.read_text(encoding="utf-8")


class Audit:
    """Runs axe in pages and keeps the blocking violations of each."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []
        self.pages: list[str] = []

    def check(self, page: Page, path: str | None = None) -> None:
        """Open ``path`` (or keep the page shown) and run axe on the whole document."""
        if path is not None:
            response = page.goto(path)
            assert response is not None and response.ok, (path, response and response.status)
        expect(page.locator("main")).to_be_visible()
        where = page.url
        self.pages.append(where)
        page.evaluate(self.source)
        violations = page.evaluate(
            """async () => {
                const results = await axe.run(document, {resultTypes: ["violations"]});
                return results.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                    nodes: v.nodes.map(n => ({target: n.target, html: n.html,
                                              summary: n.failureSummary})),
                }));
            }"""
        )
        for violation in violations:
            if violation["impact"] not in BLOCKING:
                continue
            lines = [
                f"{where}: {violation['impact']} {violation['id']} — {violation['help']} "
                f"({violation['helpUrl']}), {len(violation['nodes'])} element(s):"
            ]
            for node in violation["nodes"][:SHOWN_NODES]:
                lines.append(f"    {json.dumps(node['target'])} {node['html'][:160]}")
                lines.extend("      " + line for line in (node["summary"] or "").splitlines())
            self.problems.append("\n".join(lines))

    def assert_clean(self) -> None:
        assert self.pages, "no page was checked"
        assert not self.problems, (
            f"{len(self.problems)} serious or critical accessibility violation(s) in "
            f"{len(self.pages)} pages:\n" + "\n".join(self.problems)
        )


def test_visitor_pages(axe_source, portal, open_page):
    audit = Audit(axe_source)
    page = open_page()
    for path in (
        "/",
        "/catalogue/",
        f"/catalogue/{OPERETTA}",
        f"/bookings/{OPERETTA}/week",
        "/login",
        "/signup",
    ):
        audit.check(page, path)
    audit.assert_clean()


def test_partner_and_coordinator_pages(axe_source, portal, open_page):
    """A partner (Korean interface) files a request; the coordinator reviews it."""
    audit = Audit(axe_source)
    korean = Language("ko")
    partner = open_page()
    log_in(partner, PARTNER, then=korean)
    audit.check(partner, "/")
    audit.check(partner, "/requests/")
    audit.check(partner, f"/requests/new/{OPERETTA}")
    reference, _days = request_operetta(partner, korean, "Prof. Kim", ("16:00", "16:30"), 1)
    audit.check(partner)  # the request page, with its held session and documents
    audit.check(partner, "/account/profile")

    coordinator = open_page.staff(COORDINATOR)
    audit.check(coordinator, "/staff/vetting/")
    audit.check(coordinator, "/staff/requests/waiting")
    open_from_queue(coordinator, reference)
    audit.check(coordinator)  # the request page with the decision forms
    audit.assert_clean()


def test_facility_manager_and_administrator_pages(axe_source, portal, open_page):
    audit = Audit(axe_source)
    manager = open_page.staff(SCREENING_MANAGER)
    audit.check(manager, "/staff/catalogue/")
    manager.get_by_role("link", name=OPERETTA, exact=True).click()
    expect(manager.get_by_role("heading", level=1)).to_be_visible()
    audit.check(manager)  # the resource's edit form
    audit.check(manager, f"/bookings/{OPERETTA}/week")

    admin = open_page.staff(ADMIN)
    audit.check(admin, "/admin/users")
    audit.check(admin, "/admin/mail")
    audit.assert_clean()
