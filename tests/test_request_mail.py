"""The mail each transition sends, by recipient and subject, in English and in Korean."""

import pytest

from rrc.extensions import db
from rrc.requests import services
from tests.conftest import full_draft, outbox

ENGLISH = {
    "received": "{ref} received: under review",
    "waiting_coordinator": "{ref} waits for your decision (RRC coordinator review)",
    "waiting_manager": "{ref} waits for your decision (Facility manager review)",
    "changes": "{ref}: changes requested",
    "resubmitted": "{ref} resubmitted for your review",
    "waiting_biosafety": "{ref} waits for your decision (Biosafety review)",
    "approved": "{ref} approved",
    "started": "{ref}: work has started",
    "completed": "{ref} completed",
    "comment_from_staff": "{ref}: new comment from Manager Person",
    "comment_from_partner": "{ref}: new comment from Partner Person",
    "rejected": "{ref} was not approved",
    "cancelled": "{ref} cancelled by the requester",
}


def run_life(people, pathogen):
    """Walk one request through every transition; return the mails by step name."""
    partner, coordinator = people["partner"], people["coordinator"]
    manager, biosafety = people["manager"], people["biosafety"]
    mails = {}
    draft = full_draft(partner, pathogen)
    seen = {message.id for message in outbox()}

    def new_for(user):
        nonlocal seen
        fresh = [m for m in outbox() if m.id not in seen]
        seen |= {m.id for m in fresh}
        return [m for m in fresh if m.recipient == user.email], fresh

    services.submit(partner, draft)
    db.session.commit()
    _, fresh = new_for(partner)
    mails["received"] = [m for m in fresh if m.recipient == partner.email]
    mails["waiting_coordinator"] = [m for m in fresh if m.recipient == coordinator.email]
    services.approve(coordinator, draft, draft.current_step.id)
    db.session.commit()
    mails["waiting_manager"], _ = new_for(manager)
    services.add_comment(manager, draft, "Which passage number?")
    db.session.commit()
    mails["comment_from_staff"], _ = new_for(partner)
    services.add_comment(partner, draft, "Passage 3.")
    db.session.commit()
    mails["comment_from_partner"], _ = new_for(manager)
    services.request_changes(manager, draft, draft.current_step.id, "Add the dry ice.")
    db.session.commit()
    mails["changes"], _ = new_for(partner)
    services.resubmit(partner, draft)
    db.session.commit()
    mails["resubmitted"], _ = new_for(manager)
    services.approve(manager, draft, draft.current_step.id)
    db.session.commit()
    mails["waiting_biosafety"], _ = new_for(biosafety)
    services.approve(biosafety, draft, draft.current_step.id)
    db.session.commit()
    mails["approved"], _ = new_for(partner)
    services.start(manager, draft)
    db.session.commit()
    mails["started"], _ = new_for(partner)
    services.complete(manager, draft)
    db.session.commit()
    mails["completed"], _ = new_for(partner)

    second = full_draft(partner, pathogen)
    services.submit(partner, second)
    db.session.commit()
    new_for(partner)
    services.reject(coordinator, second, second.current_step.id, "No licence.")
    db.session.commit()
    mails["rejected"], _ = new_for(partner)

    third = full_draft(partner, pathogen)
    services.submit(partner, third)
    db.session.commit()
    new_for(partner)
    services.cancel(partner, third, "Plans changed.")
    db.session.commit()
    mails["cancelled"], _ = new_for(coordinator)
    return draft, second, third, mails


def test_each_transition_mails_the_right_people_in_english(people, pathogen):
    draft, second, third, mails = run_life(people, pathogen)
    references = {"rejected": second.reference, "cancelled": third.reference}
    for name, template in ENGLISH.items():
        ref = references.get(name, draft.reference)
        assert [m.subject for m in mails[name]] == [template.format(ref=ref)], name
        message = mails[name][0]
        assert message.locale == "en"
        assert f"https://rrc.example.test/requests/{ref}" in message.text_body
    # Reviewers' wording never calls a request under review "confirmed".
    assert "confirmed" not in mails["received"][0].text_body.replace("nothing is confirmed", "")
    assert "No licence." in mails["rejected"][0].text_body
    assert "Add the dry ice." in mails["changes"][0].text_body


def test_each_transition_mails_in_korean(people, pathogen):
    for person in people.values():
        if hasattr(person, "locale"):
            person.locale = "ko"
    db.session.commit()
    _draft, _second, _third, mails = run_life(people, pathogen)
    for name, messages in mails.items():
        assert len(messages) == 1, name
        message = messages[0]
        assert message.locale == "ko", name
        assert any("\uac00" <= character <= "\ud7a3" for character in message.subject), (
            name,
            message.subject,
        )
        assert "Hello" not in message.text_body
        assert "안녕하세요" in message.text_body


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_comment_payloads_are_escaped_in_html_mail(people, pathogen, payload):
    draft = full_draft(people["partner"], pathogen)
    services.submit(people["partner"], draft)
    services.add_comment(people["coordinator"], draft, payload)
    db.session.commit()
    (message,) = [m for m in outbox(recipient=people["partner"].email) if "comment" in m.subject]
    assert payload not in message.html_body
    assert payload in message.text_body
