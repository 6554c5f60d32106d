"""In-app notifications: someone mentioned you, replied to you, or liked your comment.

Each notification is written in the same transaction as the write that caused it (`notify`),
never to the actor themself. Reading trims at read time: a notification about a document the
recipient can no longer see is hidden from every surface (the list, the page, unread_count), so
revoking access in SharePoint silences it without touching the rows; granting it back brings
it back.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, g, jsonify, redirect, render_template, request

from overlay_app import access, db, discussion, rendering
from overlay_app.discussion_openapi import NOTIFICATION_PATHS
from overlay_app.errors import BadInput
from overlay_app.identity import Person, current_person, require_person

bp = Blueprint("notifications", __name__)
API_PATHS = NOTIFICATION_PATHS

MENTION, REPLY, LIKE = "mention", "reply", "like"
DEFAULT_LIMIT, MAX_LIMIT, BATCH = 50, 200, 200
MAX_IDS = 500


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str
    actor: discussion.PersonRef
    drive_id: str
    item_id: str
    document_name: str
    comment_id: str | None
    excerpt: str
    created_at: str
    read: bool

    @property
    def url(self) -> str:
        anchor = f"#comment-{self.comment_id}" if self.comment_id else ""
        return f"/documents/{self.drive_id}/{self.item_id}{anchor}"

    @property
    def sentence(self) -> str:
        what = {
            MENTION: "mentioned you on",
            REPLY: "replied to you on",
            LIKE: "liked your comment on",
        }.get(self.kind, "wrote on")
        return f"{self.actor.display_name} {what} {self.document_name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "read": self.read,
            "createdAt": self.created_at,
            "actor": self.actor.to_json(),
            "document": {
                "driveId": self.drive_id,
                "itemId": self.item_id,
                "name": self.document_name,
            },
            "commentId": self.comment_id,
            "excerpt": self.excerpt,
            "url": self.url,
        }


# --- writing (inside the caller's transaction) ---------------------------------------------


def notify(
    conn: sqlite3.Connection,
    *,
    recipient_id: str | None,
    kind: str,
    actor_id: str,
    drive_id: str,
    item_id: str,
    comment_id: str | None,
    at: str,
) -> None:
    """Records one notification, unless the recipient is the actor."""
    if recipient_id is None or recipient_id == actor_id:
        return
    conn.execute(
        "INSERT INTO notifications (person_id, kind, actor_id, drive_id, item_id, comment_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [recipient_id, kind, actor_id, drive_id, item_id, comment_id, at],
    )


def withdraw(
    conn: sqlite3.Connection,
    comment_id: str,
    *,
    kind: str | None = None,
    actor_id: str | None = None,
    recipients: list[str] | None = None,
) -> None:
    """Removes notifications about a comment (deleted, edited away, or a like taken back)."""
    sql = "DELETE FROM notifications WHERE comment_id = ?"
    params: list[Any] = [comment_id]
    if kind is not None:
        sql, params = sql + " AND kind = ?", [*params, kind]
    if actor_id is not None:
        sql, params = sql + " AND actor_id = ?", [*params, actor_id]
    if recipients is not None:
        sql += " AND person_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(recipients))
    conn.execute(sql, params)


# --- reading (trimmed by the recipient's access) -------------------------------------------


# The hot queries, as constants so that tests can check their plans (notifications_by_person).
NEWEST_SQL = """
    SELECT id, kind, actor_id, drive_id, item_id, comment_id, created_at, read_at
    FROM notifications
    WHERE person_id = :person AND id < :before AND (:unread_only = 0 OR read_at IS NULL)
    ORDER BY id DESC LIMIT :batch"""

UNREAD_BY_DOCUMENT_SQL = """
    SELECT drive_id, item_id, count(*) FROM notifications
    WHERE person_id = :person AND read_at IS NULL
    GROUP BY drive_id, item_id"""


def visible_rows(person: Person, limit: int, unread_only: bool = False) -> list[tuple]:
    """The person's newest notifications about documents they can still see."""
    params = {"person": person.id, "before": 2**62, "unread_only": int(unread_only), "batch": BATCH}
    found: list[tuple] = []
    while len(found) < limit:
        rows = db.social().execute(NEWEST_SQL, params).fetchall()
        if not rows:
            break
        visible = access.filter_visible(person, {(row[3], row[4]) for row in rows})
        found.extend(row for row in rows if (row[3], row[4]) in visible)
        params["before"] = rows[-1][0]
    return found[:limit]


def listing(
    person: Person, limit: int = DEFAULT_LIMIT, unread_only: bool = False
) -> list[Notification]:
    rows = visible_rows(person, limit, unread_only)
    names = discussion.display_names(row[2] for row in rows)
    titles = _document_names({(row[3], row[4]) for row in rows})
    excerpts = _excerpts({row[5] for row in rows if row[5]})
    return [
        Notification(
            nid,
            kind,
            discussion.PersonRef(actor, discussion.name_of(actor, names)),
            drive_id,
            item_id,
            titles.get((drive_id, item_id), "a document"),
            comment_id,
            excerpts.get(comment_id or "", ""),
            created,
            read is not None,
        )
        for nid, kind, actor, drive_id, item_id, comment_id, created, read in rows
    ]


def _document_names(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    if not keys:
        return {}
    rows = db.index().execute(
        "SELECT i.drive_id, i.item_id, i.name FROM items AS i JOIN json_each(?) AS k"
        " ON i.drive_id = json_extract(k.value, '$[0]')"
        " AND i.item_id = json_extract(k.value, '$[1]')",
        [json.dumps(sorted(keys))],
    )
    return {(d, i): name or "a document" for d, i, name in rows}


def _excerpts(comment_ids: set[str]) -> dict[str, str]:
    if not comment_ids:
        return {}
    rows = db.social().execute(
        "SELECT id, body FROM comments WHERE deleted_at IS NULL"
        " AND id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(comment_ids))],
    )
    return {cid: rendering.excerpt(body) for cid, body in rows}


def count_unread(person: Person) -> int:
    """Unread notifications about documents the person can still see."""
    rows = db.social().execute(UNREAD_BY_DOCUMENT_SQL, {"person": person.id}).fetchall()
    if not rows:
        return 0
    visible = access.filter_visible(person, {(d, i) for d, i, _ in rows})
    return sum(n for d, i, n in rows if (d, i) in visible)


def unread_count() -> int:
    """Template global for the header badge: 0 when nobody is signed in. Counted once per
    request (base.html asks twice)."""
    person = current_person()
    if person is None:
        return 0
    if "plaza_unread_count" not in g:
        g.plaza_unread_count = count_unread(person)
    return g.plaza_unread_count


def mark_read(person: Person, ids: list[int] | None, at: str) -> None:
    """Marks the person's own notifications read: the given ids, or all of them (ids=None)."""
    sql = "UPDATE notifications SET read_at = ? WHERE person_id = ? AND read_at IS NULL"
    params: list[Any] = [at, person.id]
    if ids is not None:
        sql += " AND id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(ids))
    with db.transaction() as conn:
        conn.execute(sql, params)


def check_read_request(payload: Any) -> list[int] | None:
    """{"ids": [..]} or {"all": true} -> the ids, or None for all."""
    if not isinstance(payload, dict):
        raise BadInput('Send {"ids": [...]} or {"all": true}.')
    if payload.get("all") is True:
        return None
    ids = payload.get("ids")
    if not isinstance(ids, list) or not all(type(i) is int for i in ids):
        raise BadInput('Send {"ids": [...]} (notification ids, numbers) or {"all": true}.')
    if len(ids) > MAX_IDS:
        raise BadInput(f'At most {MAX_IDS} ids at once; or send {{"all": true}}.')
    return ids


def _limit_arg() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadInput(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


# --- routes ---------------------------------------------------------------------------------


@bp.get("/api/v1/notifications")
def api_list():
    person = require_person()
    unread_only = request.args.get("unread", "false").lower() in ("true", "1")
    items = listing(person, _limit_arg(), unread_only)
    return jsonify(
        {"unreadCount": count_unread(person), "notifications": [item.to_json() for item in items]}
    )


@bp.post("/api/v1/notifications/read")
def api_mark_read():
    person = require_person()
    ids = check_read_request(request.get_json(silent=True))
    mark_read(person, ids, discussion.now())
    return jsonify({"unreadCount": count_unread(person)})


@bp.get("/notifications")
def page():
    person = require_person()
    items = listing(person, MAX_LIMIT)
    return render_template(
        "notifications.html", notifications=items, unread=sum(1 for item in items if not item.read)
    )


@bp.post("/notifications/read")
def page_mark_read():
    person = require_person()
    if request.form.get("all") == "1":
        ids = None
    else:
        raw = request.form.getlist("id")
        if not raw or not all(value.isdigit() for value in raw):
            raise BadInput("Choose a notification to mark as read.")
        ids = [int(value) for value in raw][:MAX_IDS]
    mark_read(person, ids, discussion.now())
    return redirect("/notifications", code=303)


def init_app(app: Flask) -> None:
    app.add_template_global(unread_count)
