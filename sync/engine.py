"""The sync engine: documents (sites, libraries, items, permissions) and people (users, groups).

`sync_documents` resolves a job's target to sites and libraries, then syncs every library on a
bounded thread pool: per library, each delta page is planned without I/O (sync/plan.py), the
permissions it needs are read (sync/principals.py), and the page, its ACLs, every derived path
and ACL holder below it and the library's cursor are written in one transaction
(sync/apply.py, sync/derive.py). Each worker has its own sqlite connection; waits for
throttling are coordinated by the connector's shared pause. Site group members are refreshed
from SharePoint REST for each site on every run.

`sync_people` mirrors users, groups and memberships by delta (sync/people.py).

Both raise only sync.errors.SyncError (connector errors are translated here), with the counts
committed before the failure on `error.counts`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

import sqlite_utils

from connector.errors import ConnectorError
from sync.counts import NullProgress, Progress, RunCounts, SerialProgress
from sync.db import connect, location_of, transaction
from sync.drive_sync import DriveSync
from sync.errors import PermissionNotGranted, SyncError, from_connector_error
from sync.people import UpnResolver, now_iso, sync_people_and_groups
from sync.plan import DriveContext
from sync.sites import SiteDrives, read_site_groups, save_site_groups, save_sites, sites_of_target
from sync.source import Connector
from sync.targets import DocumentTarget

__all__ = [
    "Connector",
    "NullProgress",
    "Progress",
    "RunCounts",
    "sync_documents",
    "sync_people",
]

Task = Callable[[sqlite_utils.Database], RunCounts]
NO_PROGRESS = NullProgress()


def sync_documents(
    db: sqlite_utils.Database,
    connector: Connector,
    target: DocumentTarget,
    *,
    full: bool = False,
    progress: Progress = NO_PROGRESS,
    workers: int = 4,
    page_size: int | None = None,
) -> RunCounts:
    """Mirrors the target's libraries into the index; `full` re-enumerates them (and sweeps).

    `page_size` asks Graph for pages of that many items ($top) on full enumerations.
    """
    watch = _RunProgress(progress, connector)
    counts = RunCounts()
    try:
        found = sites_of_target(connector, target)
        with transaction(db, mirror=True) as conn:
            save_sites(conn, found, now_iso())
        resolve_upn = UpnResolver(db.conn, connector.graph)
        tasks = [_site_groups_task(connector, entry, resolve_upn) for entry in found]
        stop = threading.Event()
        for entry in found:
            for drive in entry.drives:
                context = DriveContext(drive.id or "", entry.site_id, _title(entry))
                task = _drive_task(
                    connector, context, target, resolve_upn, watch, stop, full, page_size
                )
                tasks.append(task)
        _run_tasks(db, tasks, workers, stop, counts)
    except ConnectorError as exc:
        raise _failed(from_connector_error(exc), counts, watch) from exc
    except SyncError as exc:
        raise _failed(exc, counts, watch) from None
    watch.finish(counts)
    return counts


def sync_people(
    db: sqlite_utils.Database,
    connector: Connector,
    *,
    full: bool = False,
    progress: Progress = NO_PROGRESS,
) -> RunCounts:
    """Mirrors users, groups and transitive memberships by delta; `full` re-reads them all."""
    watch = _RunProgress(progress, connector)
    try:
        counts = sync_people_and_groups(db, connector, full, watch)
    except ConnectorError as exc:
        raise _failed(from_connector_error(exc), RunCounts(), watch) from exc
    except SyncError as exc:
        raise _failed(exc, RunCounts(), watch) from None
    watch.finish(counts)
    return counts


# -- tasks ---------------------------------------------------------------------------------


def _drive_task(connector, context, target, resolve_upn, progress, stop, full, page_size) -> Task:
    def run(db: sqlite_utils.Database) -> RunCounts:
        drive = DriveSync(db, connector, context, target, resolve_upn, progress, stop, page_size)
        try:
            return drive.run(full)
        except BaseException as exc:
            exc.partial_counts = drive.counts  # type: ignore[attr-defined]
            raise

    return run


def _site_groups_task(connector: Connector, entry: SiteDrives, resolve_upn) -> Task:
    def run(db: sqlite_utils.Database) -> RunCounts:
        if not entry.site.web_url:
            return RunCounts()
        rows = read_site_groups(connector, entry.site.web_url, resolve_upn)
        with transaction(db, mirror=True) as conn:
            changed = save_site_groups(conn, entry.site_id, rows)
        return RunCounts(permission_changes=changed)

    return run


def _run_tasks(
    db: sqlite_utils.Database,
    tasks: list[Task],
    workers: int,
    stop: threading.Event,
    counts: RunCounts,
) -> None:
    """Runs tasks on a bounded pool, each worker thread on its own connection to the index.

    The first failure stops the other tasks after their current page; it is raised once all
    have stopped (a 403 first: it is the one an admin must act on).
    """
    path = location_of(db)
    if path is None:  # an in-memory index cannot be shared: one worker, the caller's connection
        workers = 1
    local = threading.local()
    opened: list[sqlite_utils.Database] = []
    lock = threading.Lock()

    def connection() -> sqlite_utils.Database:
        if path is None:
            return db
        if not hasattr(local, "db"):
            local.db = connect(path)
            with lock:
                opened.append(local.db)
        return local.db

    def run(task: Task) -> RunCounts:
        return RunCounts() if stop.is_set() else task(connection())

    errors: list[BaseException] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sync") as pool:
            for future in as_completed([pool.submit(run, task) for task in tasks]):
                try:
                    counts.add(future.result())
                except BaseException as exc:  # re-raised below, once the others have stopped
                    stop.set()
                    errors.append(exc)
                    counts.add(getattr(exc, "partial_counts", RunCounts()))
    finally:
        for worker_db in opened:
            worker_db.close()
    if errors:
        raise _most_actionable(errors)


def _most_actionable(errors: list[BaseException]) -> BaseException:
    for error in errors:
        if isinstance(error, PermissionNotGranted) or (
            isinstance(error, ConnectorError) and error.status == 403
        ):
            return error
    return errors[0]


def _title(entry: SiteDrives) -> str | None:
    return entry.site.display_name or entry.site.name


# -- progress and counts ---------------------------------------------------------------------


class _RunProgress(SerialProgress):
    """The caller's Progress, called one thread at a time, also told of throttled waits
    (from the connector's counters) after each page."""

    def __init__(self, progress: Progress, connector: Connector) -> None:
        super().__init__(progress)
        self._connector = connector
        self._start = self._seen = connector.stats()
        self._watch_lock = threading.Lock()

    def on_page(self, items: int) -> None:
        self._report_waits()
        super().on_page(items)

    def _report_waits(self) -> None:
        with self._watch_lock:
            now = self._connector.stats()
            waits = now.throttled_waits - self._seen.throttled_waits
            seconds = now.throttled_seconds - self._seen.throttled_seconds
            self._seen = now
        for _ in range(waits):
            self.on_throttled(seconds / waits)

    def finish(self, counts: RunCounts) -> None:
        self._report_waits()
        now = self._connector.stats()
        counts.throttled_waits = now.throttled_waits - self._start.throttled_waits
        counts.throttled_seconds = round(now.throttled_seconds - self._start.throttled_seconds, 3)


def _failed(error: SyncError, counts: RunCounts, watch: _RunProgress) -> SyncError:
    watch.finish(counts)
    error.counts = counts
    return error
