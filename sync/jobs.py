"""Sync jobs configured by admins: what to mirror and when. The only module with SQL on `jobs`.

A job has a unique name ([a-z0-9-]+), a kind ("documents" mirrors sites and libraries chosen by
a DocumentTarget; "people" mirrors users and groups), a Schedule, and an enabled flag (paused
jobs are left alone by the scheduler but can still be run by hand). `updated_at` changes on
every edit, which is how a running scheduler notices changes without a restart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlite_utils

from connector.errors import ConnectorError, NotFound
from sync.db import IntegrityError, transaction
from sync.errors import SiteNotFound, SyncError, from_connector_error
from sync.schedules import Schedule
from sync.targets import DocumentTarget

DOCUMENTS = "documents"
PEOPLE = "people"
KINDS = (DOCUMENTS, PEOPLE)
NAME = re.compile(r"[a-z0-9-]+")
JOB_COLUMNS = "name, kind, target, schedule, enabled, created_at, updated_at, write_back"


class InvalidJob(SyncError):
    """A job definition that cannot be saved (bad name, no sites chosen, ...)."""


class JobExists(SyncError):
    """Another job already has this name."""


class JobNotFound(SyncError):
    """No job has this name."""


@dataclass(frozen=True)
class Job:
    name: str
    kind: str
    schedule: Schedule
    target: DocumentTarget | None = None  # None for people jobs
    enabled: bool = True
    created_at: str = ""
    updated_at: str = ""
    write_back: bool = False  # discussion counts written into its libraries (documents jobs)

    def describe_target(self) -> str:
        """What the job mirrors, in words, for `list` and `show`."""
        if self.kind == PEOPLE or self.target is None:
            return "people and groups"
        words = describe_target(self.target)
        return f"{words}; write-back on" if self.write_back else words


def documents_job(name: str, target: DocumentTarget, schedule: Schedule) -> Job:
    """A valid documents job (InvalidJob otherwise)."""
    check_name(name)
    check_target(target)
    return Job(name, DOCUMENTS, schedule, target)


def people_job(name: str, schedule: Schedule) -> Job:
    check_name(name)
    return Job(name, PEOPLE, schedule)


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise InvalidJob(
            f"job name '{name}' is not valid: use lower-case letters, digits and '-' only"
        )


def check_target(target: DocumentTarget) -> None:
    chosen = [target.all_sites, bool(target.site_urls), target.site_search is not None]
    if sum(chosen) != 1:
        raise InvalidJob(
            "choose the sites with exactly one of --all-sites, --site URL, --site-search QUERY"
            " (or --library alone for those libraries on every site)"
        )
    for url in target.site_urls:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise InvalidJob(f"site URL '{url}' is not valid: give the full https:// URL")
    if target.site_search is not None and not target.site_search.strip():
        raise InvalidJob("--site-search needs a non-empty query")


def describe_target(target: DocumentTarget) -> str:
    if target.all_sites:
        words = ["all sites"]
    elif target.site_urls:
        words = ["sites " + ", ".join(target.site_urls)]
    else:
        words = [f"sites matching '{target.site_search}'"]
    words += [f"{label} {', '.join(values)}" for label, values in target_filters(target)]
    return "; ".join(words)


def target_filters(target: DocumentTarget) -> list[tuple[str, Sequence[str]]]:
    """The filters the target sets, each as (label, values), in the order the CLI shows them;
    filters left empty are not listed."""
    labelled = (
        ("libraries", target.libraries),
        ("include", target.include),
        ("exclude", target.exclude),
        ("file types", target.file_types),
    )
    return [(label, values) for label, values in labelled if values]


def verify_sites(site_by_url: Callable[[str], object], urls: Iterable[str]) -> None:
    """Asks the tenant for each site URL: SiteNotFound for an unknown one, TenantUnreachable,
    PermissionNotGranted, ... (as SyncErrors) when the tenant cannot tell."""
    for url in urls:
        try:
            site_by_url(url)
        except NotFound as exc:
            raise SiteNotFound(url, exc.request_id) from exc
        except ConnectorError as exc:
            raise from_connector_error(exc) from exc


# -- storage ---------------------------------------------------------------------------------


def add_job(db: sqlite_utils.Database, job: Job) -> Job:
    """Saves a new job; JobExists if the name is taken."""
    now = _now()
    saved = replace(job, created_at=now, updated_at=now)
    try:
        with transaction(db) as conn:
            conn.execute(
                "INSERT INTO jobs (name, kind, target, schedule, enabled, created_at, updated_at,"
                " write_back) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _row(saved),
            )
    except IntegrityError as exc:
        raise JobExists(f"a job named '{job.name}' already exists") from exc
    return saved


def get_job(db: sqlite_utils.Database, name: str) -> Job:
    row = db.conn.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE name = ?",
        (name,),
    ).fetchone()
    if row is None:
        raise JobNotFound(f"no job named '{name}' (see `plaza sync list`)")
    return _job(row)


def list_jobs(db: sqlite_utils.Database, enabled_only: bool = False) -> list[Job]:
    sql = f"SELECT {JOB_COLUMNS} FROM jobs"
    if enabled_only:
        sql += " WHERE enabled = 1"
    return [_job(row) for row in db.conn.execute(sql + " ORDER BY name")]


def update_job(db: sqlite_utils.Database, job: Job) -> Job:
    """Replaces a job's target, schedule and enabled flag; JobNotFound if it is gone."""
    saved = replace(job, updated_at=_now())
    with transaction(db) as conn:
        cursor = conn.execute(
            "UPDATE jobs SET target = ?, schedule = ?, enabled = ?, updated_at = ?,"
            " write_back = ? WHERE name = ? AND kind = ?",
            (*_row(saved)[2:5], saved.updated_at, int(saved.write_back), saved.name, saved.kind),
        )
        if cursor.rowcount == 0:
            raise JobNotFound(f"no {job.kind} job named '{job.name}' (see `plaza sync list`)")
    return saved


def set_enabled(db: sqlite_utils.Database, name: str, enabled: bool) -> Job:
    return update_job(db, replace(get_job(db, name), enabled=enabled))


def remove_job(db: sqlite_utils.Database, name: str) -> None:
    """Deletes the job; its run history stays (runs name their job)."""
    with transaction(db) as conn:
        if conn.execute("DELETE FROM jobs WHERE name = ?", (name,)).rowcount == 0:
            raise JobNotFound(f"no job named '{name}' (see `plaza sync list`)")


def _row(job: Job) -> tuple:
    target = json.dumps(asdict(job.target)) if job.target else "{}"
    return (
        job.name,
        job.kind,
        target,
        job.schedule.to_json(),
        int(job.enabled),
        job.created_at,
        job.updated_at,
        int(job.write_back),
    )


def _job(row: tuple) -> Job:
    name, kind, target_json, schedule_json, enabled, created_at, updated_at, write_back = row
    target = None
    if kind == DOCUMENTS:
        fields = json.loads(target_json)
        target = DocumentTarget(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
        )
    schedule = Schedule.from_json(schedule_json)
    return Job(
        name, kind, schedule, target, bool(enabled), created_at, updated_at, bool(write_back)
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
