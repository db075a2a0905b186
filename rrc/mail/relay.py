"""The mail relay: sends due outbox rows over SMTP, one row per transaction, never one row twice."""

import base64
import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime as email_date

from flask import Flask, current_app
from sqlalchemy import select

from rrc.database import write_transaction_options
from rrc.extensions import db
from rrc.models import OutboxMessage, OutboxStatus
from rrc.models.mail import DUE_STATUSES
from rrc.models.types import utcnow

log = logging.getLogger(__name__)


class PermanentDeliveryError(Exception):
    """The server refused the message for good (5xx): retrying cannot help."""


@dataclass
class RelayResult:
    """What one pass of the relay did."""

    sent: list[int] = field(default_factory=list)
    captured: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """How many rows this pass dealt with."""
        return len(self.sent) + len(self.captured) + len(self.retrying) + len(self.dead)


def build_email(message: OutboxMessage, config) -> EmailMessage:
    """The MIME message: text and HTML alternatives, fixed sender, reply-to, stable Message-ID."""
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.recipient
    if config.get("MAIL_REPLY_TO"):
        email["Reply-To"] = config["MAIL_REPLY_TO"]
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = email_date(message.created_at)
    email["Content-Language"] = message.locale
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    for attachment in message.attachments or []:
        maintype, _, subtype = attachment["content_type"].partition("/")
        email.add_attachment(
            base64.b64decode(attachment["content"]),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
        )
    return email


def smtp_send(email: EmailMessage, config) -> None:
    """Deliver one message with the configured server, TLS mode, login and timeout."""
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    context = ssl.create_default_context()
    if config["MAIL_USE_SSL"]:
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            connection.starttls(context=context)
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        try:
            connection.send_message(email)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = [code for code, _ in refused.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise PermanentDeliveryError(str(refused.recipients)) from refused
            raise
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


def retry_delay(attempts: int, delays: tuple[int, ...]) -> timedelta:
    """The wait before the next attempt, growing with each failure."""
    index = min(attempts - 1, len(delays) - 1)
    return timedelta(seconds=delays[max(index, 0)])


def _claim_next(now: datetime) -> OutboxMessage | None:
    """Lock and return the oldest due row, skipping rows another relay holds."""
    db.session.connection(execution_options=write_transaction_options())
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(DUE_STATUSES), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return db.session.scalars(statement).first()


def deliver_one(now: datetime | None = None, result: RelayResult | None = None) -> bool:
    """Claim, send and record one due message in one transaction. False when nothing is due."""
    config = current_app.config
    result = result if result is not None else RelayResult()
    now = now or utcnow()
    db.session.rollback()
    try:
        message = _claim_next(now)
        if message is None:
            db.session.rollback()
            return False
        message.attempts += 1
        if not config["MAIL_SERVER"]:
            message.status = OutboxStatus.CAPTURED
            message.sent_at = now
            message.last_error = None
            result.captured.append(message.id)
        else:
            try:
                smtp_send(build_email(message, config), config)
            except PermanentDeliveryError as error:
                message.status = OutboxStatus.DEAD
                message.last_error = f"refused: {error}"[:2000]
                result.dead.append(message.id)
            except (smtplib.SMTPException, OSError) as error:
                message.last_error = f"{type(error).__name__}: {error}"[:2000]
                if message.attempts >= config["MAIL_MAX_ATTEMPTS"]:
                    message.status = OutboxStatus.DEAD
                    result.dead.append(message.id)
                else:
                    message.status = OutboxStatus.RETRYING
                    message.next_attempt_at = now + retry_delay(
                        message.attempts, tuple(config["MAIL_RETRY_DELAYS"])
                    )
                    result.retrying.append(message.id)
                log.warning("mail %s to %s failed: %s", message.id, message.recipient, error)
            else:
                message.status = OutboxStatus.SENT
                message.sent_at = utcnow()
                message.last_error = None
                result.sent.append(message.id)
        db.session.commit()
        return True
    except Exception:
        db.session.rollback()
        raise


def deliver_due(now: datetime | None = None, limit: int = 500) -> RelayResult:
    """One pass: deliver every due message (at most ``limit``)."""
    result = RelayResult()
    for _ in range(limit):
        if not deliver_one(now, result):
            break
    return result


def retry_now(message: OutboxMessage) -> None:
    """Put a failed or dead message back in the queue for the next pass (admin action)."""
    if message.status in (OutboxStatus.SENT, OutboxStatus.CAPTURED):
        raise ValueError("delivered messages are not resent")
    message.status = OutboxStatus.RETRYING
    message.next_attempt_at = utcnow()
    if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        # An admin retry grants one more attempt beyond the limit.
        message.attempts = current_app.config["MAIL_MAX_ATTEMPTS"] - 1


def run_relay(app: Flask, *, interval: float, stop: threading.Event) -> None:
    """Loop until ``stop`` is set, delivering due mail every ``interval`` seconds."""
    while not stop.is_set():
        with app.app_context():
            try:
                deliver_due()
            except Exception:
                log.exception("mail relay pass failed; trying again in %s s", interval)
        stop.wait(interval)


def start_relay_thread(app: Flask) -> threading.Event:
    """Run the relay in one background thread of this process (local use only)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_relay,
        args=(app,),
        kwargs={"interval": app.config["MAIL_RELAY_INTERVAL"], "stop": stop},
        name="rrc-mail-relay",
        daemon=True,
    )
    thread.start()
    return stop
