"""Sign-up, verification, vetting and login, end to end through the test client."""

import pytest
from sqlalchemy import func, select

from rrc.extensions import db
from rrc.models import (
    ConsentItem,
    ConsentRecord,
    Organisation,
    OrganisationStatus,
    User,
    UserStatus,
)
from tests.conftest import PASSWORD, link_in, login, outbox, post_form

NEW_PASSWORD = "violet lantern orbit 1987 quay"


def signup_data(**overrides) -> dict:
    """A valid sign-up of a partner proposing a new Korean SME."""
    data = {
        "email": "Min.Ji@Saebyeok-Test.co.kr",
        "password": NEW_PASSWORD,
        "name": "Han Min-ji",
        "phone": "",
        "position": "",
        "organisation_id": "new",
        "org_name": "Saebyeok Test Bio",
        "org_local_name": "새벽테스트바이오",
        "org_type": "sme",
        "org_country": "KR",
        "business_registration_no": "214-87-11111",
        "billing_email": "billing@saebyeok-test.co.kr",
        "org_address": "55 Pangyo-ro, Seongnam",
        "locale": "en",
        "consent_required": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_signup_verify_vet_and_login(client, factory, app):
    coordinator = factory.coordinator(email="coord@ipk.example")
    response = post_form(client, "/signup", signup_data())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/signup/done")

    user = db.session.scalar(select(User).where(User.email == "min.ji@saebyeok-test.co.kr"))
    assert user.status == UserStatus.UNVERIFIED
    assert user.organisation.status == OrganisationStatus.PENDING
    assert user.organisation.tier.value == "sme"
    consents = {record.item: record for record in user.consents}
    assert consents[ConsentItem.REQUIRED].granted is True
    assert consents[ConsentItem.OPTIONAL].granted is False
    assert consents[ConsentItem.REQUIRED].text_version == app.config["CONSENT_VERSION"]
    assert ConsentItem.CROSS_BORDER not in consents  # a Korean organisation

    # Before verification the partner may log in and see their status, nothing more.
    assert login(client, user.email, NEW_PASSWORD).status_code == 302
    assert "E-mail not yet verified" in client.get("/").get_data(as_text=True)
    post_form(client, "/", {}, action="/logout")

    (verification,) = outbox(recipient=user.email)
    assert verification.subject == "Confirm your e-mail address for the IPK RRC portal"
    assert "https://rrc.example.test/verify/" in verification.html_body
    verify_path = link_in(verification)
    page = client.get(verify_path)
    assert page.status_code == 200
    assert b"Confirm my e-mail address" in page.data
    db.session.expire_all()
    assert db.session.get(User, user.id).status == UserStatus.UNVERIFIED  # GET changes nothing
    verified = post_form(client, verify_path, {})
    assert verified.status_code == 200, verified.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).status == UserStatus.PENDING_APPROVAL

    (vetting_mail,) = outbox(recipient=coordinator.email)
    assert "Saebyeok Test Bio" in vetting_mail.subject

    # The coordinator approves from the link in their mail.
    assert login(client, coordinator.email).status_code == 302
    queue = client.get("/staff/vetting/").get_data(as_text=True)
    assert "Han Min-ji" in queue and "Saebyeok Test Bio" in queue
    review_path = link_in(vetting_mail)
    response = post_form(client, review_path, {"decision": "approve"})
    assert response.status_code == 302
    post_form(client, "/", {}, action="/logout")

    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.status == UserStatus.ACTIVE
    assert user.organisation.status == OrganisationStatus.VERIFIED
    assert user.decided_by_id == coordinator.id
    approved = outbox(recipient=user.email, template="account_approved")
    assert len(approved) == 1
    assert approved[0].subject == "Your IPK RRC partner account is approved"

    assert login(client, user.email, NEW_PASSWORD).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Saebyeok Test Bio is active" in home


def test_signup_in_korean_gets_korean_mail(client):
    client.post("/language", data={})  # no CSRF token: refused, language unchanged
    response = post_form(client, "/signup", signup_data(locale="ko"))
    assert response.status_code == 302
    (message,) = outbox()
    assert message.locale == "ko"
    assert "이메일" in message.subject
    assert "https://rrc.example.test/verify/" in message.text_body


def test_signup_with_existing_organisation_and_optional_items(client, factory):
    organisation = factory.organisation(name="Hanbit University")
    response = post_form(
        client,
        "/signup",
        signup_data(
            organisation_id=str(organisation.id),
            org_name="",
            org_type="",
            org_country="",
            billing_email="",
            org_address="",
            business_registration_no="",
            phone="+82 10-1234-5678",
            position="Postdoc",
            consent_optional="y",
        ),
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "min.ji@saebyeok-test.co.kr"))
    assert user.organisation_id == organisation.id
    assert user.phone == "+82 10-1234-5678"
    assert db.session.scalar(select(func.count(Organisation.id))) == 1


def test_foreign_partner_needs_cross_border_consent(client):
    data = signup_data(
        org_country="FR",
        org_type="foreign_academic",
        business_registration_no="",
        org_name="Lyon Lab",
    )
    page = post_form(client, "/signup", data)
    assert page.status_code == 200
    assert "transfer of their data to Korea" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 0
    response = post_form(client, "/signup", {**data, "consent_cross_border": "y"})
    assert response.status_code == 302
    user = db.session.scalar(select(User))
    assert {record.item for record in user.consents} == {
        ConsentItem.REQUIRED,
        ConsentItem.OPTIONAL,
        ConsentItem.CROSS_BORDER,
    }


INVALID_FIELDS = [
    ("email", "not-an-email", "Enter a valid e-mail address."),
    ("email", "", "This field is required."),
    ("password", "short", "Use between 12 and 128 characters."),
    ("password", "x" * 129, "Use between 12 and 128 characters."),
    ("password", "password1234", "too common"),
    ("password", "han min-ji is my password", "Do not use your name"),
    ("password", "saebyeok test bio forever", "Do not use your name"),
    ("name", "", "This field is required."),
    ("phone", "call me maybe", "Digits, spaces and + ( ) - only."),
    ("phone", "010-1234-5678", "Tick the optional consent"),  # shown by the consent box
    ("organisation_id", "", "This field is required."),
    ("organisation_id", "99999", "Not a valid choice."),
    ("org_name", "", "Required for a new organisation."),
    ("org_type", "", "Required for a new organisation."),
    ("org_type", "pirate", "Not a valid choice."),
    ("org_country", "", "Required for a new organisation."),
    ("billing_email", "", "Required for a new organisation."),
    ("billing_email", "billing at example", "Enter a valid e-mail address."),
    ("org_address", "", "Required for a new organisation."),
    ("business_registration_no", "12345", "Use the 10-digit form 000-00-00000."),
    ("business_registration_no", "", "Korean companies must give their business registration"),
    ("consent_required", None, "The required items are needed to open an account."),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID_FIELDS)
def test_signup_bad_input_rerenders_with_message_and_keeps_input(client, field, value, message):
    data = signup_data(**{field: value})
    response = post_form(client, "/signup", data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    # The message sits beside its field, tied to it for assistive technology.
    error_field = "consent_optional" if message.startswith("Tick") else field
    assert f'id="{error_field}-error"' in html
    assert f'aria-describedby="{error_field}-error"' in html or (
        f"{error_field}-hint {error_field}-error" in html
    )
    # The other input is kept (never the password).
    for kept in ("name", "org_address"):
        if kept != field and data.get(kept):
            assert data[kept] in html
    assert NEW_PASSWORD not in html
    # Nothing half-written.
    assert db.session.scalar(select(func.count(User.id))) == 0
    assert db.session.scalar(select(func.count(Organisation.id))) == 0
    assert db.session.scalar(select(func.count(ConsentRecord.id))) == 0
    assert outbox() == []


@pytest.mark.parametrize("variant", ["min.ji@saebyeok-test.co.kr", "MIN.JI@SAEBYEOK-TEST.CO.KR"])
def test_duplicate_email_in_any_case_is_refused(client, factory, variant):
    factory.partner(email="min.ji@saebyeok-test.co.kr")
    response = post_form(client, "/signup", signup_data(email=variant))
    assert response.status_code == 200
    assert "already exists" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 1
    assert db.session.scalar(select(func.count(Organisation.id))) == 1  # the factory's own


def test_duplicate_organisation_is_refused(client, factory):
    factory.organisation(name="Saebyeok Test Bio", country="KR")
    response = post_form(client, "/signup", signup_data())
    assert response.status_code == 200
    assert "already registered" in response.get_data(as_text=True)


def test_unverified_account_cannot_be_vetted_and_pending_cannot_see_staff_pages(client, factory):
    partner = factory.partner(status=UserStatus.PENDING_APPROVAL)
    login(client, partner.email)
    for url in ("/staff/vetting/", "/admin/users", "/admin/mail"):
        assert client.get(url).status_code == 403


def test_rejected_and_suspended_accounts_cannot_log_in(client, factory):
    for status in (UserStatus.REJECTED, UserStatus.SUSPENDED):
        user = factory.partner(status=status)
        response = login(client, user.email, PASSWORD)
        assert response.status_code == 200
        assert "cannot log in" in response.get_data(as_text=True)


def test_profile_edit_and_optional_consent(client, factory):
    partner = factory.partner()
    login(client, partner.email)
    response = post_form(
        client,
        "/account/profile",
        {
            "name": "New Name",
            "phone": "010-2222-3333",
            "position": "",
            "locale": "ko",
            "timezone": "Europe/Paris",
        },
    )
    assert response.status_code == 200
    assert "Tick the optional consent" in response.get_data(as_text=True)
    response = post_form(
        client,
        "/account/profile",
        {
            "name": "New Name",
            "phone": "010-2222-3333",
            "position": "PI",
            "locale": "ko",
            "timezone": "Europe/Paris",
            "consent_optional": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    partner = db.session.get(User, partner.id)
    assert (partner.name, partner.phone, partner.locale, partner.timezone) == (
        "New Name",
        "010-2222-3333",
        "ko",
        "Europe/Paris",
    )
    assert partner.consents[-1].item == ConsentItem.OPTIONAL and partner.consents[-1].granted
    # The interface is now Korean.
    assert "로그아웃" in client.get("/account/profile").get_data(as_text=True)
