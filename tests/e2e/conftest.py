"""End-to-end fixtures: the real portal served by gunicorn on a fresh database, its mail relay
delivering to an SMTP server inside the test process, and headless Debian chromium.

One server is shared by every test of the session (tests use their own unique accounts). When
``RRC_TEST_DATABASE_URL`` names a PostgreSQL database, a dedicated ``<name>_e2e`` database is
created beside it and dropped at the end: the rest of the suite empties the given one.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL, free_port

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SECRET_KEY = "e2e-secret-key-only-for-the-end-to-end-tests"
START_TIMEOUT = 30  # seconds for gunicorn to answer /healthz
MAIL_TIMEOUT = 20  # seconds to wait for an expected e-mail
TEXT_SHOWN = 500  # characters of each message shown when a test fails


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``--dist loadgroup``), every browser test runs in one worker, so the
    served portal and its demo data are set up once."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed test, add each open page's address and screenshot and the server logs."""
    report = yield
    opener = item.funcargs.get("open_page") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and isinstance(opener, PageOpener):
        report.sections.append(("e2e pages and server logs", opener.dump()))
    return report


# --- mail -------------------------------------------------------------------------------------


@dataclass
class Mail:
    """One message the SMTP server received."""

    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        """The text part, its white space (line ends, wrapping) collapsed to single spaces."""
        return " ".join(self.message.get_body(preferencelist=("plain",)).get_content().split())

    def links(self, base_url: str) -> list[str]:
        """Every portal link in the text part."""
        return re.findall(re.escape(base_url) + r"/[^\s<>\"')]+", self.text)

    def attachment(self, filename_suffix: str) -> bytes:
        """The content of the first attachment whose file name ends with ``filename_suffix``."""
        for part in self.message.iter_attachments():
            if (part.get_filename() or "").endswith(filename_suffix):
                return part.get_payload(decode=True)
        raise AssertionError(f"no {filename_suffix} attachment in {self.subject!r}")


class Mailbox:
    """aiosmtpd handler keeping every message; tests wait for the ones they expect.

    A message handed to a test by ``wait_for`` is not handed out again, so a test can expect the
    same kind of mail twice (the coordinators receive one per request).
    """

    def __init__(self, base_url: str):
        self.base_url = base_url
        self._mails: list[Mail] = []
        self._taken: set[int] = set()
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        mail = Mail(
            recipients=[address.lower() for address in envelope.rcpt_tos],
            message=message_from_bytes(envelope.original_content, policy=policy.default),
        )
        with self._changed:
            self._mails.append(mail)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, subject: str | re.Pattern, timeout: float = MAIL_TIMEOUT) -> Mail:
        """The first message not yet taken to ``to`` whose subject contains (or matches)
        ``subject``; fails after ``timeout`` seconds, listing what did arrive."""
        to = to.lower()
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index, mail in enumerate(self._mails):
                    if index in self._taken or to not in mail.recipients:
                        continue
                    found = (
                        subject.search(mail.subject)
                        if isinstance(subject, re.Pattern)
                        else subject in mail.subject
                    )
                    if found:
                        self._taken.add(index)
                        return mail
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    arrived = [m.subject for m in self._mails if to in m.recipients]
                    raise AssertionError(
                        f"no mail to {to} with subject {subject!r} within {timeout} s; "
                        f"mails to {to}: {arrived}"
                    )
                self._changed.wait(remaining)

    def link(self, mail: Mail, path_prefix: str) -> str:
        """The first link of ``mail`` to a page under ``path_prefix``."""
        for link in mail.links(self.base_url):
            if link.startswith(self.base_url + path_prefix):
                return link
        raise AssertionError(f"no link to {path_prefix} in {mail.subject!r}:\n{mail.text}")

    def sent_to(self, to: str) -> list[Mail]:
        """Every message received for ``to`` so far."""
        with self._changed:
            return [mail for mail in self._mails if to.lower() in mail.recipients]


# --- the served portal ------------------------------------------------------------------------


@dataclass
class Portal:
    """The running portal and what the tests need to talk to it."""

    base_url: str
    mailbox: Mailbox
    logs: dict[str, Path] = field(default_factory=dict)

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            parts.append(f"--- {name} (last {lines} lines)\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)


def _postgres_admin(url: str):
    """A connection with autocommit to the given PostgreSQL database (for CREATE DATABASE)."""
    import psycopg

    plain = make_url(url).set(drivername="postgresql")
    return psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True)


def _fresh_database(stack: ExitStack, workdir: Path) -> str:
    """The URL of an empty database for the served portal, removed when ``stack`` closes."""
    if not TEST_DATABASE_URL.startswith("postgres"):
        return f"sqlite:///{workdir / 'e2e.sqlite3'}"
    given = make_url(TEST_DATABASE_URL)
    name = f"{given.database}_e2e"
    quoted = '"' + name.replace('"', '""') + '"'
    with _postgres_admin(TEST_DATABASE_URL) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {quoted}")

    def drop():
        with _postgres_admin(TEST_DATABASE_URL) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")

    stack.callback(drop)
    return given.set(database=name).render_as_string(hide_password=False)


def _environment(database_url: str, workdir: Path, base_url: str, smtp_port: int) -> dict:
    """The portal's settings, and nothing of the caller's ``RRC_*`` variables."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("RRC_")}
    environment.update(
        RRC_DATABASE_URL=database_url,
        RRC_INSTANCE_PATH=str(workdir / "instance"),
        RRC_SECRET_KEY=SECRET_KEY,
        RRC_BASE_URL=base_url,
        RRC_MAIL_SERVER="127.0.0.1",
        RRC_MAIL_PORT=str(smtp_port),
        RRC_MAIL_TIMEOUT="5",
        RRC_RATELIMIT_STORAGE_URI="memory://",
        PYTHONUNBUFFERED="1",
    )
    return environment


def _flask(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "rrc", *arguments]


def _gunicorn(port: int) -> list[str]:
    """Two workers of four threads forked from one loaded app; no control socket (gunicorn
    would put it in the home folder, shared by every run)."""
    from gunicorn.config import KNOWN_SETTINGS

    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--preload"]
    command += ["--graceful-timeout", "1", "--bind", f"127.0.0.1:{port}"]
    # The access log (with each response's time) goes to the log shown when a test fails.
    command += ["--access-logfile", "-", "--access-logformat", "%(m)s %(U)s %(s)s %(L)ss"]
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        command.append("--no-control-socket")
    return [*command, "rrc:create_app()"]


def _run(command: list[str], environment: dict) -> None:
    done = subprocess.run(
        command, env=environment, cwd=REPO, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def _start(
    stack: ExitStack,
    name: str,
    command: list[str],
    environment: dict,
    workdir: Path,
    stop_signal: int = signal.SIGTERM,
) -> tuple[subprocess.Popen, Path]:
    """Start a long-running process whose output goes to a log file; ``stack`` stops it with
    ``stop_signal`` (killed if it is still there after 10 s)."""
    log_path = workdir / f"{name}.log"
    log = stack.enter_context(log_path.open("wb"))
    process = subprocess.Popen(
        command, env=environment, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )

    def stop():
        if process.poll() is None:
            process.send_signal(stop_signal)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    stack.callback(stop)
    return process, log_path


def _wait_until_serving(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT} s:\n{log_path.read_text()}")


def chromium_missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"end-to-end tests need Debian's chromium at {CHROMIUM} "
            "(apt-get install chromium); none is installed here"
        )
    return None


@pytest.fixture(scope="session")
def portal():
    """The portal on a fresh database with the demo data, served by gunicorn, mail relayed."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rrc-e2e-")))
        database_url = _fresh_database(stack, workdir)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"

        mailbox = Mailbox(base_url)
        controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
        controller.start()
        stack.callback(controller.stop)

        environment = _environment(database_url, workdir, base_url, controller.port)
        _run(_flask("db", "upgrade"), environment)
        # The demo data loads while the server and the relay start (each start imports the app).
        demo = stack.enter_context(
            subprocess.Popen(
                _flask("demo"),
                env=environment,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
        # SIGINT: gunicorn's quick shutdown (its workers get --graceful-timeout, 1 s, to exit).
        server, server_log = _start(
            stack, "gunicorn", _gunicorn(port), environment, workdir, signal.SIGINT
        )
        _relay, relay_log = _start(
            stack, "mail-relay", _flask("mail-relay", "--interval", "0.2"), environment, workdir
        )
        output, _unused = demo.communicate(timeout=120)
        if demo.returncode != 0:
            raise RuntimeError(f"flask demo failed:\n{output}")
        _wait_until_serving(base_url, server, server_log)
        yield Portal(base_url, mailbox, {"gunicorn": server_log, "mail relay": relay_log})


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(portal):
    """Headless chromium, shared by the session."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


def new_context(browser, portal: Portal, locale: str = "en-US"):
    """A browser context: a separate person, with own cookies, in Seoul."""
    context = browser.new_context(
        base_url=portal.base_url,
        locale=locale,
        timezone_id="Asia/Seoul",
        accept_downloads=True,
    )
    context.set_default_timeout(10_000)
    return context


class StaffSessions:
    """One logged-in browser context per staff member, shared by the tests of the session (each
    logs in once, through the login form); tests open their own pages in it."""

    def __init__(self, browser, portal: Portal):
        self.browser = browser
        self.portal = portal
        self.contexts = {}

    def context(self, email: str, then):
        if email not in self.contexts:
            from tests.e2e.steps import log_in

            context = new_context(self.browser, self.portal)
            page = context.new_page()
            log_in(page, email, then=then)
            page.close()
            self.contexts[email] = context
        return self.contexts[email]

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture(scope="session")
def staff_sessions(browser, portal):
    sessions = StaffSessions(browser, portal)
    yield sessions
    sessions.close()


class PageOpener:
    """Opens pages: ``open_page()`` for a new person (own browser context), or
    ``open_page.staff(email)`` for a page of a staff member who is already logged in."""

    def __init__(self, browser, portal: Portal, staff_sessions: StaffSessions, dump_dir: Path):
        self.browser = browser
        self.portal = portal
        self.staff_sessions = staff_sessions
        self.dump_dir = dump_dir
        self.contexts = []
        self.pages = []

    def __call__(self, locale: str = "en-US"):
        context = new_context(self.browser, self.portal, locale)
        self.contexts.append(context)
        page = context.new_page()
        self.pages.append(page)
        return page

    def staff(self, email: str, then=None):
        """A new page of ``email``'s logged-in session (``then``: the language they use)."""
        from tests.e2e.steps import ENGLISH

        page = self.staff_sessions.context(email, then or ENGLISH).new_page()
        self.pages.append(page)
        page.goto("/")
        return page

    def dump(self) -> str:
        """Where each page stands (address, screenshot) and the tails of the server logs."""
        notes = []
        self.dump_dir.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(self.pages):
            if page.is_closed():
                continue
            shot = self.dump_dir / f"page-{number}.png"
            try:
                page.screenshot(path=str(shot), full_page=True)
                notes.append(f"page {number}: {page.url} (screenshot {shot})")
                # What a person would read first: the messages and the errors by fields.
                for message in page.locator(".alert, .invalid-feedback").all_inner_texts():
                    notes.append("  " + " ".join(message.split())[:TEXT_SHOWN])
            except Exception as error:  # a dump must not hide the failure
                notes.append(f"page {number}: {page.url} (not readable: {error})")
        notes.append(self.portal.log_tail())
        return "\n".join(notes)

    def close(self) -> None:
        for page in self.pages:
            if not page.is_closed():
                page.close()
        for context in self.contexts:
            context.close()


@pytest.fixture
def open_page(browser, portal, staff_sessions, request):
    """``open_page(locale="en-US")`` gives a page in a fresh browser context;
    ``open_page.staff(email)`` a page of a logged-in staff member."""
    dump_dir = (
        Path(tempfile.gettempdir()) / "rrc-e2e-failures" / re.sub(r"\W+", "-", request.node.name)
    )
    opener = PageOpener(browser, portal, staff_sessions, dump_dir)
    yield opener
    opener.close()
