"""Carrying out a PagePlan: the writes to items, acl and cursors for one delta page.

Everything here runs inside the caller's transaction (sync.db.transaction), so a page, its
permissions, the derived columns of every item it touches and the drive's cursor commit
together or not at all. SQL on items, acl and cursors lives here and in derive.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from operator import attrgetter

from sync.derive import rederive
from sync.dialect import is_postgres
from sync.plan import FAILED, INHERITED, OK, UNKNOWN, ItemRow, KnownItem, Lineage, PagePlan
from sync.principals import AclEntry
from sync.targets import DocumentTarget

ROW_COLUMNS = [f.name for f in fields(ItemRow)]
# A shallow tuple of the row's values: dataclasses.astuple deep-copies every field, which was
# the largest CPU cost of writing a page.
ROW_VALUES = attrgetter(*ROW_COLUMNS)
KEYS = ("drive_id", "item_id")
UPSERT = (
    f"INSERT INTO items ({', '.join(ROW_COLUMNS)}, perms_state) "
    f"VALUES ({', '.join('?' * len(ROW_COLUMNS))}, ?) "
    "ON CONFLICT (drive_id, item_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ROW_COLUMNS if c not in (*KEYS, "seen_round"))
    + ", seen_round = COALESCE(excluded.seen_round, items.seen_round)"
    ", deleted = 0, deleted_at = NULL"
)
KNOWN = """
SELECT item_id, parent_id, name, etag, web_url, path, acl_item_id, is_folder, has_unique_perms,
       perms_state, deleted, ctag, modified_at, modified_by
FROM items WHERE drive_id = ? AND item_id IN (SELECT value FROM json_each(?))
"""
LINEAGE = """
WITH RECURSIVE chain(item_id) AS (
    SELECT value FROM json_each(:ids)
    UNION
    SELECT p.parent_id FROM chain
    JOIN items p ON p.drive_id = :drive AND p.item_id = chain.item_id
    WHERE p.parent_id IS NOT NULL
)
SELECT i.item_id, i.parent_id, i.acl_item_id, i.deleted
FROM chain JOIN items i ON i.drive_id = :drive AND i.item_id = chain.item_id
"""
TOMBSTONE_SUBTREES = """
WITH RECURSIVE doomed(item_id) AS (
    SELECT value FROM json_each(:ids)
    UNION
    SELECT c.item_id FROM doomed d
    JOIN items c ON c.drive_id = :drive AND c.parent_id = d.item_id AND c.deleted = 0
)
UPDATE items SET deleted = 1, deleted_at = :now
WHERE drive_id = :drive AND deleted = 0 AND item_id IN (SELECT item_id FROM doomed)
"""


@dataclass
class Applied:
    """What a page changed beyond its plan's own counts."""

    deleted: int = 0
    permission_changes: int = 0


def load_known(conn: sqlite3.Connection, drive_id: str, ids: Iterable[str]) -> dict[str, KnownItem]:
    rows = conn.execute(KNOWN, (drive_id, json.dumps(sorted(ids))))
    return {
        row[0]: KnownItem(*row[:7], bool(row[7]), bool(row[8]), row[9], bool(row[10]), *row[11:])
        for row in rows
    }


def load_lineage(
    conn: sqlite3.Connection, drive_id: str, item_ids: Iterable[str]
) -> dict[str, Lineage]:
    """The items and every ancestor of them up to the library root, as the index has them."""
    rows = conn.execute(LINEAGE, {"drive": drive_id, "ids": json.dumps(sorted(item_ids))})
    return {row[0]: Lineage(row[1], row[2], bool(row[3])) for row in rows}


def apply_page(
    conn: sqlite3.Connection,
    drive_id: str,
    plan: PagePlan,
    permissions: Mapping[str, list[AclEntry] | None],
    target: DocumentTarget,
    now: str,
) -> Applied:
    """Writes the plan. `permissions` holds the ACL read for each item of
    plan.read_permissions, or None where reading failed (the item is then visible to nobody)."""
    applied = Applied()
    rows = plan.upserts
    conn.executemany(
        UPSERT, [(*ROW_VALUES(r), UNKNOWN if r.has_unique_perms else INHERITED) for r in rows]
    )
    applied.deleted += tombstone(conn, drive_id, plan.tombstones, now)
    applied.permission_changes += drop_permissions(conn, drive_id, plan.drop_permissions)
    for item_id in plan.read_permissions:
        applied.permission_changes += set_permissions(
            conn, drive_id, item_id, permissions.get(item_id)
        )
    derived = rederive(conn, drive_id, plan.rederive, plan.old_web_urls)
    if target.include or target.exclude:  # a move can carry files out of what is kept
        excluded = [
            d.item_id
            for d in derived
            if not d.is_folder and d.path and not target.keeps_file(d.path, d.file_type)
        ]
        applied.deleted += tombstone(conn, drive_id, excluded, now)
    return applied


def tombstone(conn: sqlite3.Connection, drive_id: str, item_ids: list[str], now: str) -> int:
    """Marks the items and every live item below them deleted; returns how many."""
    if not item_ids:
        return 0
    done = conn.execute(
        TOMBSTONE_SUBTREES, {"ids": json.dumps(item_ids), "drive": drive_id, "now": now}
    )
    if is_postgres(conn):
        return done.rowcount
    # cursor.rowcount is -1 for a statement that starts with WITH; SQLite still counts it.
    return conn.execute("SELECT changes()").fetchone()[0]


def drop_permissions(conn: sqlite3.Connection, drive_id: str, item_ids: list[str]) -> int:
    """Items that inherit again: their own ACL rows go; returns how many had some."""
    changed = 0
    for item_id in item_ids:
        cursor = conn.execute(
            "DELETE FROM acl WHERE drive_id = ? AND item_id = ?", (drive_id, item_id)
        )
        changed += cursor.rowcount > 0
        conn.execute(
            "UPDATE items SET perms_state = ? WHERE drive_id = ? AND item_id = ?",
            (INHERITED, drive_id, item_id),
        )
    return changed


def set_permissions(
    conn: sqlite3.Connection, drive_id: str, item_id: str, entries: list[AclEntry] | None
) -> int:
    """Replaces an item's ACL rows; returns 1 when that changes who the item admits: its
    complete ACL changed, or it inherited until now (first reads of new items count 0)."""
    key = (drive_id, item_id)
    state = conn.execute(
        "SELECT perms_state FROM items WHERE drive_id = ? AND item_id = ?", key
    ).fetchone()
    before = set(
        conn.execute("SELECT principal, role, via FROM acl WHERE drive_id = ? AND item_id = ?", key)
    )
    conn.execute("DELETE FROM acl WHERE drive_id = ? AND item_id = ?", key)
    if entries is None:
        conn.execute(
            "UPDATE items SET perms_state = ? WHERE drive_id = ? AND item_id = ?", (FAILED, *key)
        )
        return int(bool(state) and state[0] == OK)
    conn.executemany(
        "INSERT INTO acl (drive_id, item_id, principal, role, via) VALUES (?, ?, ?, ?, ?)",
        [(*key, e.principal, e.role, e.via) for e in entries],
    )
    conn.execute("UPDATE items SET perms_state = ? WHERE drive_id = ? AND item_id = ?", (OK, *key))
    after = {(e.principal, e.role, e.via) for e in entries}
    was = state[0] if state else None
    return int(was == INHERITED or (was == OK and before != after))


# -- rounds and cursors ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    link: str  # a nextLink while a round is under way, else the round's deltaLink
    round_id: str | None  # set while that round is a full enumeration
    mid_round: bool = False  # `link` is a nextLink: the round is not finished


def load_cursor(conn: sqlite3.Connection, scope: str) -> Cursor | None:
    row = conn.execute(
        "SELECT delta_link, round_id, mid_round FROM cursors WHERE scope = ?", (scope,)
    ).fetchone()
    return Cursor(row[0], row[1], bool(row[2])) if row else None


def save_cursor(conn: sqlite3.Connection, scope: str, cursor: Cursor, now: str) -> None:
    conn.execute(
        "INSERT INTO cursors (scope, delta_link, updated_at, round_id, mid_round) "
        "VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (scope) DO UPDATE SET delta_link = excluded.delta_link, "
        "updated_at = excluded.updated_at, round_id = excluded.round_id, "
        "mid_round = excluded.mid_round",
        (scope, cursor.link, now, cursor.round_id, int(cursor.mid_round)),
    )


def forget_cursor(conn: sqlite3.Connection, scope: str) -> None:
    conn.execute("DELETE FROM cursors WHERE scope = ?", (scope,))


def sweep(conn: sqlite3.Connection, drive_id: str, round_id: str, now: str) -> int:
    """End of a full enumeration: live items of the drive it did not see are gone."""
    cursor = conn.execute(
        "UPDATE items SET deleted = 1, deleted_at = ? WHERE drive_id = ? AND deleted = 0 "
        "AND (seen_round IS NULL OR seen_round != ?)",
        (now, drive_id, round_id),
    )
    return cursor.rowcount


def unread_acl_holders(conn: sqlite3.Connection, drive_id: str, limit: int) -> list[str]:
    """Live unique items whose permissions are not known (a read failed or never happened)."""
    rows = conn.execute(
        "SELECT item_id FROM items WHERE drive_id = ? "
        "AND has_unique_perms = 1 AND perms_state != 'ok' AND deleted = 0 LIMIT ?",  # partial index
        (drive_id, limit),
    )
    return [row[0] for row in rows]
