"""Vetting decisions, staff administration and their permissions."""

import pytest
from sqlalchemy import select

from rrc.extensions import db
from rrc.models import (
    AuditLog,
    Capability,
    Organisation,
    OrganisationStatus,
    User,
    UserKind,
    UserStatus,
)
from tests.conftest import PASSWORD, csrf_tokens, link_in, login, outbox, post_form


@pytest.fixture
def pending(factory):
    """A partner waiting for vetting, with a proposed organisation."""
    organisation = factory.organisation(name="Mirae Test", status=OrganisationStatus.PENDING)
    return factory.partner(
        organisation=organisation, status=UserStatus.PENDING_APPROVAL, name="Yoon Ji-min"
    )


def test_queue_lists_oldest_first_with_everything_submitted(client, factory, pending):
    later_org = factory.organisation(name="Later Org", status=OrganisationStatus.PENDING)
    later = factory.partner(organisation=later_org, status=UserStatus.PENDING_APPROVAL)
    from datetime import timedelta

    from rrc.models.types import utcnow

    pending.email_verified_at = utcnow() - timedelta(days=2)
    later.email_verified_at = utcnow() - timedelta(days=1)
    db.session.commit()
    login(client, factory.coordinator().email)
    html = client.get("/staff/vetting/").get_data(as_text=True)
    assert html.index(pending.email) < html.index(later.email)
    assert html.index("Mirae Test") < html.index("Later Org")
    detail = client.get(f"/staff/vetting/users/{pending.id}").get_data(as_text=True)
    for value in (
        pending.email,
        "Mirae Test",
        pending.organisation.billing_email,
        pending.organisation.address,
    ):
        assert value in detail


def test_reject_needs_a_reason_and_mails_it(client, factory, pending):
    coordinator = factory.coordinator()
    login(client, coordinator.email)
    url = f"/staff/vetting/users/{pending.id}"
    response = post_form(client, url, {"decision": "reject", "reason": "  "})
    assert response.status_code == 200
    assert "Give a reason for the rejection." in response.get_data(as_text=True)
    assert outbox() == []
    response = post_form(client, url, {"decision": "reject", "reason": "No affiliation shown."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, pending.id).status == UserStatus.REJECTED
    (mail,) = outbox(recipient=pending.email)
    assert "No affiliation shown." in mail.text_body and "No affiliation shown." in mail.html_body
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "vetting.user_rejected"))
    assert entry.actor_id == coordinator.id


def test_second_decision_is_explained_not_an_error(client, factory, pending):
    first = factory.coordinator(name="First Coordinator")
    login(client, first.email)
    post_form(client, f"/staff/vetting/users/{pending.id}", {"decision": "approve"})
    post_form(client, "/", {}, action="/logout")
    login(client, factory.coordinator().email)
    page = client.get(f"/staff/vetting/users/{pending.id}")
    tokens = csrf_tokens(page.get_data(as_text=True))
    response = client.post(
        f"/staff/vetting/users/{pending.id}",
        data={**tokens, "decision": "reject", "reason": "late"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "already decided" in response.get_data(as_text=True)
    assert "First Coordinator" in response.get_data(as_text=True)
    assert len(outbox(template="account_approved")) == 1


def test_rejecting_an_organisation_rejects_its_waiting_members(client, factory, pending):
    login(client, factory.coordinator().email)
    response = post_form(
        client,
        f"/staff/vetting/organisations/{pending.organisation_id}",
        {"decision": "reject", "reason": "Not a legal entity."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, pending.organisation_id).status == (
        OrganisationStatus.REJECTED
    )
    assert db.session.get(User, pending.id).status == UserStatus.REJECTED
    (mail,) = outbox(recipient=pending.email)
    assert "could not verify your organisation" in mail.text_body


def test_approving_organisation_alone_then_person(client, factory, pending):
    login(client, factory.coordinator().email)
    post_form(
        client, f"/staff/vetting/organisations/{pending.organisation_id}", {"decision": "approve"}
    )
    db.session.expire_all()
    assert pending.organisation.status == OrganisationStatus.VERIFIED
    assert pending.status == UserStatus.PENDING_APPROVAL
    post_form(client, f"/staff/vetting/users/{pending.id}", {"decision": "approve"})
    db.session.expire_all()
    assert pending.status == UserStatus.ACTIVE


@pytest.mark.parametrize("role", ["partner", "facility_manager", "biosafety_officer"])
def test_only_coordinators_vet(client, factory, pending, role):
    if role == "partner":
        user = factory.partner(is_org_manager=True)
    else:
        user = factory.staff(**{f"is_{role}": True})
    login(client, user.email)
    assert client.get("/staff/vetting/").status_code == 403
    assert client.get(f"/staff/vetting/users/{pending.id}").status_code == 403
    response = client.post(f"/staff/vetting/users/{pending.id}", data={"decision": "approve"})
    assert response.status_code in (400, 403)
    db.session.expire_all()
    assert pending.status == UserStatus.PENDING_APPROVAL


def test_coordinator_sets_organisation_manager(client, factory):
    partner = factory.partner()
    login(client, factory.coordinator().email)
    post_form(
        client,
        f"/staff/vetting/users/{partner.id}",
        {"is_manager": "1"},
        action=f"/staff/vetting/users/{partner.id}/manager",
    )
    db.session.expire_all()
    assert partner.is_org_manager is True
    post_form(
        client,
        f"/staff/vetting/users/{partner.id}",
        {"is_manager": "0"},
        action=f"/staff/vetting/users/{partner.id}/manager",
    )
    db.session.expire_all()
    assert partner.is_org_manager is False


def test_admin_creates_staff_who_sets_password_from_mail(client, factory):
    admin = factory.admin()
    login(client, admin.email)
    response = post_form(
        client,
        "/admin/users/new",
        {
            "email": "New.Manager@IPK.example",
            "name": "New Manager",
            "capabilities": ["facility_manager", "biosafety_officer"],
            "locale": "en",
        },
    )
    assert response.status_code == 302
    staff = db.session.scalar(select(User).where(User.email == "new.manager@ipk.example"))
    assert staff.kind == UserKind.STAFF and staff.status == UserStatus.ACTIVE
    assert staff.capabilities == [Capability.FACILITY_MANAGER, Capability.BIOSAFETY_OFFICER]
    post_form(client, "/", {}, action="/logout")
    (welcome,) = outbox(recipient=staff.email)
    path = link_in(welcome)
    new_password = "granite swallow 4417 meadow"
    post_form(client, path, {"password": new_password, "confirm": new_password})
    assert login(client, staff.email, new_password).status_code == 302
    # Duplicate e-mail in another case is refused beside the field.
    post_form(client, "/", {}, action="/logout")
    login(client, admin.email)
    again = post_form(
        client,
        "/admin/users/new",
        {"email": "NEW.MANAGER@ipk.example", "name": "X", "locale": "en"},
    )
    assert again.status_code == 200 and "already exists" in again.get_data(as_text=True)


def test_admin_grants_capabilities_and_cannot_drop_own_admin(client, factory):
    admin = factory.admin()
    staff = factory.staff()
    login(client, admin.email)
    post_form(
        client,
        f"/admin/users/{staff.id}",
        {"capabilities": ["coordinator"]},
        action=f"/admin/users/{staff.id}/capabilities",
    )
    db.session.expire_all()
    assert staff.capabilities == [Capability.COORDINATOR]
    response = post_form(
        client,
        f"/admin/users/{admin.id}",
        {"capabilities": ["coordinator"]},
        action=f"/admin/users/{admin.id}/capabilities",
        follow_redirects=True,
    )
    assert "cannot withdraw your own administrator rights" in response.get_data(as_text=True)
    db.session.expire_all()
    assert admin.is_admin


def test_suspend_and_reactivate_user_ends_sessions(client, factory, app):
    admin = factory.admin()
    partner = factory.partner()
    partner_client = app.test_client()
    login(partner_client, partner.email)
    assert partner_client.get("/account/profile").status_code == 200
    login(client, admin.email)
    post_form(
        client,
        f"/admin/users/{partner.id}",
        {"suspend-reason": "Unpaid invoices"},
        action=f"/admin/users/{partner.id}/suspend",
    )
    db.session.expire_all()
    assert partner.status == UserStatus.SUSPENDED
    assert partner_client.get("/account/profile").status_code == 302
    assert "cannot log in" in login(partner_client, partner.email).get_data(as_text=True)
    post_form(
        client, f"/admin/users/{partner.id}", {}, action=f"/admin/users/{partner.id}/reactivate"
    )
    db.session.expire_all()
    assert partner.status == UserStatus.ACTIVE
    assert login(partner_client, partner.email, PASSWORD).status_code == 302


def test_suspend_and_reactivate_organisation(client, factory):
    admin = factory.admin()
    organisation = factory.organisation()
    login(client, admin.email)
    url = f"/staff/vetting/organisations/{organisation.id}"
    post_form(
        client,
        url,
        {"suspend-reason": "Contract ended"},
        action=f"/admin/organisations/{organisation.id}/suspend",
    )
    db.session.expire_all()
    assert organisation.status == OrganisationStatus.SUSPENDED
    post_form(client, url, {}, action=f"/admin/organisations/{organisation.id}/reactivate")
    db.session.expire_all()
    assert organisation.status == OrganisationStatus.VERIFIED
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"admin.organisation_suspended", "admin.organisation_reactivated"} <= actions


def test_coordinator_cannot_administer(client, factory):
    coordinator = factory.coordinator()
    login(client, coordinator.email)
    for url in ("/admin/users", "/admin/users/new", "/admin/mail", "/admin/audit"):
        assert client.get(url).status_code == 403
    assert client.get("/admin/organisations").status_code == 200


def test_audit_log_filters(client, factory):
    admin = factory.admin()
    partner = factory.partner()
    login(client, partner.email, "wrong password entirely")
    login(client, admin.email)
    html = client.get("/admin/audit", query_string={"action": "auth.login_failed"}).get_data(
        as_text=True
    )
    assert "auth.login_failed" in html and "auth.login<" not in html
    by_actor = client.get("/admin/audit", query_string={"actor": admin.email}).get_data(
        as_text=True
    )
    assert "auth.login" in by_actor and "auth.login_failed" not in by_actor
    dated = client.get(
        "/admin/audit", query_string={"date_from": "2000-01-01", "date_to": "2000-01-02"}
    )
    assert "Nothing matches these filters." in dated.get_data(as_text=True)


def test_user_list_filters(client, factory):
    admin = factory.admin()
    factory.partner(name="Findable Person", status=UserStatus.PENDING_APPROVAL)
    factory.partner(name="Other Person")
    login(client, admin.email)
    html = client.get("/admin/users", query_string={"q": "findable"}).get_data(as_text=True)
    assert "Findable Person" in html and "Other Person" not in html
    html = client.get(
        "/admin/users", query_string={"status": "active", "kind": "partner"}
    ).get_data(as_text=True)
    assert "Other Person" in html and "Findable Person" not in html
