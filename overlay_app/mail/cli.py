"""`plaza mail ...`: `send-due` runs the mail sender once (the scheduler runs it every minute);
`status` counts the outbox by state. Thin: each calls one function in app context, prints one
line, and says what went wrong in one line with a non-zero exit."""

from __future__ import annotations

import click

from overlay_app.settings import SettingsError


def _app():
    from overlay_app import create_app

    try:
        return create_app()
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


@click.group("mail")
def mail_group() -> None:
    """Mention mails and digests."""


@mail_group.command("send-due")
def send_due_command() -> None:
    """Composes what is due and sends it through PLAZA_SMTP_HOST."""
    app = _app()
    if not app.extensions["plaza.settings"].smtp_host:
        raise click.ClickException("PLAZA_SMTP_HOST is not set: nothing can be sent")
    from overlay_app.mail.sender import send_due

    with app.app_context():
        click.echo(send_due().line())


@mail_group.command("status")
def status_command() -> None:
    """How many mails are in each state of the outbox."""
    from overlay_app import db
    from overlay_app.mail import store

    with _app().app_context():
        counts = store.counts_by_state(db.social())
    click.echo(", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no mail yet")
