"""A login ends after the idle limit and after the absolute lifetime, however active."""

import pytest

from rrc.auth import session as session_module
from tests.conftest import login, post_form


class Clock:
    """A movable clock for the session checks."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.moment = start

    def __call__(self) -> float:
        return self.moment

    def advance(self, minutes: float) -> None:
        self.moment += minutes * 60


@pytest.fixture
def clock(monkeypatch):
    moving = Clock()
    monkeypatch.setattr(session_module, "now", moving)
    return moving


def logged_in(client) -> bool:
    response = client.get("/account/profile")
    return response.status_code == 200


def test_a_session_idle_longer_than_the_limit_ends(app, client, factory, clock):
    partner = factory.partner()
    login(client, partner.email)
    assert logged_in(client)
    clock.advance(app.config["SESSION_IDLE_MINUTES"] - 1)
    assert logged_in(client)
    clock.advance(app.config["SESSION_IDLE_MINUTES"] + 1)
    response = client.get("/account/profile", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/login"
    assert "Your session has expired. Please log in again." in page


def test_an_active_session_still_ends_at_its_lifetime(app, client, factory, clock):
    partner = factory.partner()
    login(client, partner.email)
    step = app.config["SESSION_IDLE_MINUTES"] - 5
    elapsed = 0
    while elapsed + step < app.config["SESSION_LIFETIME_HOURS"] * 60:
        clock.advance(step)
        elapsed += step
        assert logged_in(client), f"logged out after {elapsed} active minutes"
    clock.advance(step)
    assert not logged_in(client)


def test_remember_me_starts_a_new_login_after_the_idle_limit(app, client, factory, clock):
    partner = factory.partner()
    post_form(
        client,
        "/login",
        {"email": partner.email, "password": "correct horse battery staple 42", "remember": "y"},
    )
    clock.advance(app.config["SESSION_IDLE_MINUTES"] + 1)
    page = client.get("/account/profile")
    assert page.status_code == 200
    assert "Your session has expired" not in page.get_data(as_text=True)
    # The cookie login starts a new clock: the session lives on from here.
    clock.advance(app.config["SESSION_IDLE_MINUTES"] - 1)
    assert logged_in(client)


def test_a_session_without_a_login_time_is_not_trusted(app, client, factory, clock):
    partner = factory.partner()
    login(client, partner.email)
    with client.session_transaction() as stored:
        del stored["auth_at"]
    assert not logged_in(client)
