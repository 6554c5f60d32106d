"""People and groups by delta: `people`, `groups`, `group_members` and `memberships`.

Users delta fills `people` (enabled, guest, profile); each changed user's manager and whether
they have a photo come from one $batch per ten users. Groups delta (with members@delta) fills
`groups` and the direct `group_members`; then `memberships` (user -> every group they are in,
through nesting) is recomputed in SQL with a recursive CTE, stored once, never per item.

Cursors "users" and "groups" keep each deltaLink. A round with no cursor, a 410, a cursor from
another Graph endpoint or `full=True` is a full enumeration: what it did not see is marked
deleted at its end (mark and sweep).
Manager changes alone do not show in users delta (a relationship is not a selected
property): they are picked up when the user changes otherwise or at the next full round.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from connector.errors import DeltaExpired, NotFound
from connector.graph import GraphSource
from connector.models import ChangesPage, Group, User
from connector.profile_extras import ProfileExtras
from sync.apply import Cursor, forget_cursor, load_cursor, save_cursor
from sync.counts import Progress, RunCounts
from sync.db import transaction
from sync.photos import refresh_photos
from sync.source import Connector

USERS, GROUPS = "users", "groups"
UPSERT_PERSON = """
INSERT INTO people (id, upn, display_name, given_name, surname, mail, job_title, department,
    office, business_phone, manager_id, has_photo, photo_etag, enabled, guest, deleted, synced_at)
VALUES (:id, :upn, :display_name, :given_name, :surname, :mail, :job_title, :department,
    :office, :business_phone, :manager_id, :has_photo, :photo_etag, COALESCE(:enabled, 1),
    COALESCE(:guest, 0), 0, :now)
ON CONFLICT (id) DO UPDATE SET upn = excluded.upn, display_name = excluded.display_name,
    given_name = excluded.given_name, surname = excluded.surname, mail = excluded.mail,
    job_title = excluded.job_title, department = excluded.department, office = excluded.office,
    business_phone = excluded.business_phone,
    manager_id = CASE WHEN :manager_known = 1 THEN excluded.manager_id ELSE people.manager_id END,
    has_photo = COALESCE(excluded.has_photo, people.has_photo),
    photo_etag = CASE WHEN excluded.has_photo IS NULL THEN people.photo_etag
        ELSE excluded.photo_etag END,
    enabled = COALESCE(:enabled, people.enabled), guest = COALESCE(:guest, people.guest),
    deleted = 0, synced_at = excluded.synced_at
"""
UPSERT_GROUP = """
INSERT INTO groups (id, display_name, mail, description, unified, deleted, synced_at)
VALUES (?, ?, ?, ?, ?, 0, ?)
ON CONFLICT (id) DO UPDATE SET
    display_name = COALESCE(excluded.display_name, groups.display_name),
    mail = COALESCE(excluded.mail, groups.mail),
    description = COALESCE(excluded.description, groups.description),
    unified = excluded.unified, deleted = 0, synced_at = excluded.synced_at
"""
TRANSITIVE_MEMBERSHIPS = """
WITH RECURSIVE reach(user_id, group_id) AS (
    SELECT gm.member_id, gm.group_id FROM group_members gm
    JOIN groups g ON g.id = gm.group_id AND g.deleted = 0
    WHERE gm.member_type = 'user'
    UNION
    SELECT r.user_id, gm.group_id FROM reach r
    JOIN group_members gm ON gm.member_id = r.group_id AND gm.member_type = 'group'
    JOIN groups g ON g.id = gm.group_id AND g.deleted = 0
)
SELECT user_id, group_id FROM reach
"""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sync_people_and_groups(
    db: sqlite_utils.Database, connector: Connector, full: bool, progress: Progress
) -> RunCounts:
    counts = RunCounts()
    _round(db, USERS, full, progress, counts, lambda link: _users_round(connector, link))
    _round(db, GROUPS, full, progress, counts, lambda link: _groups_round(connector, link))
    refresh_photos(db, connector)
    return counts


def _round(db, scope: str, full: bool, progress: Progress, counts: RunCounts, start) -> None:
    """One delta round for users or groups; a 410 starts a full one (the cursor is dropped)."""
    cursor = None if full else load_cursor(db.conn, scope)
    try:
        _apply_round(db, scope, start(cursor.link if cursor else None), progress, counts)
    except DeltaExpired as expired:
        reason = "delta token expired" if expired.status == 410 else f"cursor unusable ({expired})"
        progress.on_message(f"{scope} {reason}: reading every {scope[:-1]} again")
        with transaction(db) as conn:
            forget_cursor(conn, scope)
        _apply_round(db, scope, start(None), progress, counts)


class RoundPages:
    """The pages of one round, what to fetch for a page before writing it (outside the
    transaction: no network call holds the write lock), and how to write it."""

    def __init__(self, pages, full: bool, write: Callable, prepare: Callable = lambda page: None):
        self.pages, self.full, self.write, self.prepare = pages, full, write, prepare


def _apply_round(db, scope: str, round_: RoundPages, progress: Progress, counts: RunCounts):
    seen: set[str] = set()
    for page in round_.pages:
        seen.update(obj.id for obj in page.items if obj.id)
        prepared = round_.prepare(page)
        with transaction(db, mirror=True) as conn:
            round_.write(conn, page, prepared, counts)
            if page.last:
                if round_.full:
                    counts.deleted += _sweep(conn, scope, seen)
                if scope == GROUPS:
                    counts.permission_changes += recompute_memberships(conn)
                save_cursor(conn, scope, Cursor(page.delta_link, None), now_iso())
        counts.pages += 1
        counts.items += len(page.items) + len(page.deleted_ids)
        progress.on_page(len(page.items) + len(page.deleted_ids))


# -- users ---------------------------------------------------------------------------------


def _users_round(connector: Connector, link: str | None) -> RoundPages:
    def prepare(page: ChangesPage[User]) -> dict[str, ProfileExtras]:
        ids = [u.id for u in page.items if u.id]
        return connector.profile_extras(ids) if ids else {}

    def write(conn: sqlite3.Connection, page: ChangesPage[User], extras, counts: RunCounts):
        live = [u for u in page.items if u.id]
        known = _existing(conn, "people", [u.id for u in live if u.id])
        now = now_iso()
        for user in live:
            conn.execute(UPSERT_PERSON, _person_params(user, extras.get(user.id or ""), now))
            if user.id in known:
                counts.updated += 1
            else:
                counts.added += 1
        counts.deleted += _mark_deleted(conn, "people", page.deleted_ids, now)

    return RoundPages(connector.graph.users_delta(link), link is None, write, prepare)


def _person_params(user: User, extras: ProfileExtras | None, now: str) -> dict:
    return {
        "id": user.id,
        "upn": user.user_principal_name,
        "display_name": user.display_name,
        "given_name": user.given_name,
        "surname": user.surname,
        "mail": user.mail,
        "job_title": user.job_title,
        "department": user.department,
        "office": user.office_location,
        "business_phone": user.business_phones[0] if user.business_phones else None,
        "manager_id": extras.manager_id if extras else None,
        "manager_known": int(bool(extras and extras.manager_known)),
        "has_photo": None if extras is None or extras.has_photo is None else int(extras.has_photo),
        "photo_etag": extras.photo_etag if extras else None,
        "enabled": None if user.account_enabled is None else int(user.account_enabled),
        "guest": None if user.user_type is None else int(user.user_type.lower() == "guest"),
        "now": now,
    }


# -- groups --------------------------------------------------------------------------------


def _groups_round(connector: Connector, link: str | None) -> RoundPages:
    full = link is None

    def write(conn: sqlite3.Connection, page: ChangesPage[Group], _, counts: RunCounts):
        now = now_iso()
        known = _existing(conn, "groups", [g.id for g in page.items if g.id])
        for group in page.items:
            if not group.id:
                continue
            conn.execute(UPSERT_GROUP, _group_params(group, now))
            counts.updated += group.id in known
            counts.added += group.id not in known
            _write_members(conn, group, replace=full)
        counts.deleted += _mark_deleted(conn, "groups", page.deleted_ids, now)

    return RoundPages(connector.graph.groups_delta(link), full, write)


def _group_params(group: Group, now: str) -> tuple:
    return (
        group.id, group.display_name, group.mail, group.description,
        int(group.is_microsoft365), now,
    )  # fmt: skip


def _write_members(conn: sqlite3.Connection, group: Group, replace: bool) -> None:
    """members@delta: in a full round the whole list (replace), else what changed."""
    if replace:
        conn.execute("DELETE FROM group_members WHERE group_id = ?", (group.id,))
    conn.executemany(
        "INSERT INTO group_members (group_id, member_id, member_type) VALUES (?, ?, ?)"
        " ON CONFLICT (group_id, member_id) DO UPDATE SET member_type = excluded.member_type",
        [(group.id, m.id, m.kind or "unknown") for m in group.members_added],
    )
    conn.executemany(
        "DELETE FROM group_members WHERE group_id = ? AND member_id = ?",
        [(group.id, m.id) for m in group.members_removed],
    )


def recompute_memberships(conn: sqlite3.Connection) -> int:
    """Rebuilds user -> group (transitive); returns how many memberships were gained or lost
    (0 on the first build: nobody's access changed, it became known)."""
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS next_memberships "
        "(user_id TEXT, group_id TEXT, PRIMARY KEY (user_id, group_id))"
    )
    conn.execute("DELETE FROM next_memberships")  # unqualified: the temporary one, on both
    first = None if conn.execute("SELECT 1 FROM memberships LIMIT 1").fetchone() else True
    conn.execute(f"INSERT INTO next_memberships {TRANSITIVE_MEMBERSHIPS}")
    changed = conn.execute(
        "SELECT (SELECT count(*) FROM (SELECT user_id, group_id FROM memberships EXCEPT "
        "SELECT user_id, group_id FROM next_memberships) AS lost) + (SELECT count(*) FROM ("
        "SELECT user_id, group_id FROM next_memberships EXCEPT "
        "SELECT user_id, group_id FROM memberships) AS gained)"
    ).fetchone()[0]
    if changed:
        conn.execute("DELETE FROM memberships")
        conn.execute(
            "INSERT INTO memberships (user_id, group_id) "
            "SELECT user_id, group_id FROM next_memberships"
        )
    conn.execute("DELETE FROM next_memberships")
    return int(changed) if first is None else 0


# -- shared --------------------------------------------------------------------------------


def _existing(conn: sqlite3.Connection, table: str, ids: list) -> set[str]:
    if not ids:
        return set()
    marks = ", ".join("?" * len(ids))
    rows = conn.execute(f"SELECT id FROM {table} WHERE deleted = 0 AND id IN ({marks})", ids)
    return {row[0] for row in rows}


def _mark_deleted(conn: sqlite3.Connection, table: str, ids, now: str) -> int:
    changed = 0
    for object_id in ids:
        cursor = conn.execute(
            f"UPDATE {table} SET deleted = 1, synced_at = ? WHERE id = ? AND deleted = 0",
            (now, object_id),
        )
        changed += cursor.rowcount
    return changed


def _sweep(conn: sqlite3.Connection, scope: str, seen: set[str]) -> int:
    """End of a full round: every live person (or group) it did not list is gone."""
    table = "people" if scope == USERS else "groups"
    live = [row[0] for row in conn.execute(f"SELECT id FROM {table} WHERE deleted = 0")]
    return _mark_deleted(conn, table, [i for i in live if i not in seen], now_iso())


# -- resolving people named by SharePoint claims ------------------------------------------------


class UpnResolver:
    """A person's oid from their UPN: the people table first, then Graph; cached, thread-safe.

    Unknown people resolve to None, so grants to them are dropped (fail closed).
    """

    def __init__(self, conn: sqlite3.Connection, graph: GraphSource) -> None:
        self._graph = graph
        self._lock = threading.Lock()
        rows = conn.execute(
            "SELECT lower(upn), id FROM people WHERE deleted = 0 AND upn IS NOT NULL"
        )
        self._known: dict[str, str | None] = dict(rows.fetchall())

    def __call__(self, upn: str) -> str | None:
        key = upn.strip().lower()
        with self._lock:
            if key in self._known:
                return self._known[key]
        try:
            oid = self._graph.user(_quoted_upn(key)).id
        except NotFound:
            oid = None
        with self._lock:
            self._known[key] = oid
        return oid


def _quoted_upn(upn: str) -> str:
    """A guest's UPN holds '#' ("ann_x.com#EXT#@contoso.com"), which must not end the path."""
    return upn.replace("%", "%25").replace("#", "%23")
