"""The reminder digest: one mail per decider per day, listing exactly the overdue requests."""

import re
from datetime import timedelta

import pytest

from rrc.extensions import db
from rrc.models import OutboxMessage
from rrc.models.types import utcnow
from rrc.requests import reminders, services
from rrc.requests.queries import overdue_steps
from tests.conftest import outbox
from tests.test_request_queue import (  # noqa: F401 - cast and world are fixtures
    age,
    approve_current,
    cast,
    service,
    submitted,
    world,
)

REFERENCE = re.compile(r"RRC-\d{4}-\d{5}")


def digests() -> list[OutboxMessage]:
    return outbox(template="remind_digest")


def listed_in(message: OutboxMessage) -> set[str]:
    """The references a digest lists (text part; the HTML part lists the same)."""
    text = set(REFERENCE.findall(message.text_body))
    assert set(REFERENCE.findall(message.html_body)) == text
    return text


@pytest.fixture
def overdue(world):  # noqa: F811 - the imported fixture
    """Age the steps: some past the two-day limit, some not."""
    requests = world.requests
    age(requests["a_coordinator"], days=3)  # overdue, coordinator
    age(requests["b_coordinator"], days=1, hours=20)  # not yet
    age(requests["a_manager"], days=5)  # overdue, facility A's managers (manager A and deputy)
    age(requests["b_manager"], days=2, hours=1)  # overdue, manager B
    age(requests["a_assigned"], days=4)  # overdue, assigned to the deputy alone
    # a_biosafety stays fresh; sent-back, decided and draft requests never remind anyone.
    requests["a_changes"].steps[1].pending_since = utcnow() - timedelta(days=9)
    db.session.commit()
    return world


def test_one_digest_per_decider_listing_exactly_the_overdue(overdue):
    people, requests = overdue.people, overdue.requests
    run = reminders.send_digests()
    db.session.commit()
    ref = {name: request.reference for name, request in requests.items()}
    by_recipient = {message.recipient: message for message in digests()}
    assert len(digests()) == len(by_recipient)  # one each
    expected = {
        people["coordinator"].email: {ref["a_coordinator"]},
        people["manager_a"].email: {ref["a_manager"]},
        people["deputy"].email: {ref["a_manager"], ref["a_assigned"]},
        people["manager_b"].email: {ref["b_manager"]},
    }
    assert {email: listed_in(message) for email, message in by_recipient.items()} == expected
    assert run.overdue == 4 and len(run.queued) == 4 and run.already_sent == []
    deputy_mail = by_recipient[people["deputy"].email]
    assert deputy_mail.subject == "Reminder: 2 requests wait for your decision"
    assert deputy_mail.locale == "en"
    body = deputy_mail.text_body
    assert f"https://rrc.example.test/requests/{ref['a_assigned']}" in body
    assert "https://rrc.example.test/staff/requests/waiting" in body
    assert "Phenotypic screening" in body and requests["a_manager"].organisation.name in body
    assert "Facility manager review" in body
    assert "waiting 5 days" in body and "waiting 4 days" in body
    assert body.index(ref["a_manager"]) < body.index(ref["a_assigned"])  # longest waiting first
    assert f'href="https://rrc.example.test/requests/{ref["a_manager"]}"' in deputy_mail.html_body


def test_recipients_match_the_workflow_deciders(overdue):
    """Everyone reminded of a step is exactly who services.deciders names for it."""
    _, recipients = reminders.digests(utcnow(), 2)
    reminded: dict[int, set[int]] = {}
    for user, items in recipients:
        for item in items:
            reminded.setdefault(item.step.id, set()).add(user.id)
    steps = overdue_steps(utcnow() - timedelta(days=2))
    assert {step.id for step in steps} == set(reminded)
    for step in steps:
        expected = {user.id for user in services.deciders(step.resource_request, step)}
        assert reminded[step.id] == expected, step.resource_request.reference


def test_twice_a_day_mails_once_and_next_day_again(overdue):
    now = utcnow()
    reminders.send_digests(now)
    db.session.commit()
    first = len(digests())
    assert first == 4
    again = reminders.send_digests(now + timedelta(hours=1))
    db.session.commit()
    assert len(digests()) == first
    assert again.queued == [] and len(again.already_sent) == 4
    tomorrow = reminders.send_digests(now + timedelta(days=1))
    db.session.commit()
    assert len(tomorrow.queued) == 4 and len(digests()) == 2 * first
    # A day later the coordinator's second request is overdue too.
    coordinator = overdue.people["coordinator"].email
    latest = [message for message in digests() if message.recipient == coordinator][-1]
    assert listed_in(latest) == {
        overdue.requests["a_coordinator"].reference,
        overdue.requests["b_coordinator"].reference,
    }


def test_korean_decider_gets_a_korean_digest(overdue):
    coordinator = overdue.people["coordinator"]
    coordinator.locale = "ko"
    db.session.commit()
    reminders.send_digests()
    db.session.commit()
    (message,) = [m for m in digests() if m.recipient == coordinator.email]
    assert message.locale == "ko"
    assert "RRC 코디네이터 심사" in message.text_body  # the step's label, in Korean
    assert '<html lang="ko">' in message.html_body


def test_the_day_is_the_recipients_local_day(overdue):
    """A decider in Seoul gets one digest per Seoul day, whatever the UTC date."""
    people = overdue.people
    manager_a = people["manager_a"]
    assert manager_a.timezone == "Asia/Seoul"
    evening_utc = utcnow().replace(hour=16, minute=0, second=0, microsecond=0)  # 01:00 in Seoul
    reminders.send_digests(evening_utc)
    reminders.send_digests(evening_utc + timedelta(hours=10))  # 11:00 Seoul, next UTC day
    db.session.commit()
    assert len([m for m in digests() if m.recipient == manager_a.email]) == 1


def test_nothing_sent_when_nothing_is_overdue(world):  # noqa: F811
    run = reminders.send_digests()
    db.session.commit()
    assert digests() == []
    assert run.overdue == 0 and run.queued == []


def test_admins_are_reminded_only_when_nobody_else_can_decide(cast, factory):  # noqa: F811
    people = cast.people
    orphan_facility = factory.facility(code="FAC-NOBODY", name="Unmanaged suite")
    orphan = service(factory, orphan_facility, code="SVC-ORPHAN", name="Orphan service")
    resource_request = submitted(people["partner"], orphan)
    approve_current(people["coordinator"], resource_request)
    age(resource_request, days=3)
    reminders.send_digests()
    db.session.commit()
    assert [message.recipient for message in digests()] == [people["admin"].email]


def test_remind_after_days_is_configurable(overdue, app):
    app.config["REMIND_AFTER_DAYS"] = 4
    run = reminders.send_digests()
    db.session.commit()
    assert run.overdue == 2  # five and four days
    assert {message.recipient for message in digests()} == {
        overdue.people["manager_a"].email,
        overdue.people["deputy"].email,
    }


def test_user_text_is_escaped_in_the_html_digest(overdue):
    organisation = overdue.requests["a_coordinator"].organisation
    organisation.name = "<script>alert(1)</script> Lab"
    db.session.commit()
    reminders.send_digests()
    db.session.commit()
    (message,) = [m for m in digests() if m.recipient == overdue.people["coordinator"].email]
    assert "<script>" not in message.html_body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Lab" in message.html_body


def test_remind_command(overdue, runner):
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0, result.output
    assert "Reminder digests: 4 queued, 0 already sent today; 4 overdue step(s)" in result.output
    assert len(digests()) == 4
    result = runner.invoke(args=["remind"])
    assert "0 queued, 4 already sent today" in result.output
    assert len(digests()) == 4
