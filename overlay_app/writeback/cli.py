"""`plaza writeback run | history`: one write-back round now, and the rounds recorded.

Thin: parse, call the runner or the store, print. Expected failures are one line on stderr
and exit status 1 (2 for unusable settings); a round that could not write everything it
should exits 1 after saying, per job, what went wrong.
"""

from __future__ import annotations

import sys

import click

from connector.errors import ConnectorError
from overlay_app.db import open_social_store
from overlay_app.writeback import store
from overlay_app.writeback.runner import Runner, WriteBackSettings, WriteBackSettingsError
from sync.cli import env_file_option


@click.group("writeback", help="Discussion counts written into SharePoint libraries.")
@env_file_option
def writeback_group() -> None:
    pass


@writeback_group.command("run")
def run_command() -> None:
    """Writes now what changed and is quiet (jobs with write-back on: `plaza sync edit JOB
    --write-back`)."""
    settings, connector_settings = _settings()
    runner = Runner(settings, connector_settings)
    try:
        report = runner.run_round()
    finally:
        runner.close()
    if not report.rounds:
        click.echo(f"nothing to write ({report.waiting} waiting for their discussion to settle)")
        return
    for job in report.rounds.values():
        line = (
            f"{job.job}: {job.written} written, {job.failed} failed,"
            f" {job.archived} deleted in SharePoint (not written)"
        )
        if job.error is None:
            click.echo(line)
        else:
            click.echo(f"Error: {line}: {job.error}", err=True)
    if report.waiting:
        click.echo(f"{report.waiting} waiting for their discussion to settle")
    if not report.ok:
        sys.exit(1)


@writeback_group.command("history")
@click.argument("job", required=False)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
def history_command(job: str | None, limit: int) -> None:
    """The latest write-back rounds, newest first: counts and errors."""
    settings, _ = _settings(connector=False)
    social = open_social_store(settings.data_dir, settings.database_url)
    try:
        rounds = store.rounds(social, job, limit)
    finally:
        social.close()
    if not rounds:
        click.echo("no write-back rounds yet")
    for done in rounds:
        error = f"  {done.error}" if done.error else ""
        click.echo(
            f"{done.started_at}  {done.job}  written {done.written}  failed {done.failed}"
            f"  deleted {done.archived}{error}"
        )


def _settings(connector: bool = True):
    try:
        settings = WriteBackSettings.from_env()
        if not connector:
            return settings, None
        from connector.settings import ConnectorSettings

        return settings, ConnectorSettings.from_env()
    except WriteBackSettingsError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except ConnectorError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
