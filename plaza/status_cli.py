"""`plaza status`: the admin console's health page in a shell (overlay_app.admin.health.gather,
the same function as /admin/health and /api/v1/admin/health). Exit status 0 when healthy, 1
when something needs attention, so that monitoring can run it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from sync.cli import env_file_option, one_line_errors


@click.command("status")
@env_file_option
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@one_line_errors
def status_command(as_json: bool) -> None:
    """Sync jobs, scheduler, real-time process, Graph throttling, store sizes."""
    from overlay_app.admin.health import gather
    from sync.db import open_index
    from sync.settings import SyncSettings

    data_dir = SyncSettings.from_env().data_dir
    db = open_index(SyncSettings.from_env().index_location)
    try:
        report = gather(db, Path(data_dir), os.environ.get("PLAZA_REALTIME_URL", "").rstrip("/"))
    finally:
        db.close()
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for line in status_lines(report):
            click.echo(line)
    sys.exit(0 if report["healthy"] else 1)


def status_lines(report: dict) -> list[str]:
    lines = ["healthy" if report["healthy"] else "needs attention:"]
    lines += [f"  - {problem}" for problem in report["problems"]]
    for job in report["jobs"]:
        lag = f"{job['lagSeconds'] // 60} min behind" if job["lagSeconds"] is not None else "—"
        lines.append(
            f"job {job['name']}: {job['state']}; last success {job['lastSuccess'] or 'never'};"
            f" {lag}; next run {job['nextRun'] or '—'}"
        )
    alive, leader = report["scheduler"]["alive"], report["scheduler"]["leader"]
    leads = f"; leader {leader['host']} pid {leader['pid']}" if leader else ""
    lines.append(f"scheduler: {'alive' if alive else 'not running'}{leads}")
    realtime = report["realtime"]
    if realtime["alive"] is not None:
        state = "answers" if realtime["alive"] else "does not answer"
        lines.append(f"real-time: {state} at {realtime['url']}")
    throttling = report["throttling"]
    lines.append(
        f"Graph throttling (24 h): {throttling['waits']} waits, {throttling['secondsWaited']} s"
    )
    sizes = report["sizes"]
    stores = ", ".join(f"{name} {size / 1048576:.1f} MB" for name, size in sizes["bytes"].items())
    lines.append(f"stores: {stores}; {sizes['items']} items, {sizes['people']} people")
    lines += [f"left: {p['name']} ({p['reason']})" for p in report["peopleLeft"]]
    return lines
