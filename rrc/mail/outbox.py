"""Queueing e-mail: render it in the recipient's language; store it in the current transaction."""

import base64
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from rrc.extensions import db
from rrc.models import OutboxMessage, User


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link built from ``BASE_URL`` — never from the request's Host header."""
    adapter = current_app.url_map.bind("rrc.invalid", script_name="/")
    path = adapter.build(endpoint, values, force_external=False)
    return current_app.config["BASE_URL"] + path


def queue_mail(
    template: str,
    *,
    idempotency_key: str,
    recipient: User | None = None,
    address: str | None = None,
    locale: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    **context,
) -> OutboxMessage | None:
    """Render ``email/<template>.*`` for one recipient and add it to the outbox.

    ``attachments`` are (file name, content type, bytes) sent with the message.

    A message whose idempotency key is already queued is not queued again (returns ``None``).
    """
    to_address = address or (recipient.email if recipient else None)
    if not to_address:
        raise ValueError("a message needs a recipient user or an address")
    existing = db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return None
    language = locale or (recipient.locale if recipient else None) or "en"
    zone = ZoneInfo(
        (recipient.timezone if recipient else None) or current_app.config["DEFAULT_TIMEZONE"]
    )

    def in_zone(value, style="medium"):
        return babel_format_datetime(value, format=style, tzinfo=zone, locale=language)

    context.update(recipient=recipient, address=to_address, absolute_url=absolute_url)
    with force_locale(language):
        environment_globals = {"in_zone": in_zone, "mail_locale": language}
        subject = render_template(f"email/{template}.subject.txt", **context, **environment_globals)
        text_body = render_template(f"email/{template}.txt", **context, **environment_globals)
        html_body = render_template(f"email/{template}.html", **context, **environment_globals)
    message = OutboxMessage(
        idempotency_key=idempotency_key,
        recipient=to_address,
        user_id=recipient.id if recipient else None,
        template=template,
        locale=language,
        subject=" ".join(subject.split())[:300],
        text_body=text_body,
        html_body=html_body,
        attachments=[
            {
                "filename": filename,
                "content_type": content_type,
                "content": base64.b64encode(data).decode("ascii"),
            }
            for filename, content_type, data in attachments or []
        ],
    )
    db.session.add(message)
    return message
