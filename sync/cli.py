"""`plaza sync ...` (group `sync_group`); `plaza scheduler` is composed in plaza/scheduler.py.

Commands are thin: parse, call one function of sync.jobs / sync.runs / sync.scheduler, print.
This is one of the three edges where errors become words (ARCHITECTURE.md): every expected
failure is one line on stderr starting "Error:" and a non-zero exit status, 2 when the command
line itself is wrong (bad name, interval, cron, time zone, conflicting options) and 1 for
everything else (unknown or duplicate job, unknown site, unreachable tenant, failed run, an
index from a newer Plaza). State lives in PLAZA_DATA_DIR (default ./plaza-data).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import click

from connector.errors import ConnectorError
from sync import cli_format
from sync.db import IndexTooNew, open_index
from sync.errors import SyncError, from_connector_error
from sync.job_edits import edited, new_job
from sync.jobs import (
    InvalidJob,
    Job,
    add_job,
    get_job,
    list_jobs,
    remove_job,
    set_enabled,
    update_job,
    verify_sites,
)
from sync.schedules import BadSchedule
from sync.settings import SyncSettings

USAGE_ERRORS = (InvalidJob, BadSchedule)


def one_line_errors(command: Callable) -> Callable:
    """Turns the errors an admin can act on into one line on stderr and an exit status."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except USAGE_ERRORS as exc:
            fail(str(exc), 2)
        except (SyncError, IndexTooNew) as exc:
            fail(str(exc), 1)
        except ConnectorError as exc:  # e.g. settings unusable when building the connector
            fail(str(from_connector_error(exc)), 1)

    return wrapper


def fail(message: str, status: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(status)


def load_env_file(ctx: click.Context, param: click.Parameter, path: str | None) -> None:
    """PLAZA_* settings from a KEY=VALUE file (e.g. `plaza emulator serve --env-file`); the
    environment wins over it."""
    if path:
        from connector.cli import read_env_file

        for name, value in read_env_file(path).items():
            os.environ.setdefault(name, value)


env_file_option = click.option(
    "--env-file",
    type=click.Path(dir_okay=False, exists=True),
    expose_value=False,
    is_eager=True,
    callback=load_env_file,
    help="PLAZA_* settings as KEY=VALUE lines; the environment wins over them.",
)


@click.group("sync", help="Sync jobs: what to mirror from Microsoft 365 into the index, and when.")
@env_file_option
def sync_group() -> None:
    pass


def index():
    return open_index(SyncSettings.from_env().index_location)


# -- add / edit ------------------------------------------------------------------------------


def job_options(command: Callable) -> Callable:
    options = [
        click.option("--people", is_flag=True, help="Mirror people and groups (no sites)."),
        click.option("--all-sites", is_flag=True, help="Every site of the tenant."),
        click.option("--site", "sites", multiple=True, metavar="URL", help="A site (repeatable)."),
        click.option("--site-search", metavar="QUERY", help="Sites whose name matches QUERY."),
        click.option(
            "--library",
            "libraries",
            multiple=True,
            metavar="NAME|DRIVE_ID",
            help="Only these libraries (repeatable); alone: these libraries on every site.",
        ),
        click.option(
            "--include",
            multiple=True,
            metavar="GLOB",
            help="Only files whose path below the library matches, e.g. '/Clients/*'.",
        ),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching."),
        click.option(
            "--file-type",
            "file_types",
            multiple=True,
            metavar="EXT",
            help="Only files of this type, e.g. pdf (repeatable).",
        ),
        click.option("--every", metavar="INTERVAL", help="Run every 15m, 1h, 1d, ..."),
        click.option("--cron", metavar="EXPR", help='Run at crontab times, e.g. "0 * * * *".'),
        click.option("--tz", metavar="ZONE", help="Time zone of --cron (default UTC)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@sync_group.command("add")
@click.argument("name")
@job_options
@one_line_errors
def add_command(
    name: str, people: bool, every: str | None, cron: str | None, tz: str | None, **target_options
) -> None:
    """Adds a job: what to mirror and when.

    \b
    For example:
      plaza sync add tenant-docs --all-sites --every 15m
      plaza sync add tax --site https://contoso.sharepoint.com/sites/tax --cron "0 * * * *"
      plaza sync add people --people --every 1h
    """
    job = new_job(name, people, every, cron, tz, target_options)
    db = index()
    try:
        check_sites_for(job)
        saved = add_job(db, job)
    finally:
        db.close()
    click.echo(f"added job {saved.name}: {saved.describe_target()}, {saved.schedule.describe()}")


@sync_group.command("edit")
@click.argument("name")
@job_options
@click.option(
    "--write-back/--no-write-back",
    default=None,
    help="Write discussion counts into the job's libraries (needs Sites.Manage.All and "
    "Sites.ReadWrite.All on SharePoint), or stop.",
)
@one_line_errors
def edit_command(
    name: str,
    people: bool,
    every: str | None,
    cron: str | None,
    tz: str | None,
    write_back: bool | None,
    **target_options,
) -> None:
    """Changes what a job mirrors or when it runs; options given replace the old ones."""
    db = index()
    try:
        job = get_job(db, name)
        changed = edited(job, people, every, cron, tz, target_options, write_back)
        if changed.target != job.target:
            check_sites_for(changed, previous=job)
        saved = update_job(db, changed)
    finally:
        db.close()
    click.echo(f"updated job {saved.name}: {saved.describe_target()}, {saved.schedule.describe()}")


def check_sites_for(job: Job, previous: Job | None = None) -> None:
    """Asks the tenant about each site URL not checked before (SiteNotFound, unreachable...)."""
    known = set(previous.target.site_urls) if previous and previous.target else set()
    urls = [url for url in (job.target.site_urls if job.target else ()) if url not in known]
    if urls:
        from sync.source import Connector

        verify_sites(Connector.from_env().graph.site_by_url, urls)


# -- list / show / remove / pause / resume ---------------------------------------------------


@sync_group.command("list")
@one_line_errors
def list_command() -> None:
    """The jobs, their schedules and their last runs."""
    from sync.runs import latest_runs

    db = index()
    try:
        jobs, latest = list_jobs(db), latest_runs(db)
    finally:
        db.close()
    if not jobs:
        click.echo("no jobs yet: add one with `plaza sync add NAME --all-sites --every 15m`")
        return
    for line in cli_format.jobs_table(jobs, latest):
        click.echo(line)


@sync_group.command("show")
@click.argument("name")
@one_line_errors
def show_command(name: str) -> None:
    """Everything about one job."""
    from sync.runs import history, last_started

    db = index()
    try:
        job = get_job(db, name)
        runs = history(db, name, limit=1)
        started = last_started(db, name)
    finally:
        db.close()
    next_run = job.schedule.next_run(started, datetime.now(UTC))
    for line in cli_format.job_details(job, runs[0] if runs else None, next_run):
        click.echo(line)


@sync_group.command("remove")
@click.argument("name")
@one_line_errors
def remove_command(name: str) -> None:
    """Deletes a job (its run history is kept)."""
    db = index()
    try:
        remove_job(db, name)
    finally:
        db.close()
    click.echo(f"removed job {name}")


@sync_group.command("pause")
@click.argument("name")
@one_line_errors
def pause_command(name: str) -> None:
    """Stops the scheduler from running a job (it can still be run by hand)."""
    _set_enabled(name, False)


@sync_group.command("resume")
@click.argument("name")
@one_line_errors
def resume_command(name: str) -> None:
    """Lets the scheduler run a paused job again."""
    _set_enabled(name, True)


def _set_enabled(name: str, enabled: bool) -> None:
    db = index()
    try:
        set_enabled(db, name, enabled)
    finally:
        db.close()
    click.echo(f"{'resumed' if enabled else 'paused'} job {name}")


# -- run / history / scheduler ---------------------------------------------------------------


@sync_group.command("run")
@click.argument("name", required=False)
@click.option("--all", "run_all", is_flag=True, help="Run every enabled job, one after another.")
@click.option("--full", is_flag=True, help="Re-enumerate everything (reconciles deletions).")
@one_line_errors
def run_command(name: str | None, run_all: bool, full: bool) -> None:
    """Runs a job now (or every enabled one), with progress, and records the run."""
    from sync.progress import progress_for
    from sync.runs import SUCCEEDED, run_job

    if bool(name) == run_all:
        raise InvalidJob("give a job NAME or --all")
    path = SyncSettings.from_env().index_location
    db = open_index(path)
    try:
        names = [job.name for job in list_jobs(db, enabled_only=True)] if run_all else [name]
        if name:
            get_job(db, name)
    finally:
        db.close()
    if not names:
        fail("no enabled jobs to run (see `plaza sync list`)")
    failures = 0
    for job_name in names:
        with progress_for(title=job_name) as progress:
            run = run_job(path, job_name, full=full, progress=progress)
        if run.outcome == SUCCEEDED:
            click.echo(cli_format.run_line(run))
        else:
            failures += 1
            click.echo(f"Error: {cli_format.run_line(run)}", err=True)
    if failures:
        sys.exit(1)


@sync_group.command("history")
@click.argument("name", required=False)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@one_line_errors
def history_command(name: str | None, limit: int) -> None:
    """The latest runs, newest first: outcome, counts, throttled waits and errors."""
    from sync.runs import history

    db = index()
    try:
        if name:
            get_job(db, name)  # an unknown name is an error, not an empty history
        runs = history(db, name, limit)
    finally:
        db.close()
    if not runs:
        click.echo("no runs yet")
        return
    for line in cli_format.history_table(runs):
        click.echo(line)


def _register_access_commands() -> None:
    """`plaza sync visible` and `plaza sync explain` come from sync.cli_access."""
    try:
        from sync.cli_access import register
    except ModuleNotFoundError as exc:
        if exc.name != "sync.cli_access":
            raise
        return
    register(sync_group)


_register_access_commands()
