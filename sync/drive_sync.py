"""One drive's sync: delta pages -> plan -> permissions -> apply + cursor, one transaction each.

The cursor (scope "drive:{id}") is saved with every page: the nextLink while a round is under
way (Graph's links are opaque and resumable), the deltaLink when it ends. So a crash loses at
most the page being applied, and the next run continues from the last committed one; having
finished a round that an earlier run began, it does one more round (from that round's
deltaLink), so that changes made in between are in the index when the run ends.

A round without a cursor (first sync, `full=True`, after a 410 or with a cursor Graph did not
issue to the configured endpoint) is a full enumeration: it
gets a round id, every item it lists is marked with it, and when it ends the drive's live items
it did not list are tombstoned (mark and sweep). The round id is stored with the cursor, so an
interrupted full round still sweeps when it is resumed.
"""

from __future__ import annotations

import threading
import uuid

import sqlite_utils

from connector.errors import ConnectorError, DeltaExpired, GraphError, NotFound, Throttled
from connector.models import ChangesPage, DriveItem, Permission
from sync.apply import (
    Cursor,
    apply_page,
    load_cursor,
    load_known,
    load_lineage,
    save_cursor,
    set_permissions,
    sweep,
    unread_acl_holders,
)
from sync.counts import Progress, RunCounts
from sync.db import transaction
from sync.people import now_iso
from sync.pg_analyze import analyze_if_grown
from sync.plan import DriveContext, holders_above_deletions, ids_to_know, plan_page
from sync.principals import AclEntry, ResolveUpn, acl_of
from sync.source import Connector
from sync.targets import DocumentTarget

RETRY_UNREAD_LIMIT = 200  # unknown ACLs re-read at the end of a run, at most


def new_round_id() -> str:
    return uuid.uuid4().hex


def why_restart(expired: DeltaExpired) -> str:
    """Why a cursor could not be resumed, in the run's messages."""
    return "the delta token expired (410)" if expired.status == 410 else str(expired)


class DriveSync:
    """Syncs one drive on one sqlite connection (each worker thread has its own)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        connector: Connector,
        drive: DriveContext,
        target: DocumentTarget,
        resolve_upn: ResolveUpn,
        progress: Progress,
        stop: threading.Event,
        page_size: int | None = None,
    ) -> None:
        self.db, self.connector, self.drive, self.target = db, connector, drive, target
        self.resolve_upn, self.progress, self.stop = resolve_upn, progress, stop
        self.page_size = page_size
        self.scope = f"drive:{drive.drive_id}"
        self.counts = RunCounts()
        self.unreadable: set[str] = set()  # items whose permissions this run could not read

    def run(self, full: bool = False) -> RunCounts:
        cursor = None if full else load_cursor(self.db.conn, self.scope)
        try:
            if cursor is None:
                self._round(None, new_round_id())
            else:
                self._round(cursor.link, cursor.round_id)
                if cursor.mid_round and not self.stop.is_set():
                    self._catch_up()
        except DeltaExpired as expired:
            self.progress.on_message(
                f"drive {self.drive.drive_id}: {why_restart(expired)}; "
                "enumerating the whole library again"
            )
            self._round(None, new_round_id())
        if not self.stop.is_set():
            self._retry_unread()
        return self.counts

    def _catch_up(self) -> None:
        """One more round after finishing a round an earlier run began: its deltaLink starts
        from that round's beginning, so changes made since then come now, not a run later."""
        finished = load_cursor(self.db.conn, self.scope)
        if finished is not None and not finished.mid_round:
            self._round(finished.link, None)

    def _round(self, link: str | None, round_id: str | None) -> None:
        pages = self.connector.graph.drive_changes(self.drive.drive_id, link, self.page_size)
        for page in pages:
            self._apply(page, round_id)
            if self.stop.is_set() or page.last:
                return

    def _apply(self, page: ChangesPage[DriveItem], round_id: str | None) -> None:
        known = load_known(
            self.db.conn, self.drive.drive_id, ids_to_know(page.items, page.deleted_ids)
        )
        plan = plan_page(self.drive, page.items, page.deleted_ids, known, self.target, round_id)
        if plan.tombstones:
            lineage = load_lineage(self.db.conn, self.drive.drive_id, plan.tombstones)
            plan.read_permissions += holders_above_deletions(plan, lineage)
        acls = self.read_acls(plan.read_permissions)
        now = now_iso()
        with transaction(self.db, mirror=True) as conn:
            applied = apply_page(conn, self.drive.drive_id, plan, acls, self.target, now)
            if page.last:
                if round_id is not None:
                    applied.deleted += sweep(conn, self.drive.drive_id, round_id, now)
                save_cursor(conn, self.scope, Cursor(page.delta_link or "", None), now)
            elif page.next_link:
                save_cursor(conn, self.scope, Cursor(page.next_link, round_id, True), now)
        analyze_if_grown(self.db)  # PostgreSQL: a first sync's plans made on an empty index
        seen = len(page.items) + len(page.deleted_ids)
        self.counts.add(
            RunCounts(
                added=plan.added,
                updated=plan.updated,
                moved=plan.moved,
                deleted=applied.deleted,
                permission_changes=applied.permission_changes,
                pages=1,
                items=seen,
            )
        )
        self.progress.on_page(seen)

    def read_acls(self, item_ids: list[str]) -> dict[str, list[AclEntry] | None]:
        """ACLs of unique items; None for an item whose permissions could not be read.

        An item whose read still fails after the connector's retries (503, 504, a dropped
        connection) gets None: the page applies without it, its permissions 'failed' (hidden
        to everyone, read again next run), and the run reports it. One deleted since the page
        was read (404) gets None too, unreported: a later page tombstones it. A 403
        (PermissionMissing), a 429 past every retry (the whole app is throttled) and
        authentication failures propagate: the job fails and the page is not applied, so no
        document is ever indexed with permissions that were never read.
        """
        if not item_ids:
            return {}
        found, failures = self._permissions(item_ids)
        self._record_failures(item_ids, failures)
        return {
            item_id: acl_of(found[item_id], self.drive.site_id, self.resolve_upn)
            if item_id in found
            else None
            for item_id in item_ids
        }

    def _permissions(
        self, item_ids: list[str]
    ) -> tuple[dict[str, list[Permission]], dict[str, ConnectorError]]:
        """The permissions found, and the error of each item whose read failed (404s aside)."""
        graph = self.connector.graph
        try:
            return graph.permissions_of_items(self.drive.drive_id, item_ids), {}
        except (Throttled, GraphError) as exc:  # one bad answer: read one by one, keep the rest
            _raise_unless_item_failure(exc)
        found: dict[str, list[Permission]] = {}
        failures: dict[str, ConnectorError] = {}
        for item_id in item_ids:
            try:
                found[item_id] = graph.permissions(self.drive.drive_id, item_id)
            except NotFound:
                continue  # deleted since the page was read: a later page says so
            except (Throttled, GraphError) as exc:
                _raise_unless_item_failure(exc)
                failures[item_id] = exc
        return found, failures

    def _record_failures(self, item_ids: list[str], failures: dict[str, ConnectorError]) -> None:
        """Counts the items left unreadable by this run (an item read later counts no more)."""
        self.unreadable.difference_update(item_ids)
        self.unreadable.update(failures)
        self.counts.permission_failures = len(self.unreadable)
        if failures:
            first = next(iter(failures.values()))
            self.progress.on_message(
                f"drive {self.drive.drive_id}: could not read the permissions of"
                f" {', '.join(sorted(failures))} ({first.status or first.code}: {first.message});"
                " hidden from everyone until a later run reads them"
            )

    def _retry_unread(self) -> None:
        """Unique items whose permissions failed earlier get one more read per run."""
        item_ids = unread_acl_holders(self.db.conn, self.drive.drive_id, RETRY_UNREAD_LIMIT)
        if not item_ids:
            return
        acls = self.read_acls(item_ids)
        with transaction(self.db, mirror=True) as conn:
            for item_id in item_ids:
                set_permissions(conn, self.drive.drive_id, item_id, acls.get(item_id))


def _raise_unless_item_failure(error: ConnectorError) -> None:
    """A 429 past every retry is the whole app being throttled, not one item: the job fails."""
    if isinstance(error, Throttled) and error.status == 429:
        raise error
