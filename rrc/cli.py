"""Command-line tools: ``flask --app rrc <command>``."""

import sys
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from rrc.extensions import db


def register_commands(app: Flask) -> None:
    """Attach the portal's commands to ``flask``."""
    from rrc.requests.reminders import remind_command

    app.cli.add_command(create_admin)
    app.cli.add_command(mail_relay)
    app.cli.add_command(demo_command)
    app.cli.add_command(serve)
    app.cli.add_command(remind_command)


@click.command("create-admin")
@click.option("--email", help="E-mail of the administrator.")
@click.option("--name", help="Full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_admin(email: str | None, name: str | None, password_stdin: bool) -> None:
    """Create an administrator (staff with every capability), or promote an existing staff."""
    from rrc import audit
    from rrc.auth.services import check_password, email_taken, normalise_email
    from rrc.models import User, UserKind, UserStatus
    from rrc.security import hash_password

    email = email or click.prompt("E-mail")
    name = name or click.prompt("Full name")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    from rrc.auth.services import AccountError

    try:
        check_password(password, [email.split("@")[0], *name.split()])
    except AccountError as error:
        raise click.ClickException(error.message) from None
    if email_taken(email):
        raise click.ClickException(f"an account with the e-mail {email} already exists")
    admin = User(
        email=normalise_email(email),
        name=name.strip(),
        kind=UserKind.STAFF,
        status=UserStatus.ACTIVE,
        is_admin=True,
        is_coordinator=True,
        password_hash=hash_password(password),
    )
    db.session.add(admin)
    db.session.flush()
    audit.record(None, "admin.created_from_cli", target=admin)
    db.session.commit()
    click.echo(f"Administrator {admin.email} created.")


@click.command("mail-relay")
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
@click.option("--interval", type=float, default=None, help="Seconds between passes.")
@with_appcontext
def mail_relay(once: bool, interval: float | None) -> None:
    """Send queued e-mail over SMTP (or capture it when no server is configured)."""
    from rrc.mail.relay import deliver_due

    interval = interval or current_app.config["MAIL_RELAY_INTERVAL"]
    while True:
        result = deliver_due()
        if result.handled or once:
            click.echo(
                f"sent {len(result.sent)}, captured {len(result.captured)}, "
                f"retrying {len(result.retrying)}, dead {len(result.dead)}"
            )
        if once:
            return
        time.sleep(interval)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load demo organisations, accounts and the catalogue (safe to run again)."""
    from rrc.demo import load_demo

    created = load_demo()
    db.session.commit()
    click.echo(f"Demo data ready ({created} new records). Logins are listed in the README.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="Do not load the demo data.")
@with_appcontext
def serve(host: str, port: int, no_demo: bool) -> None:
    """Local run: upgrade the database, load demo data, relay mail in-process, serve."""
    from flask_migrate import upgrade

    from rrc.demo import load_demo
    from rrc.mail.relay import start_relay_thread
    from rrc.models import User

    app = current_app._get_current_object()
    upgrade(directory=app.extensions["migrate"].directory)
    if not no_demo:
        load_demo()
        db.session.commit()
    has_users = db.session.scalar(select(User.id).limit(1)) is not None
    db.session.remove()
    stop = start_relay_thread(app)
    click.echo(f"RRC portal on http://{host}:{port}/ (mail relay running in this process)")
    if not has_users:
        click.echo("No accounts yet: create one with 'flask --app rrc create-admin'.")
    from werkzeug.serving import run_simple

    try:
        run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
    finally:
        stop.set()
