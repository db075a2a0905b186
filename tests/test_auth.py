"""Tokens, login throttling, safe redirects, sessions and passwords."""

import time
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from rrc.auth.tokens import TokenPurpose, make_token
from rrc.extensions import db
from rrc.models import AuditLog, User, UserStatus
from tests.conftest import PASSWORD, link_in, login, outbox, post_form

NEW_PASSWORD = "amber quokka tidal 5150 fern"


def reset_link(client, email: str) -> str:
    post_form(client, "/password/forgot", {"email": email})
    (message,) = outbox(template="reset_password", recipient=email)
    return link_in(message)


# --- tokens ------------------------------------------------------------------------------


def test_password_reset_works_once(client, factory):
    partner = factory.partner()
    path = reset_link(client, partner.email)
    assert client.get(path).status_code == 200
    response = post_form(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert login(client, partner.email, NEW_PASSWORD).status_code == 302
    post_form(client, "/", {}, action="/logout")
    # Reused: refused with a clear page, on GET and on POST.
    reused = client.get(path)
    assert reused.status_code == 400
    assert "already been used" in reused.get_data(as_text=True)


def test_expired_token_is_refused(client, factory, app):
    partner = factory.partner()
    path = reset_link(client, partner.email)
    app.config["TOKEN_MAX_AGE_HOURS"] = 0
    time.sleep(1.1)
    response = client.get(path)
    assert response.status_code == 400
    assert "has expired" in response.get_data(as_text=True)


def test_tampered_token_is_refused(client, factory, app):
    partner = factory.partner()
    path = reset_link(client, partner.email)
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    response = client.get(tampered)
    assert response.status_code == 400
    assert "altered" in response.get_data(as_text=True)
    # A token signed with another key for another user is refused too.
    forged = URLSafeTimedSerializer("guess", salt="rrc-reset-password").dumps({"u": 1, "f": "x"})
    assert client.get(f"/password/reset/{forged}").status_code == 400
    # A verification token cannot reset a password.
    verify_token = make_token(partner, TokenPurpose.VERIFY_EMAIL)
    assert client.get(f"/password/reset/{verify_token}").status_code == 400


def test_reset_token_dies_with_a_password_change(client, factory):
    partner = factory.partner()
    path = reset_link(client, partner.email)
    login(client, partner.email)
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    post_form(client, "/", {}, action="/logout")
    response = client.get(path)
    assert response.status_code == 400
    assert "already been used" in response.get_data(as_text=True)


def test_verification_link_used_twice(client, factory):
    partner = factory.partner(status=UserStatus.UNVERIFIED)
    path = f"/verify/{make_token(partner, TokenPurpose.VERIFY_EMAIL)}"
    assert post_form(client, path, {}).status_code == 200
    second = client.get(path)
    assert second.status_code == 400
    assert "already confirmed" in second.get_data(as_text=True)


def test_forgot_password_says_the_same_for_unknown_addresses(client, factory):
    known = post_form(client, "/password/forgot", {"email": factory.partner().email})
    unknown = post_form(client, "/password/forgot", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert len(outbox(template="reset_password")) == 1


def test_resend_verification(client, factory):
    partner = factory.partner(status=UserStatus.UNVERIFIED)
    post_form(client, "/verify/resend", {"email": partner.email.upper()})
    (message,) = outbox(template="verify_email")
    assert post_form(client, link_in(message), {}).status_code == 200
    db.session.expire_all()
    assert db.session.get(User, partner.id).status == UserStatus.PENDING_APPROVAL


# --- login throttling --------------------------------------------------------------------


def test_sixth_failed_login_gets_429(client, factory):
    partner = factory.partner()
    for _ in range(5):
        response = login(client, partner.email, "wrong password entirely")
        assert response.status_code == 200
        assert "not correct" in response.get_data(as_text=True)
    sixth = login(client, partner.email, PASSWORD)  # even the right password is held back
    assert sixth.status_code == 429
    assert "Too many attempts" in sixth.get_data(as_text=True)
    failures = db.session.scalars(select(AuditLog).where(AuditLog.action == "auth.login_failed"))
    assert len(list(failures)) == 6


def test_successful_login_does_not_count(client, factory):
    partner = factory.partner()
    for _ in range(4):
        login(client, partner.email, "wrong password entirely")
    assert login(client, partner.email).status_code == 302
    post_form(client, "/", {}, action="/logout")
    fifth_failure = login(client, partner.email, "wrong password entirely")
    assert fifth_failure.status_code == 200
    assert login(client, partner.email, "wrong password entirely").status_code == 429


def test_throttle_is_per_address_too(client, factory):
    for number in range(5):
        login(client, f"nobody{number}@example.org", "wrong password entirely")
    other = factory.partner()
    assert login(client, other.email).status_code == 429
    # Another address can still log in to that account.
    other_client = client.application.test_client()
    response = post_form(
        other_client,
        "/login",
        {"email": other.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert response.status_code == 302


# --- redirects, sessions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%0d%0aevil",
    ],
)
def test_next_only_to_this_site(client, factory, target):
    partner = factory.partner()
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200
    response = post_form(
        client,
        "/login",
        {"email": partner.email, "password": PASSWORD},
        action=f"/login?next={target}",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_to_local_page_is_followed(client, factory):
    partner = factory.partner()
    response = post_form(
        client,
        "/login",
        {"email": partner.email, "password": PASSWORD},
        action="/login?next=/account/profile",
    )
    assert response.headers["Location"] == "/account/profile"


def test_login_required_redirects_with_next(client):
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_session_rotates_at_login(client, factory):
    partner = factory.partner()
    client.get("/login")
    before = client.get_cookie("session").value
    login(client, partner.email)
    after = client.get_cookie("session").value
    assert before != after
    # The anonymous CSRF token does not survive into the authenticated session.
    with client.session_transaction() as session:
        assert "csrf_token" not in session or session["_user_id"]
        assert session["_user_id"] == f"{partner.id}:{partner.login_token}"


def test_change_password_ends_other_sessions(client, factory, app):
    partner = factory.partner()
    other_device = app.test_client()
    login(other_device, partner.email)
    assert other_device.get("/account/profile").status_code == 200
    login(client, partner.email)
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/account/profile").status_code == 200  # this session goes on
    assert other_device.get("/account/profile").status_code == 302  # the other one is over
    (notice,) = outbox(template="password_changed")
    assert notice.recipient == partner.email


def test_change_password_checks_current_and_policy(client, factory):
    partner = factory.partner()
    login(client, partner.email)
    wrong = post_form(
        client,
        "/account/password",
        {
            "current_password": "nope nope nope",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert "current password is not correct" in wrong.get_data(as_text=True)
    weak = post_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "passwordpassword",
            "confirm": "passwordpassword",
        },
    )
    assert "too common" in weak.get_data(as_text=True)
    mismatch = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": "other"},
    )
    assert "The two passwords differ." in mismatch.get_data(as_text=True)


def test_logout_everywhere(client, factory, app):
    partner = factory.partner()
    other_device = app.test_client()
    login(other_device, partner.email)
    login(client, partner.email)
    response = post_form(client, "/account/profile", {}, action="/account/logout-everywhere")
    assert response.status_code == 302
    assert client.get("/account/profile").status_code == 302
    assert other_device.get("/account/profile").status_code == 302


def test_remember_me_cookie_is_ended_by_logout_everywhere(client, factory, app):
    partner = factory.partner()
    post_form(client, "/login", {"email": partner.email, "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.secure and remember.http_only
    # A new browser session with only the remember cookie is logged in...
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value, domain="localhost")
    assert fresh.get("/account/profile").status_code == 200
    # ...until the user logs out everywhere.
    post_form(client, "/account/profile", {}, action="/account/logout-everywhere")
    stale = app.test_client()
    stale.set_cookie("remember_token", remember.value, domain="localhost")
    assert stale.get("/account/profile").status_code == 302


def test_session_lifetime_is_limited(client, factory, app):
    partner = factory.partner()
    login(client, partner.email)
    cookie = client.get_cookie("session")
    assert cookie.expires is not None
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    assert lifetime == timedelta(hours=app.config["SESSION_LIFETIME_HOURS"])


def test_signup_and_reset_are_rate_limited(client, app):
    from tests.test_accounts import signup_data

    app.config["SIGNUP_LIMIT"] = "2 per hour"
    # Forms sent back with errors don't count: a person fixing typos is never locked out.
    for _ in range(4):
        assert post_form(client, "/signup", {"email": "bad"}).status_code == 200
    for number in range(2):
        created = post_form(
            client,
            "/signup",
            signup_data(email=f"person{number}@example.org", org_name=f"Org {number}"),
        )
        assert created.status_code == 302
    limited = post_form(client, "/signup", {"email": "bad"})
    assert limited.status_code == 429
    assert "Too many attempts" in limited.get_data(as_text=True)
    reset_limit = int(app.config["RESET_LIMIT"].split()[0])
    for _ in range(reset_limit):
        assert post_form(client, "/password/forgot", {"email": "a@b.example"}).status_code == 302
    assert post_form(client, "/password/forgot", {"email": "a@b.example"}).status_code == 429
