"""One drive's sync: delta pages -> plan -> permissions -> apply + cursor, one transaction each.

The cursor (scope "drive:{id}") is saved with every page: the nextLink while a round is under
way (Graph's links are opaque and resumable), the deltaLink when it ends. So a crash loses at
most the page being applied, and the next run continues from the last committed one; having
finished a round that an earlier run began, it does one more round (from that round's
deltaLink), so that changes made in between are in the index when the run ends.

A round without a cursor (first sync, `full=True`, or after a 410) is a full enumeration: it
gets a round id, every item it lists is marked with it, and when it ends the drive's live items
it did not list are tombstoned (mark and sweep). The round id is stored with the cursor, so an
interrupted full round still sweeps when it is resumed.
"""

from __future__ import annotations

import threading
import uuid

import sqlite_utils

from connector.errors import DeltaExpired, GraphError, NotFound
from connector.models import ChangesPage, DriveItem, Permission
from sync.apply import (
    Cursor,
    apply_page,
    load_cursor,
    load_known,
    save_cursor,
    set_permissions,
    sweep,
    unread_acl_holders,
)
from sync.counts import Progress, RunCounts
from sync.db import transaction
from sync.people import now_iso
from sync.plan import DriveContext, ids_to_know, plan_page
from sync.principals import AclEntry, ResolveUpn, acl_of
from sync.source import Connector
from sync.targets import DocumentTarget

RETRY_UNREAD_LIMIT = 200  # unknown ACLs re-read at the end of a run, at most


def new_round_id() -> str:
    return uuid.uuid4().hex


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

    def run(self, full: bool = False) -> RunCounts:
        cursor = None if full else load_cursor(self.db.conn, self.scope)
        try:
            if cursor is None:
                self._round(None, new_round_id())
            else:
                self._round(cursor.link, cursor.round_id)
                if cursor.mid_round and not self.stop.is_set():
                    self._catch_up()
        except DeltaExpired:
            self.progress.on_message(
                f"drive {self.drive.drive_id}: the delta token expired (410); "
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
        acls = self.read_acls(plan.read_permissions)
        now = now_iso()
        with transaction(self.db) as conn:
            applied = apply_page(conn, self.drive.drive_id, plan, acls, self.target, now)
            if page.last:
                if round_id is not None:
                    applied.deleted += sweep(conn, self.drive.drive_id, round_id, now)
                save_cursor(conn, self.scope, Cursor(page.delta_link or "", None), now)
            elif page.next_link:
                save_cursor(conn, self.scope, Cursor(page.next_link, round_id, True), now)
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

        PermissionMissing (403) and Throttled propagate: the page is not applied and the job
        fails, so no document is ever indexed with permissions that were never read.
        """
        if not item_ids:
            return {}
        found = self._permissions(item_ids)
        return {
            item_id: acl_of(found[item_id], self.drive.site_id, self.resolve_upn)
            if item_id in found
            else None
            for item_id in item_ids
        }

    def _permissions(self, item_ids: list[str]) -> dict[str, list[Permission]]:
        graph = self.connector.graph
        try:
            return graph.permissions_of_items(self.drive.drive_id, item_ids)
        except GraphError:  # one bad answer in the batch: read one by one to keep the rest
            found: dict[str, list[Permission]] = {}
            for item_id in item_ids:
                try:
                    found[item_id] = graph.permissions(self.drive.drive_id, item_id)
                except (NotFound, GraphError):
                    continue  # left out: its ACL is unknown, the item visible to nobody
            return found

    def _retry_unread(self) -> None:
        """Unique items whose permissions failed earlier get one more read per run."""
        item_ids = unread_acl_holders(self.db.conn, self.drive.drive_id, RETRY_UNREAD_LIMIT)
        if not item_ids:
            return
        acls = self.read_acls(item_ids)
        with transaction(self.db) as conn:
            for item_id in item_ids:
                set_permissions(conn, self.drive.drive_id, item_id, acls.get(item_id))
