"""Sync jobs from the browser: the same operations and validations as `plaza sync`, through
the same modules (sync.job_edits builds the job, sync.jobs stores it, sync.cli's
check_sites_for asks the tenant about new site URLs, sync.runs runs it).

The web app otherwise reads the index read-only; these admin acts open it for writing, one
short transaction each (sync.jobs' own), and audit what they did. "Run now" starts
`plaza admin run-job` as its own process (never a run inside a web worker, which gunicorn may
recycle mid-run); that process writes its live tally to a small JSON file that the job's page
polls (sync.progress.SnapshotProgress), and records the run like any other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from connector.errors import ConnectorError
from overlay_app.db import index_location
from overlay_app.errors import BadInput, Conflict, NotFound, PlazaError
from overlay_app.identity import Person
from overlay_app.security import audit
from sync import jobs as sync_jobs
from sync import runs as sync_runs
from sync.db import open_index
from sync.errors import SyncError, from_connector_error
from sync.job_edits import edited, new_job
from sync.jobs import Job, JobExists, JobNotFound
from sync.progress import read_snapshot
from sync.schedules import BadSchedule

LIST_FIELDS = ("sites", "libraries", "include", "exclude", "file_types")
PROGRESS_DIR = "admin-runs"


@contextmanager
def index_for_writing(settings) -> Iterator[sqlite_utils.Database]:
    db = open_index(index_location(settings))
    try:
        yield db
    except (SyncError, BadSchedule) as exc:
        raise as_plaza_error(exc) from exc
    except ConnectorError as exc:
        raise BadInput(str(from_connector_error(exc))) from exc
    finally:
        db.close()


def as_plaza_error(exc: Exception) -> PlazaError:
    """Sync's words, with the status that fits them."""
    if isinstance(exc, JobNotFound):
        return NotFound()
    if isinstance(exc, JobExists):
        return Conflict(str(exc))
    return BadInput(str(exc))


def _lines(text: str | None) -> tuple[str, ...]:
    """A form's list field: one value per line or comma."""
    return tuple(v.strip() for v in (text or "").replace(",", "\n").splitlines() if v.strip())


@dataclass(frozen=True)
class JobForm:
    """What the job form (or a JSON body) says, as `plaza sync add/edit` options."""

    name: str
    people: bool
    every: str | None
    cron: str | None
    tz: str | None
    target_options: dict

    @classmethod
    def parse(cls, fields: Mapping[str, object]) -> JobForm:
        def text(key: str) -> str | None:
            value = fields.get(key)
            return str(value).strip() or None if value not in (None, "") else None

        def listed(key: str) -> tuple[str, ...]:
            value = fields.get(key)
            if isinstance(value, list):
                return tuple(str(v).strip() for v in value if str(v).strip())
            return _lines(str(value) if value is not None else None)

        options = {key: listed(key) for key in LIST_FIELDS}
        options["all_sites"] = _truthy(fields.get("all_sites"))
        options["site_search"] = text("site_search")
        return cls(
            name=text("name") or "",
            people=_truthy(fields.get("people")) or fields.get("kind") == sync_jobs.PEOPLE,
            every=text("every"),
            cron=text("cron"),
            tz=text("tz"),
            target_options=options,
        )


def _truthy(value: object) -> bool:
    return value is True or str(value).lower() in ("1", "on", "true", "yes")


def do_add(settings, person: Person, form: JobForm) -> Job:
    from sync.cli import check_sites_for

    with index_for_writing(settings) as db:
        job = new_job(form.name, form.people, form.every, form.cron, form.tz, form.target_options)
        check_sites_for(job)
        saved = sync_jobs.add_job(db, job)
    audit(person.id, "admin.job.add", saved.name, {"target": saved.describe_target()})
    return saved


def do_edit(settings, person: Person, name: str, form: JobForm) -> Job:
    from sync.cli import check_sites_for

    with index_for_writing(settings) as db:
        job = sync_jobs.get_job(db, name)
        changed = edited(job, form.people, form.every, form.cron, form.tz, form.target_options)
        if changed.target != job.target:
            check_sites_for(changed, previous=job)
        saved = sync_jobs.update_job(db, changed)
    audit(person.id, "admin.job.edit", name, {"target": saved.describe_target()})
    return saved


def do_set_enabled(settings, person: Person, name: str, enabled: bool) -> Job:
    with index_for_writing(settings) as db:
        saved = sync_jobs.set_enabled(db, name, enabled)
    audit(person.id, "admin.job.resume" if enabled else "admin.job.pause", name)
    return saved


def do_remove(settings, person: Person, name: str) -> None:
    with index_for_writing(settings) as db:
        sync_jobs.remove_job(db, name)
    audit(person.id, "admin.job.remove", name)


def progress_path(settings, name: str) -> Path:
    return Path(settings.data_dir) / PROGRESS_DIR / f"{name}.json"


def do_run_now(settings, person: Person, name: str, full: bool = False) -> None:
    """Starts the job in a process of its own (see the module docstring)."""
    with index_for_writing(settings) as db:
        sync_jobs.get_job(db, name)
    path = progress_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "plaza.cli", "admin", "run-job", name, "--progress-file"]
    command += [str(path), *(["--full"] if full else [])]
    environment = {**os.environ, "PLAZA_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:  # the index is there: the run must write it there
        environment["PLAZA_DATABASE_URL"] = settings.database_url
    log = (path.parent / f"{name}.log").open("ab")
    process = subprocess.Popen(  # our own command; the job name was validated
        command, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True,
    )  # fmt: skip
    log.close()
    # Reaped in the background, so that a finished run leaves no zombie in the web worker.
    threading.Thread(target=process.wait, name=f"run {name}", daemon=True).start()
    audit(person.id, "admin.job.run", name, {"full": full})


def live_progress(settings, name: str) -> dict:
    """The job's latest run and, while one started from here goes on, its live tally."""
    db = open_index(index_location(settings))
    try:
        sync_jobs.get_job(db, name)
        latest = sync_runs.history(db, name, limit=1)
    except JobNotFound as exc:
        raise NotFound() from exc
    finally:
        db.close()
    snapshot = read_snapshot(progress_path(settings, name)) or {}
    run = latest[0] if latest else None
    running = bool(snapshot.get("running")) or (run is not None and run.outcome == "running")
    return {
        "job": name,
        "running": running,
        "pages": snapshot.get("pages", 0),
        "items": snapshot.get("items", 0),
        "throttledWaits": snapshot.get("throttledWaits", 0),
        "messages": snapshot.get("messages", []),
        "lastRun": run_json(run) if run else None,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def run_json(run: sync_runs.Run) -> dict:
    counts = run.counts
    return {
        "id": run.id,
        "startedAt": run.started_at,
        "endedAt": run.ended_at,
        "outcome": run.outcome,
        "full": run.full,
        "added": counts.added,
        "updated": counts.updated,
        "deleted": counts.deleted,
        "permissionFailures": counts.permission_failures,
        "throttledWaits": counts.throttled_waits,
        "throttledSeconds": round(counts.throttled_seconds, 1),
        "error": run.error,
    }


def job_json(job: Job) -> dict:
    return {
        "name": job.name,
        "kind": job.kind,
        "target": job.describe_target(),
        "schedule": job.schedule.describe(),
        "enabled": job.enabled,
    }
