"""`plaza scheduler`: sync's scheduler (sync.scheduler) with the mail sender added, every
minute, when PLAZA_SMTP_HOST is set. Composed here because sync never imports overlay_app."""

from __future__ import annotations

import logging

import click

from sync.cli import one_line_errors
from sync.settings import SyncSettings

log = logging.getLogger("plaza.scheduler")
MAIL_EVERY_SECONDS = 60


@click.command("scheduler")
@click.option(
    "--poll",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between looks at the jobs table for changes.",
)
@one_line_errors
def scheduler_command(poll: float) -> None:
    """Runs every enabled sync job on its schedule, and the mail sender every minute, until
    stopped (SIGTERM or Ctrl-C). Run exactly one."""
    from sync.scheduler import SyncScheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = SyncScheduler(SyncSettings.from_env().index_path, poll_seconds=poll)
    mail_task = _mail_task()
    if mail_task is not None:
        scheduler.add_task("mail", MAIL_EVERY_SECONDS, mail_task)
    scheduler.run()


def _mail_task():
    """The mail sender in the web app's context, or None (said why) when it cannot run."""
    from overlay_app import create_app
    from overlay_app.mail.sender import send_due
    from overlay_app.settings import SettingsError

    try:
        app = create_app()
    except SettingsError as error:
        log.warning("no mail sender: %s", error)
        return None
    if not app.extensions["plaza.settings"].smtp_host:
        log.info("no mail sender: PLAZA_SMTP_HOST is not set")
        return None

    def send() -> None:
        with app.app_context():
            report = send_due()
        if report.composed or report.sent or report.failed or report.uncertain:
            log.info("mail: %s", report.line())

    return send
