"""`plaza scheduler`: sync's scheduler (sync.scheduler.SyncScheduler) with write-back and the
mail sender added.

sync cannot import the web app (layers point one way), so the composition root adds them.
Write-back is one more APScheduler job, every PLAZA_WRITEBACK_INTERVAL seconds, running a
write-back round (overlay_app.writeback) on the sync's own connector, so that both share one
token cache, one throttle pause and one request budget. A round with no job opted in costs one
query. Its outcome is recorded per job in overlay.db (`plaza writeback history`) and logged.
The mail sender runs every minute when PLAZA_SMTP_HOST is set.

Several may run (a pair, for availability): one leads, the others stand by
(sync/leader.py; a PostgreSQL advisory lock when PLAZA_DATABASE_URL is set, else a lock file in
PLAZA_DATA_DIR). A leader that loses its lock exits with status 3, for its service manager to
start it again (it then stands by).
"""

from __future__ import annotations

import logging
import sys
import threading

import click

from overlay_app.writeback.runner import Runner, WriteBackSettings
from sync.cli import env_file_option, one_line_errors
from sync.leader import RETRY_SECONDS, ElectionError, election_for
from sync.scheduler import SyncScheduler
from sync.settings import SyncSettings

log = logging.getLogger(__name__)
MAIL_EVERY_SECONDS = 60
LOST_LEADERSHIP_EXIT = 3


class WriteBackJob:
    """The scheduled write-back: a Runner made on first use from the sync's connector."""

    def __init__(self, scheduler: SyncScheduler, settings: WriteBackSettings) -> None:
        self.scheduler, self.settings = scheduler, settings
        self.runner: Runner | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if self.scheduler.stopping.is_set():
            return
        runner = self._runner()
        if runner is None:
            return
        try:
            report = runner.run_round()
        except Exception:  # a bug or an unreadable store: logged, tried again next time
            log.exception("write-back round failed")
            return
        for job in report.rounds.values():
            log.info(
                "write-back %s: %d written, %d failed, %d deleted%s",
                job.job, job.written, job.failed, job.archived,
                f": {job.error}" if job.error else "",
            )  # fmt: skip

    def _runner(self) -> Runner | None:
        with self._lock:
            if self.runner is None:
                connector = self.scheduler._shared_connector()
                if connector is None:
                    return None  # the sync's runs record why
                http = connector.http
                self.runner = Runner(self.settings, http.settings, http.tokens, http.transport)
            return self.runner


def add_write_back(scheduler: SyncScheduler, settings: WriteBackSettings) -> WriteBackJob:
    job = WriteBackJob(scheduler, settings)
    scheduler.scheduler.add_job(
        job, "interval", seconds=settings.interval, id="plaza:write-back", name="write-back"
    )
    return job


@click.command("scheduler")
@env_file_option
@click.option(
    "--poll",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between looks at the jobs table for changes.",
)
@click.option(
    "--leader-retry",
    default=RETRY_SECONDS,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between a standing-by scheduler's tries to lead.",
)
@one_line_errors
def scheduler_command(poll: float, leader_retry: float) -> None:
    """Runs every enabled sync job on its schedule, write-back rounds and the mail sender,
    until stopped (SIGTERM or Ctrl-C). Several may run: one leads, the others stand by."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        settings = WriteBackSettings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    sync_settings = SyncSettings.from_env()
    try:
        election = election_for(sync_settings.data_dir)
    except ElectionError as exc:
        raise click.UsageError(str(exc)) from exc
    scheduler = SyncScheduler(
        sync_settings.index_location,
        poll_seconds=poll,
        election=election,
        retry_seconds=leader_retry,
    )
    add_write_back(scheduler, settings)
    mail_task = _mail_task()
    if mail_task is not None:
        scheduler.add_task("mail", MAIL_EVERY_SECONDS, mail_task)
    if not scheduler.run():
        log.error("exiting with status %d: started again, it stands by", LOST_LEADERSHIP_EXIT)
        sys.exit(LOST_LEADERSHIP_EXIT)


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
