"""`plaza admin ...`: the admin console's acts that also belong in a shell.

`run-job` (hidden) is what the web admin's "run now" starts: sync.runs.run_job with a
SnapshotProgress file the job's page polls. Errors: one line on stderr, non-zero exit.
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

    path = SyncSettings.from_env().index_path
    with SnapshotProgress(Path(progress_file), name) as progress:
        run = run_job(path, name, full=full, progress=progress)
        progress.finish(run.outcome, run.error)
    if run.outcome != SUCCEEDED:
        click.echo(f"Error: run {run.id} of {name} {run.outcome}: {run.error}", err=True)
        sys.exit(1)
