"""Runs of sync jobs: the one job wrapper (`run_job`) and the only SQL on `runs`.

`run_job` is what the CLI, the scheduler and tests call. It takes the job's lock (sync.locks),
records the run, calls the engine, and turns whatever went wrong into words on the run record
(ARCHITECTURE.md, Errors: the scheduler's job wrapper is one of the three places where errors
become words). It raises only for problems of the command itself: an unknown job, or an index
written by a newer Plaza. Outcomes: "running" while it runs, then "succeeded", "failed" or
"skipped" (another process held the job's lock, so this one did nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils

from connector.errors import ConnectorError
from sync import locks
from sync.counts import RunCounts
from sync.db import open_index, transaction
from sync.errors import SyncError, from_connector_error
from sync.jobs import PEOPLE, Job, get_job

if TYPE_CHECKING:  # the engine is imported when a run starts, so `history` stays light
    from sync.engine import Progress
    from sync.source import Connector

log = logging.getLogger(__name__)

RUNNING, SUCCEEDED, FAILED, SKIPPED = "running", "succeeded", "failed", "skipped"
# A run records its totals; pages and items are progress that the runs table does not keep.
COUNT_COLUMNS = tuple(f.name for f in fields(RunCounts) if f.name not in ("pages", "items"))
INTERRUPTED = (
    "interrupted: the process running it stopped before it finished "
    "(the next run continues from the last committed page)"
)


class RunStopped(SyncError):
    """Raised from a progress callback to stop a run between pages (graceful shutdown)."""


@dataclass(frozen=True)
class Run:
    """One run's record; `counts` holds its totals (all but pages and items are recorded, in
    columns of the runs table named like RunCounts' fields)."""

    id: int
    job: str
    started_at: str
    ended_at: str | None
    outcome: str
    full: bool
    counts: RunCounts = field(default_factory=RunCounts)
    error: str | None = None
    request_id: str | None = None

    @property
    def seconds(self) -> float | None:
        if not self.ended_at:
            return None
        ended = datetime.fromisoformat(self.ended_at)
        return (ended - datetime.fromisoformat(self.started_at)).total_seconds()


# The runs table's columns in the order of Run's fields, the counts spread into their own.
RUN_COLUMNS = tuple(
    column for f in fields(Run) for column in (COUNT_COLUMNS if f.name == "counts" else (f.name,))
)
# "full" quoted: a reserved word on PostgreSQL (FULL JOIN), a plain name on SQLite
SELECTED = ", ".join(f'"{c}"' if c == "full" else c for c in RUN_COLUMNS)


def run_job(
    db_path: str | Path,
    name: str,
    full: bool = False,
    progress: Progress | None = None,
    connector: Connector | None = None,
) -> Run:
    """Runs job `name` once, unless another process is running it; returns the run record.

    Raises JobNotFound and IndexTooNew; every other failure is recorded on the run.
    """
    from sync.engine import NullProgress

    db = open_index(db_path)
    try:
        job = get_job(db, name)
        owner = locks.new_owner()
        lock_name = f"job:{name}"
        holder = locks.acquire(db, lock_name, owner)
        if holder is not None:
            return record_skipped(db, name, full, holder)
        try:
            fail_interrupted_runs(db, name)
            run_id = start_run(db, name, full)
            with locks.Heartbeat(db_path, lock_name, owner):
                return _run(db, job, run_id, full, progress or NullProgress(), connector)
        finally:
            locks.release(db, lock_name, owner)
    finally:
        db.close()


def _run(db, job: Job, run_id: int, full: bool, progress: Progress, connector) -> Run:
    from sync.engine import sync_documents, sync_people
    from sync.source import Connector

    log.info("run %d of job %s started%s", run_id, job.name, " (full)" if full else "")
    try:
        connector = connector or Connector.from_env()
        if job.kind == PEOPLE:
            counts = sync_people(db, connector, full=full, progress=progress)
        else:
            counts = sync_documents(db, connector, job.target, full=full, progress=progress)
    except (SyncError, ConnectorError) as exc:
        error = exc if isinstance(exc, SyncError) else from_connector_error(exc)
        log.warning("run %d of job %s failed: %s", run_id, job.name, error)
        return finish_run(
            db,
            run_id,
            FAILED,
            getattr(error, "counts", None),
            str(error),
            getattr(error, "request_id", None),
        )
    except Exception as exc:  # a bug: still recorded, so the job goes on next time
        log.exception("run %d of job %s failed unexpectedly", run_id, job.name)
        return finish_run(db, run_id, FAILED, None, f"internal error: {type(exc).__name__}: {exc}")
    except BaseException:  # KeyboardInterrupt, SystemExit: record, then let it stop us
        finish_run(db, run_id, FAILED, None, INTERRUPTED)
        raise
    log.info("run %d of job %s succeeded", run_id, job.name)
    return finish_run(db, run_id, SUCCEEDED, counts)


# -- storage ---------------------------------------------------------------------------------


def start_run(db: sqlite_utils.Database, job: str, full: bool) -> int:
    with transaction(db) as conn:
        row = conn.execute(
            'INSERT INTO runs (job, started_at, outcome, "full") VALUES (?, ?, ?, ?) RETURNING id',
            (job, _now(), RUNNING, int(full)),
        ).fetchone()
    return int(row[0])


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    outcome: str,
    counts: RunCounts | None = None,
    error: str | None = None,
    request_id: str | None = None,
) -> Run:
    values = [getattr(counts, column, 0) if counts else 0 for column in COUNT_COLUMNS]
    assignments = ", ".join(f"{column} = ?" for column in COUNT_COLUMNS)
    with transaction(db) as conn:
        conn.execute(
            f"UPDATE runs SET ended_at = ?, outcome = ?, error = ?, request_id = ?, {assignments}"
            " WHERE id = ?",
            (_now(), outcome, error, request_id, *values, run_id),
        )
    return get_run(db, run_id)


def record_skipped(db: sqlite_utils.Database, job: str, full: bool, holder: str) -> Run:
    """A run that did nothing because `holder` was running the job."""
    now = _now()
    error = f"job '{job}' is already running (lock held by {holder})"
    with transaction(db) as conn:
        row = conn.execute(
            'INSERT INTO runs (job, started_at, ended_at, outcome, "full", error)'
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (job, now, now, SKIPPED, int(full), error),
        ).fetchone()
    log.info("job %s skipped: already running (%s)", job, holder)
    return get_run(db, int(row[0]))


def fail_interrupted_runs(db: sqlite_utils.Database, job: str) -> int:
    """Marks runs left 'running' by a dead process as failed; call while holding the lock.

    Holding the job's lock proves no live process is running the job, so any run still
    'running' belongs to a process that died (kill -9, power loss) before it could record.
    """
    with transaction(db) as conn:
        cursor = conn.execute(
            "UPDATE runs SET outcome = ?, error = ?, ended_at = COALESCE(ended_at, ?)"
            " WHERE job = ? AND outcome = ?",
            (FAILED, INTERRUPTED, _now(), job, RUNNING),
        )
    return cursor.rowcount


def get_run(db: sqlite_utils.Database, run_id: int) -> Run:
    row = db.conn.execute(f"SELECT {SELECTED} FROM runs WHERE id = ?", (run_id,)).fetchone()
    return _run_of(row)


def history(db: sqlite_utils.Database, job: str | None = None, limit: int = 20) -> list[Run]:
    """The latest runs, newest first, of one job or of all."""
    sql = f"SELECT {SELECTED} FROM runs"
    params: tuple = ()
    if job is not None:
        sql += " WHERE job = ?"
        params = (job,)
    sql += " ORDER BY id DESC LIMIT ?"
    return [_run_of(row) for row in db.conn.execute(sql, (*params, limit))]


def latest_runs(db: sqlite_utils.Database) -> dict[str, Run]:
    """Each job's latest run, by job name."""
    rows = db.conn.execute(
        f"SELECT {SELECTED} FROM runs WHERE id IN (SELECT MAX(id) FROM runs GROUP BY job)"
    )
    return {run.job: run for run in map(_run_of, rows)}


def last_started(db: sqlite_utils.Database, job: str) -> datetime | None:
    """When the job's latest run that did something (not skipped) started."""
    row = db.conn.execute(
        "SELECT started_at FROM runs WHERE job = ? AND outcome != ? ORDER BY id DESC LIMIT 1",
        (job, SKIPPED),
    ).fetchone()
    return datetime.fromisoformat(row[0]) if row else None


def throttling_since(db: sqlite_utils.Database, since: datetime) -> tuple[int, float]:
    """Throttled waits (429/503 with Retry-After, counted at connector.session's one retry
    decision) and the seconds waited, over the runs started since `since`."""
    waits, seconds = db.conn.execute(
        "SELECT coalesce(sum(throttled_waits), 0), coalesce(sum(throttled_seconds), 0)"
        " FROM runs WHERE started_at >= ?",
        (since.astimezone(UTC).isoformat(timespec="milliseconds"),),
    ).fetchone()
    return int(waits), float(seconds)


def last_succeeded(db: sqlite_utils.Database) -> dict[str, Run]:
    """Each job's latest successful run, by job name."""
    rows = db.conn.execute(
        f"SELECT {SELECTED} FROM runs WHERE id IN"
        " (SELECT MAX(id) FROM runs WHERE outcome = ? GROUP BY job)",
        (SUCCEEDED,),
    )
    return {run.job: run for run in map(_run_of, rows)}


def _run_of(row: tuple) -> Run:
    values = dict(zip(RUN_COLUMNS, row, strict=True))
    counts = RunCounts(**{column: values.pop(column) for column in COUNT_COLUMNS})
    return Run(**{**values, "full": bool(values["full"])}, counts=counts)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
