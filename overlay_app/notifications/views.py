"""In-app notifications: someone mentioned you, replied to you, or liked your comment.

Each notification is written in the same transaction as the write that caused it (`notify`),
never to the actor themself. Reading trims at read time: a notification about a document the
recipient can no longer see is hidden from every surface (the list, the page, unread_count), so
revoking access in SharePoint silences it without touching the rows; granting it back brings
it back.

Chat mentions are notifications too: their rows also name the room and message (room_id,
message_id; drive_id and item_id are '' for channels and direct rooms) and are trimmed by
chat_access instead, so leaving a closed channel or losing a document silences them alike.

A notification's id, as people see it, is random (public_id): the rowid counts everyone's
notifications, so it only orders them inside; a chat mention names its message the same way.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, g, jsonify, redirect, render_template, request

from overlay_app import access, db, schema
from overlay_app.chat import access as chat_access
from overlay_app.discussion import reads as discussion
from overlay_app.discussion import rendering
from overlay_app.discussion.openapi import NOTIFICATION_PATHS
from overlay_app.errors import BadInput
from overlay_app.identity import Person, current_person, require_person

bp = Blueprint("notifications", __name__)
API_PATHS = NOTIFICATION_PATHS

MENTION, REPLY, LIKE = "mention", "reply", "like"
DEFAULT_LIMIT, MAX_LIMIT, BATCH = 50, 200, 200
MAX_IDS = 500


@dataclass(frozen=True)
class Notification:
    id: str
    kind: str
    actor: discussion.PersonRef
    drive_id: str
    item_id: str
    document_name: str
    comment_id: str | None
    excerpt: str
    created_at: str
    read: bool
    room_id: str | None = None  # chat mentions
    message_id: str | None = None  # the message's public id
    room_title: str = ""  # "#channel", "the chat about <document>", "a direct conversation"

    @property
    def url(self) -> str:
        if self.room_id is not None:
            return f"/chat/{self.room_id}#message-{self.message_id}"
        anchor = f"#comment-{self.comment_id}" if self.comment_id else ""
        return f"/documents/{self.drive_id}/{self.item_id}{anchor}"

    @property
    def sentence(self) -> str:
        what = {
            MENTION: "mentioned you on",
            REPLY: "replied to you on",
            LIKE: "liked your comment on",
        }.get(self.kind, "wrote on")
        if self.room_id is not None:
            what = "mentioned you in" if self.kind == MENTION else "wrote in"
            return f"{self.actor.display_name} {what} {self.room_title}"
        return f"{self.actor.display_name} {what} {self.document_name}"

    def to_json(self) -> dict[str, Any]:
        answer = {
            "id": self.id,
            "kind": self.kind,
            "read": self.read,
            "createdAt": self.created_at,
            "actor": self.actor.to_json(),
            "document": None
            if not self.drive_id
            else {
                "driveId": self.drive_id,
                "itemId": self.item_id,
                "name": self.document_name,
            },
            "commentId": self.comment_id,
            "excerpt": self.excerpt,
            "url": self.url,
        }
        if self.room_id is not None:
            answer.update(roomId=self.room_id, messageId=self.message_id)
        return answer


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
    room_id: str | None = None,
    message_id: int | None = None,
) -> str | None:
    """Records one notification, unless the recipient is the actor; its (public) id."""
    if recipient_id is None or recipient_id == actor_id:
        return None
    public_id = schema.new_public_id()
    conn.execute(
        "INSERT INTO notifications (person_id, kind, actor_id, drive_id, item_id, comment_id,"
        " created_at, room_id, message_id, public_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [recipient_id, kind, actor_id, drive_id, item_id, comment_id, at, room_id, message_id,
         public_id],
    )  # fmt: skip
    return public_id


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


def withdraw_message(
    conn: sqlite3.Connection, message_id: int, recipients: list[str] | None = None
) -> None:
    """Removes notifications about a chat message (deleted, or mentions edited away)."""
    sql, params = "DELETE FROM notifications WHERE message_id = ?", [message_id]
    if recipients is not None:
        sql += " AND person_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(recipients))
    conn.execute(sql, params)


# --- reading (trimmed by the recipient's access) -------------------------------------------


# The hot queries, as constants so that tests can check their plans (notifications_by_person).
NEWEST_SQL = """
    SELECT n.id, n.kind, n.actor_id, n.drive_id, n.item_id, n.comment_id, n.created_at,
           n.read_at, n.room_id, n.message_id, n.public_id, m.public_id
    FROM notifications AS n LEFT JOIN messages AS m ON m.id = n.message_id
    WHERE n.person_id = :person AND n.id < :before AND (:unread_only = 0 OR n.read_at IS NULL)
    ORDER BY n.id DESC LIMIT :batch"""

UNREAD_BY_DOCUMENT_SQL = """
    SELECT drive_id, item_id, room_id, count(*) FROM notifications
    WHERE person_id = :person AND read_at IS NULL
    GROUP BY drive_id, item_id, room_id"""


def _visible_places(person: Person, places: set[tuple]) -> set[tuple]:
    """The (drive_id, item_id, room_id) places the person may still see: documents through
    access, chat rooms through chat_access."""
    rooms = {room_id for _, _, room_id in places if room_id}
    documents = access.filter_visible(person, {(d, i) for d, i, room_id in places if not room_id})
    rooms_seen = chat_access.visible_room_ids(person, rooms) if rooms else set()
    return {
        (d, i, room_id)
        for d, i, room_id in places
        if (room_id in rooms_seen if room_id else (d, i) in documents)
    }


def visible_rows(person: Person, limit: int, unread_only: bool = False) -> list[tuple]:
    """The person's newest notifications about documents they can still see."""
    params = {"person": person.id, "before": 2**62, "unread_only": int(unread_only), "batch": BATCH}
    found: list[tuple] = []
    while len(found) < limit:
        rows = db.social().execute(NEWEST_SQL, params).fetchall()
        if not rows:
            break
        visible = _visible_places(person, {(row[3], row[4], row[8]) for row in rows})
        found.extend(row for row in rows if (row[3], row[4], row[8]) in visible)
        params["before"] = rows[-1][0]
    return found[:limit]


def listing(
    person: Person, limit: int = DEFAULT_LIMIT, unread_only: bool = False
) -> list[Notification]:
    rows = visible_rows(person, limit, unread_only)
    names = discussion.display_names(row[2] for row in rows)
    titles = _document_names(person, {(row[3], row[4]) for row in rows if row[3]})
    places = _room_titles({row[8] for row in rows if row[8]}, titles)
    excerpts = _excerpts({row[5] for row in rows if row[5]})
    chat_excerpts = _message_excerpts({row[9] for row in rows if row[9]})
    return [
        Notification(
            public_id,
            kind,
            discussion.PersonRef(actor, discussion.name_of(actor, names)),
            drive_id,
            item_id,
            titles.get((drive_id, item_id), "a document"),
            comment_id,
            chat_excerpts.get(mid, "") if mid else excerpts.get(comment_id or "", ""),
            created,
            read is not None,
            room_id,
            message_public_id,
            places.get(room_id or "", ""),
        )
        for (
            _, kind, actor, drive_id, item_id, comment_id, created, read, room_id, mid,
            public_id, message_public_id,
        ) in rows
    ]  # fmt: skip


def _room_titles(room_ids: set[str], titles: dict[tuple[str, str], str]) -> dict[str, str]:
    """How a notification names a chat room: the document's chat, #channel, or a direct one."""
    found = {}
    for room in chat_access.load_rooms(room_ids).values():
        if room.document_key is not None:
            found[room.id] = "the chat about " + titles.get(room.document_key, "a document")
        elif room.kind == chat_access.CHANNEL:
            found[room.id] = f"#{room.name}"
        else:
            found[room.id] = "a direct conversation"
    return found


def _document_names(person: Person, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Names of the documents (already trimmed) that the notifications are about."""
    found = access.documents(person, keys)
    return {key: document.name or "a document" for key, document in found.items()}


def _excerpts(comment_ids: set[str]) -> dict[str, str]:
    if not comment_ids:
        return {}
    rows = db.social().execute(
        "SELECT id, body FROM comments WHERE deleted_at IS NULL"
        " AND id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(comment_ids))],
    )
    return {cid: rendering.excerpt(body) for cid, body in rows}


def _message_excerpts(message_ids: set[int]) -> dict[int, str]:
    if not message_ids:
        return {}
    rows = db.social().execute(
        "SELECT id, body FROM messages WHERE deleted_at IS NULL"
        " AND id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(message_ids))],
    )
    return {mid: rendering.excerpt(body) for mid, body in rows}


def count_unread(person: Person) -> int:
    """Unread notifications about documents and chat rooms the person can still see."""
    rows = db.social().execute(UNREAD_BY_DOCUMENT_SQL, {"person": person.id}).fetchall()
    if not rows:
        return 0
    visible = _visible_places(person, {(d, i, r) for d, i, r, _ in rows})
    return sum(n for d, i, r, n in rows if (d, i, r) in visible)


def unread_count() -> int:
    """Template global for the header badge: 0 when nobody is signed in. Counted once per
    request (base.html asks twice)."""
    person = current_person()
    if person is None:
        return 0
    if "plaza_unread_count" not in g:
        g.plaza_unread_count = count_unread(person)
    return g.plaza_unread_count


def mark_read(person: Person, ids: list[str] | None, at: str) -> None:
    """Marks the person's own notifications read: the given ids, or all of them (ids=None)."""
    sql = "UPDATE notifications SET read_at = ? WHERE person_id = ? AND read_at IS NULL"
    params: list[Any] = [at, person.id]
    if ids is not None:
        sql += " AND public_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(ids))
    with db.transaction() as conn:
        conn.execute(sql, params)


def check_read_request(payload: Any) -> list[str] | None:
    """{"ids": [..]} or {"all": true} -> the ids, or None for all."""
    if not isinstance(payload, dict):
        raise BadInput('Send {"ids": [...]} or {"all": true}.')
    if payload.get("all") is True:
        return None
    ids = payload.get("ids")
    if not isinstance(ids, list) or not all(schema.is_public_id(i) for i in ids):
        raise BadInput('Send {"ids": [...]} (notification ids, as listed) or {"all": true}.')
    if len(ids) > MAX_IDS:
        raise BadInput(f'At most {MAX_IDS} ids at once; or send {{"all": true}}.')
    return ids


def _is_number(raw: str) -> bool:
    """ASCII digits only: str.isdigit() also passes "²", which int() refuses."""
    return raw.isascii() and raw.isdigit()


def _limit_arg() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not _is_number(raw) or not 1 <= int(raw) <= MAX_LIMIT:
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
        if not raw or not all(schema.is_public_id(value) for value in raw):
            raise BadInput("Choose a notification to mark as read.")
        ids = raw[:MAX_IDS]
    mark_read(person, ids, discussion.now())
    return redirect("/notifications", code=303)


def init_app(app: Flask) -> None:
    app.add_template_global(unread_count)
