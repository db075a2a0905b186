"""The outbox and the relay, against a real SMTP server."""

import email
import smtplib
import threading
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from rrc.extensions import db
from rrc.mail.outbox import queue_mail
from rrc.mail.relay import deliver_due, retry_delay
from rrc.models import OutboxMessage, OutboxStatus
from rrc.models.types import utcnow
from tests.conftest import csrf_tokens, login, outbox, post_form


def queue_for(user, key="message-1", template="account_approved"):
    queue_mail(template, recipient=user, idempotency_key=key, link="https://rrc.example.test/")
    db.session.commit()


def parsed(envelope):
    return email.message_from_bytes(envelope.original_content, policy=policy.default)


def test_relay_delivers_text_and_html_with_headers(app, factory, smtp_server):
    partner = factory.partner(name="Kim Soo-jin")
    queue_for(partner)
    result = deliver_due()
    assert len(result.sent) == 1
    (envelope,) = smtp_server.messages
    assert envelope.rcpt_tos == [partner.email]
    message = parsed(envelope)
    assert message["Subject"] == "Your IPK RRC partner account is approved"
    assert message["From"] == app.config["MAIL_FROM"]
    assert message["Reply-To"] == app.config["MAIL_REPLY_TO"]
    row = db.session.scalar(select(OutboxMessage))
    assert message["Message-ID"] == row.message_id
    assert message.get_body(("plain",)).get_content().startswith("Hello Kim Soo-jin,")
    assert "<p>" in message.get_body(("html",)).get_content()
    assert row.status == OutboxStatus.SENT and row.attempts == 1 and row.sent_at is not None
    # Nothing is due any more: a second pass sends nothing.
    assert deliver_due().handled == 0
    assert len(smtp_server.messages) == 1


def test_action_succeeds_while_server_is_down_and_mail_goes_once_later(app, client, factory):
    from tests.conftest import SMTPServer

    server = SMTPServer()  # allowed by the guard, not started yet
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=2)
    partner = factory.partner()
    # The user's action (ask for a reset link) works with no mail server at all.
    response = post_form(client, "/password/forgot", {"email": partner.email})
    assert response.status_code == 302
    first = deliver_due()
    assert len(first.retrying) == 1
    (row,) = outbox()
    assert row.status == OutboxStatus.RETRYING
    assert row.attempts == 1 and "Error" in row.last_error
    assert row.next_attempt_at > utcnow()
    # Not yet due: the next pass leaves it alone.
    assert deliver_due().handled == 0
    server.start()
    try:
        later = utcnow() + timedelta(hours=1)
        assert len(deliver_due(now=later).sent) == 1
        assert deliver_due(now=later + timedelta(hours=1)).handled == 0
        assert len(server.messages) == 1
        assert server.messages[0].rcpt_tos == [partner.email]
    finally:
        server.stop()
    (row,) = outbox()
    assert row.status == OutboxStatus.SENT and row.attempts == 2


def test_message_dies_after_the_last_attempt_and_admin_can_retry(app, client, factory):
    from tests.conftest import SMTPServer

    server = SMTPServer()
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=2, MAIL_MAX_ATTEMPTS=3
    )
    admin = factory.admin()
    queue_for(admin)
    now = utcnow()
    for _attempt in range(3):
        deliver_due(now=now)
        now += timedelta(days=1)
    (row,) = outbox()
    assert row.status == OutboxStatus.DEAD and row.attempts == 3
    assert deliver_due(now=now + timedelta(days=10)).handled == 0

    login(client, admin.email)
    log = client.get("/admin/mail").get_data(as_text=True)
    assert "Failed" in log and row.subject in log
    detail = client.get(f"/admin/mail/{row.id}").get_data(as_text=True)
    assert "Retry now" in detail and "ConnectionRefusedError" in detail
    post_form(client, f"/admin/mail/{row.id}", {}, action=f"/admin/mail/{row.id}/retry")
    server.start()
    try:
        assert len(deliver_due().sent) == 1
    finally:
        server.stop()
    (row,) = outbox()
    assert row.status == OutboxStatus.SENT


def test_permanent_refusal_is_dead_at_once(app, factory, smtp_server):
    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 No such user here"

    smtp_server.stop()
    smtp_server.handler = Refusing()
    smtp_server.start()
    queue_for(factory.partner())
    result = deliver_due()
    assert len(result.dead) == 1
    (row,) = outbox()
    assert row.status == OutboxStatus.DEAD and "refused" in row.last_error


def test_without_smtp_server_messages_are_captured_and_readable(app, client, factory):
    admin = factory.admin()
    queue_for(admin)
    result = deliver_due()
    assert len(result.captured) == 1
    (row,) = outbox()
    assert row.status == OutboxStatus.CAPTURED
    login(client, admin.email)
    log = client.get("/admin/mail").get_data(as_text=True)
    assert "Captured" in log and "No SMTP server is configured" in log
    detail = client.get(f"/admin/mail/{row.id}").get_data(as_text=True)
    assert "Hello" in detail and "Retry now" not in detail
    html = client.get(f"/admin/mail/{row.id}/html")
    assert b"<p>" in html.data


def test_idempotency_key_queues_once(app, factory):
    partner = factory.partner()
    queue_for(partner, key="same")
    queue_for(partner, key="same")
    assert len(outbox()) == 1


def test_two_relays_never_send_a_row_twice(app, factory, smtp_server):
    partner = factory.partner()
    for number in range(12):
        queue_mail("account_approved", recipient=partner, idempotency_key=f"k{number}", link="x")
    db.session.commit()
    barrier = threading.Barrier(2)
    errors = []

    def relay():
        try:
            with app.app_context():
                barrier.wait()
                deliver_due()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = [parsed(envelope)["Message-ID"] for envelope in smtp_server.messages]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert {row.status for row in outbox()} == {OutboxStatus.SENT}


def test_guard_fails_unexpected_smtp_connections(app):
    with pytest.raises(pytest.fail.Exception, match="unexpected SMTP connection"):
        smtplib.SMTP("127.0.0.1", 2525, timeout=1)


def test_retry_delays_grow():
    delays = (60, 300, 900)
    assert [retry_delay(attempt, delays).total_seconds() for attempt in (1, 2, 3, 4)] == [
        60,
        300,
        900,
        900,
    ]


def test_links_use_base_url_not_host_header(app, client, factory):
    partner = factory.partner()
    evil = {"Host": "evil.example"}
    page = client.get("/password/forgot", headers=evil)
    tokens = csrf_tokens(page.get_data(as_text=True))
    response = client.post(
        "/password/forgot", data={**tokens, "email": partner.email}, headers=evil
    )
    assert response.status_code == 302
    (row,) = outbox()
    assert "https://rrc.example.test/password/reset/" in row.text_body
    assert "evil.example" not in row.text_body + row.html_body


def test_mail_relay_command(app, runner, factory):
    queue_for(factory.partner())
    result = runner.invoke(args=["mail-relay", "--once"])
    assert result.exit_code == 0, result.output
    assert "captured 1" in result.output


def test_admin_sees_and_downloads_a_messages_attachments(client, factory):
    admin = factory.admin()
    partner = factory.partner()
    calendar = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    queue_mail(
        "account_approved",
        recipient=partner,
        idempotency_key="with-attachment",
        link="https://rrc.example.test/",
        attachments=[("RRC-2026-00001.ics", "text/calendar", calendar)],
    )
    db.session.commit()
    (row,) = outbox()
    login(client, admin.email)
    detail = client.get(f"/admin/mail/{row.id}").get_data(as_text=True)
    assert "RRC-2026-00001.ics" in detail and "text/calendar" in detail
    download = client.get(f"/admin/mail/{row.id}/attachments/0")
    assert download.status_code == 200 and download.data == calendar
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/admin/mail/{row.id}/attachments/1").status_code == 404
    client.post("/logout", data=csrf_tokens(client.get("/").get_data(as_text=True)))
    login(client, partner.email)
    assert client.get(f"/admin/mail/{row.id}/attachments/0").status_code in (403, 404)
