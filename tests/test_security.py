"""Security baseline over the whole URL map: login walls, CSRF, safe GETs, headers, cookies."""

import hashlib
import re

import pytest
from sqlalchemy import select, text

from rrc.extensions import db
from rrc.models import OrganisationStatus, User, UserStatus
from rrc.security import is_safe_next
from tests.conftest import csrf_tokens, login, post_form

# Endpoints anyone may open without logging in.
PUBLIC_ENDPOINTS = {
    "static",
    "bootstrap.static",
    "main.home",
    "main.healthz",
    "main.favicon",
    "feeds.resource_subscription",  # the secret URL is the credential; unknown tokens are 404
    "main.set_language",
    "auth.signup",
    "auth.signup_done",
    "auth.login",
    "auth.verify_email",
    "auth.resend_verification",
    "auth.forgot_password",
    "auth.reset_password",
    "catalogue.index",
    "catalogue.resource",
    "catalogue.photo",
    "catalogue.apply",
    "feeds.personal",
    "bookings.week",
}


def sample_url(app, rule) -> str:
    """A URL for ``rule`` with harmless sample values for its arguments."""
    values = {}
    for argument in rule.arguments:
        converter = rule._converters[argument].__class__.__name__
        values[argument] = 1 if converter == "IntegerConverter" else "sample"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def rules(app, method: str):
    return [rule for rule in app.url_map.iter_rules() if method in rule.methods]


def test_every_non_public_page_asks_for_login(app, client):
    checked = 0
    for rule in rules(app, "GET"):
        url = sample_url(app, rule)
        response = client.get(url)
        if rule.endpoint in PUBLIC_ENDPOINTS:
            assert response.status_code in (200, 400, 404), (rule.endpoint, response.status_code)
            continue
        checked += 1
        assert response.status_code == 302, rule.endpoint
        assert response.headers["Location"].startswith("/login?next="), rule.endpoint
    tokens = csrf_tokens(client.get("/login").get_data(as_text=True))
    for rule in rules(app, "POST"):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        # With a valid CSRF token, the login wall is what stops an anonymous POST.
        response = client.post(sample_url(app, rule), data=tokens)
        assert response.status_code == 302, rule.endpoint
        assert response.headers["Location"].startswith("/login?next="), rule.endpoint
        checked += 1
    assert checked >= 20


def test_every_post_without_csrf_token_is_refused(app, client, factory):
    admin = factory.admin()
    login(client, admin.email)
    for rule in rules(app, "POST"):
        response = client.post(sample_url(app, rule), data={"email": "x@example.org"})
        assert response.status_code == 400, rule.endpoint
        assert "Bad request" in response.get_data(as_text=True)


def database_fingerprint() -> str:
    """A digest of every row of every table."""
    digest = hashlib.sha256()
    db.session.commit()
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(table.name.encode())
        digest.update(repr(rows).encode())
    return digest.hexdigest()


@pytest.mark.parametrize("role", ["anonymous", "partner", "admin"])
def test_no_endpoint_changes_state_on_get(app, client, factory, role):
    # Something in every table, and an object behind every sample id (1).
    admin = factory.admin()
    partner = factory.partner(status=UserStatus.PENDING_APPROVAL)
    partner.organisation.status = OrganisationStatus.PENDING
    from rrc.mail.outbox import queue_mail

    queue_mail("account_approved", recipient=partner, idempotency_key="sample", link="x")
    db.session.commit()
    if role == "partner":
        login(client, factory.partner().email)
    elif role == "admin":
        login(client, admin.email)
    before = database_fingerprint()
    for rule in rules(app, "GET"):
        if rule.endpoint in ("static", "bootstrap.static"):
            continue
        response = client.get(sample_url(app, rule))
        assert response.status_code < 500, rule.endpoint
        assert database_fingerprint() == before, f"GET {rule.endpoint} changed the database"


def test_security_headers(client):
    response = client.get("/login")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    # The page itself has no inline script for the CSP to block.
    html = response.get_data(as_text=True)
    assert "<script>" not in html and "onclick=" not in html


def test_static_files_may_be_cached_pages_may_not(client):
    page = client.get("/")
    assert page.headers["Cache-Control"] == "no-store"
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.get_data(as_text=True))
    assert any(url.startswith("/bootstrap/") for url in stylesheets), stylesheets
    for url in stylesheets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.headers.get("Cache-Control", ""), url
        assert "max-age=3600" in response.headers["Cache-Control"], url
        response.close()


def test_session_and_remember_cookie_flags(client, factory):
    partner = factory.partner()
    response = post_form(
        client,
        "/login",
        {"email": partner.email, "password": "correct horse battery staple 42", "remember": "y"},
    )
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(cookie for cookie in cookies if cookie.startswith("session="))
    remember_cookie = next(cookie for cookie in cookies if cookie.startswith("remember_token="))
    for cookie in (session_cookie, remember_cookie):
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


def test_passwords_are_stored_as_argon2id(client):
    from tests.test_accounts import signup_data

    post_form(client, "/signup", signup_data())
    stored = db.session.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$")
    raw = db.session.execute(text('SELECT password_hash FROM "user"')).scalar()
    assert "violet" not in raw


def test_healthz_touches_nothing(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/account/profile", True),
        ("/staff/vetting/?x=1", True),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("https://evil.example", False),
        ("javascript:alert(1)", False),
        ("", False),
        (None, False),
        ("/\tevil", False),
    ],
)
def test_is_safe_next(target, safe):
    assert is_safe_next(target) is safe


def test_language_switch_is_post_only_and_local(client):
    assert client.get("/language").status_code == 405
    response = post_form(
        client, "/login", {"language": "ko", "next": "https://evil.example"}, action="/language"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "로그인" in client.get("/login").get_data(as_text=True)
    assert post_form(client, "/login", {"language": "xx"}, action="/language").status_code == 400


def test_mail_html_preview_is_sandboxed(client, factory):
    admin = factory.admin()
    from rrc.mail.outbox import queue_mail

    queue_mail("account_approved", recipient=admin, idempotency_key="k", link="x")
    db.session.commit()
    login(client, admin.email)
    response = client.get("/admin/mail/1/html")
    assert response.status_code == 200
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "script-src" not in response.headers["Content-Security-Policy"]
