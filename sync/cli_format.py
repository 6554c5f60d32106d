"""Words and tables the sync CLI prints: jobs, runs, run summaries. No I/O here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sync.jobs import Job, target_filters
from sync.runs import FAILED, SKIPPED, Run


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in (headers, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join([*cells[:-1], str(row[-1])]).rstrip())
    return lines


def when(iso: str | None) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM:SS' in UTC (how the index stores times)."""
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S")


def status(job: Job) -> str:
    return "enabled" if job.enabled else "paused"


def jobs_table(jobs: Sequence[Job], latest: dict[str, Run]) -> list[str]:
    rows = []
    for job in jobs:
        run = latest.get(job.name)
        last = f"{run.outcome} {when(run.started_at)}" if run else "never"
        rows.append(
            (job.name, job.kind, job.schedule.describe(), status(job), last, job.describe_target())
        )
    headers = ("NAME", "KIND", "SCHEDULE", "STATUS", "LAST RUN (UTC)", "WHAT")
    return table(headers, rows)


def job_details(job: Job, last: Run | None, next_run: datetime | None) -> list[str]:
    lines = [
        f"name:      {job.name}",
        f"kind:      {job.kind}",
        f"status:    {status(job)}",
        f"schedule:  {job.schedule.describe()}",
    ]
    target = job.target
    if target is not None:
        if target.all_sites:
            lines.append("sites:     all")
        for url in target.site_urls:
            lines.append(f"site:      {url}")
        if target.site_search is not None:
            lines.append(f"search:    {target.site_search}")
        for label, values in target_filters(target):
            lines.append(f"{label + ':':<10} {', '.join(values)}")
        if job.write_back:
            lines.append("write-back: on (discussion counts written into its libraries)")
    else:
        lines.append("mirrors:   people and groups")
    lines.append(f"created:   {when(job.created_at)} UTC")
    lines.append(f"updated:   {when(job.updated_at)} UTC")
    lines.append(f"last run:  {run_line(last) if last else 'never'}")
    if next_run is not None and job.enabled:
        lines.append(f"next run:  {when(next_run.isoformat())} UTC (when `plaza scheduler` runs)")
    return lines


def history_table(runs: Sequence[Run]) -> list[str]:
    headers = (
        "RUN",
        "JOB",
        "STARTED (UTC)",
        "SECONDS",
        "OUTCOME",
        "ADDED",
        "UPDATED",
        "MOVED",
        "DELETED",
        "PERMISSIONS",
        "THROTTLED",
        "ERROR",
    )
    rows = [
        (
            str(run.id),
            run.job,
            when(run.started_at),
            _seconds(run),
            _outcome(run),
            str(run.counts.added),
            str(run.counts.updated),
            str(run.counts.moved),
            str(run.counts.deleted),
            _permissions(run),
            f"{run.counts.throttled_waits} ({run.counts.throttled_seconds:.1f} s)",
            error_text(run) or "",
        )
        for run in runs
    ]
    return table(headers, rows)


def run_line(run: Run) -> str:
    """One sentence about a finished run, e.g. for `plaza sync run`."""
    head = f"run {run.id} of {run.job} {run.outcome}"
    if run.outcome == SKIPPED:
        return f"{head}: {run.error}"
    if run.outcome == FAILED:
        return f"{head} after {_seconds(run)} s: {error_text(run)}"
    c = run.counts
    line = (
        f"{head} in {_seconds(run)} s: {c.added} added, {c.updated} updated, {c.moved} moved, "
        f"{c.deleted} deleted, {c.permission_changes} permission changes, "
        f"{c.throttled_waits} throttled waits ({c.throttled_seconds:.1f} s)"
    )
    if c.permission_failures:
        line += (
            f"; the permissions of {c.permission_failures} item(s) could not be read: hidden "
            "from everyone until a later run reads them"
        )
    return line


def error_text(run: Run) -> str | None:
    if not run.error:
        return None
    if run.request_id and run.request_id not in run.error:
        return f"{run.error} (request-id {run.request_id})"
    return run.error


def _permissions(run: Run) -> str:
    """Permission changes, and the items whose permissions could not be read, if any."""
    changes, failures = run.counts.permission_changes, run.counts.permission_failures
    return f"{changes} ({failures} unreadable)" if failures else str(changes)


def _outcome(run: Run) -> str:
    return run.outcome + (" (full)" if run.full else "")


def _seconds(run: Run) -> str:
    seconds = run.seconds
    return "-" if seconds is None else f"{seconds:.1f}"
