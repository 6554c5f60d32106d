"""`plaza admin ...`: the admin console's acts that also belong in a shell.

`export PERSON` and `erase PERSON` answer data requests (overlay_app/admin/data_requests.py,
as the web admin does, audited). `run-job` (hidden) is what the web admin's "run now" starts:
sync.runs.run_job with a SnapshotProgress file the job's page polls. Errors: one line on
stderr, non-zero exit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sync.cli import env_file_option, one_line_errors


@click.group("admin", help="Admin acts: data requests (export, erase) and web-started runs.")
@env_file_option
def admin_group() -> None:
    pass


@admin_group.command("run-job", hidden=True)
@click.argument("name")
@click.option("--progress-file", required=True, type=click.Path(dir_okay=False))
@click.option("--full", is_flag=True)
@one_line_errors
def run_job_command(name: str, progress_file: str, full: bool) -> None:
    """Runs job NAME once, writing its live tally to PROGRESS_FILE (for the web admin)."""
    from sync.progress import SnapshotProgress
    from sync.runs import SUCCEEDED, run_job
    from sync.settings import SyncSettings

    path = SyncSettings.from_env().index_location
    with SnapshotProgress(Path(progress_file), name) as progress:
        run = run_job(path, name, full=full, progress=progress)
        progress.finish(run.outcome, run.error)
    if run.outcome != SUCCEEDED:
        click.echo(f"Error: run {run.id} of {name} {run.outcome}: {run.error}", err=True)
        sys.exit(1)


ERASE_MODES = ("anonymise", "remove")


class PersonUnknown(click.ClickException):
    """A person the directory does not know: one line, exit 1."""


def _stores():
    """(index, social store) of PLAZA_DATA_DIR (the social store in PLAZA_DATABASE_URL's
    PostgreSQL when set), both migrated."""
    import os

    from overlay_app.db import open_social_store
    from sync.db import open_index
    from sync.settings import SyncSettings

    settings = SyncSettings.from_env()
    social = open_social_store(settings.data_dir, os.environ.get("PLAZA_DATABASE_URL", ""))
    return open_index(settings.index_location), social


def _find(index, who: str) -> tuple[str, str]:
    from overlay_app.admin.data_requests import find_person
    from overlay_app.errors import NotFound

    try:
        return find_person(index, who)
    except NotFound as exc:
        raise PersonUnknown(exc.message) from exc


@admin_group.command("export")
@click.argument("person")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="File (default: -).")
@one_line_errors
def export_command(person: str, out: str | None) -> None:
    """Writes everything Plaza holds of PERSON's (UPN or object id) as a JSON archive."""
    import json

    from overlay_app import security
    from overlay_app.admin.data_requests import export
    from overlay_app.db import write

    index, social = _stores()
    try:
        person_id, name = _find(index, person)
        archive = export(social, person_id, name)
        with write(social) as conn:
            security.record(conn, None, "admin.person.export", person_id, {"by": "cli"})
    finally:
        index.close()
        social.close()
    text = json.dumps(archive, indent=2)
    if out:
        Path(out).write_text(text + "\n")
        click.echo(f"exported {name} to {out}", err=True)
    else:
        click.echo(text)


@admin_group.command("erase")
@click.argument("person")
@click.option("--mode", type=click.Choice(ERASE_MODES), help="Default: PLAZA_ERASE_MODE.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@one_line_errors
def erase_command(person: str, mode: str | None, yes: bool) -> None:
    """Erases PERSON (UPN or object id): their words pass to "Deleted person" (kept or removed
    per --mode / PLAZA_ERASE_MODE); replies by others keep their place. Cannot be undone."""
    import os

    from overlay_app.admin.data_requests import erase
    from overlay_app.db import write

    mode = mode or os.environ.get("PLAZA_ERASE_MODE", "anonymise")
    if mode not in ERASE_MODES:
        raise click.UsageError(f"PLAZA_ERASE_MODE must be one of {', '.join(ERASE_MODES)}")
    index, social = _stores()
    try:
        person_id, name = _find(index, person)
        if not yes:
            click.confirm(f"Erase {name} ({person_id}), words {mode}d?", abort=True)
        with write(social) as conn:
            summary = erase(conn, None, person_id, remove=mode == "remove")
    finally:
        index.close()
        social.close()
    click.echo(
        f"erased {name}: {summary['comments']} comments, {summary['messages']} messages"
        f' now by "Deleted person" (words {"removed" if mode == "remove" else "kept"})'
    )
