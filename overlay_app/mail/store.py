"""The SQL of `mail_queue`, `outbox` and `mail_choices` in overlay.db; no other module touches
them. Functions take the connection to run on (a write's transaction, or a read handle).

mail_queue: what a person is to be told by mail (one row per notification wanting email);
state queued -> taken (into an outbox row) or dropped (read meanwhile, no longer visible,
unsubscribed). outbox: one row per mail, composed; state pending -> sending -> sent, or back
to pending (a retry), failed (refused for good), uncertain (a crash or a broken connection
in the middle of SMTP's DATA: never sent again, so never twice) or withdrawn (a document in
it can no longer be opened; its items are queued again and re-checked).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from overlay_app.db import SocialConn

QUEUED, TAKEN, DROPPED = "queued", "taken", "dropped"
PENDING, SENDING, SENT, FAILED, UNCERTAIN, WITHDRAWN = (
    "pending", "sending", "sent", "failed", "uncertain", "withdrawn",
)  # fmt: skip
DAILY, HOURLY, WEEKLY, OFF = "daily", "hourly", "weekly", "off"

_ITEM_COLUMNS = """id, person_id, event, immediate, conversation, drive_id, item_id, room_id,
    notification_id, actor_id, created_at, due_at, comment_id, message_id"""


@dataclass(frozen=True)
class Item:
    """A row of mail_queue: one thing to tell one person."""

    id: int
    person_id: str
    event: str
    immediate: bool
    conversation: str
    drive_id: str
    item_id: str
    room_id: str | None
    notification_id: int | None
    actor_id: str
    created_at: str
    due_at: str
    comment_id: str | None = None  # what it is about: a hidden or deleted one is never mailed
    message_id: int | None = None


@dataclass(frozen=True)
class Mail:
    """A row of the outbox, as the sender needs it."""

    id: int
    message_id: str
    person_id: str
    mail_kind: str
    recipient: str
    subject: str
    text_body: str
    html_body: str
    unsubscribe_url: str
    places: list
    attempts: int
    created_at: str


# -- the queue -----------------------------------------------------------------------------------


def enqueue(conn: sqlite3.Connection, item: Item) -> None:
    conn.execute(
        "INSERT INTO mail_queue (person_id, event, immediate, conversation, drive_id, item_id,"
        " room_id, notification_id, actor_id, created_at, due_at, comment_id, message_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [item.person_id, item.event, int(item.immediate), item.conversation, item.drive_id,
         item.item_id, item.room_id, item.notification_id, item.actor_id, item.created_at,
         item.due_at, item.comment_id, item.message_id],
    )  # fmt: skip


def due_immediate(conn: SocialConn, now: str, limit: int) -> list[Item]:
    rows = conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM mail_queue"
        " WHERE state = 'queued' AND immediate = 1 AND due_at <= ? ORDER BY id LIMIT ?",
        [now, limit],
    )
    return [_item(row) for row in rows]


def people_with_digest_items(conn: SocialConn) -> list[tuple[str, str]]:
    """(person_id, oldest queued digest item's time) of everyone with something queued."""
    rows = conn.execute(
        "SELECT person_id, min(created_at) FROM mail_queue"
        " WHERE state = 'queued' AND immediate = 0 GROUP BY person_id ORDER BY person_id"
    )
    return rows.fetchall()


def digest_items(conn: SocialConn, person_id: str) -> list[Item]:
    rows = conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM mail_queue"
        " WHERE person_id = ? AND state = 'queued' AND immediate = 0 ORDER BY id",
        [person_id],
    )
    return [_item(row) for row in rows]


def settle_items(
    conn: sqlite3.Connection, ids: list[int], state: str, outbox_id: int | None = None
) -> None:
    """Marks queued items taken (into that outbox row) or dropped."""
    conn.execute(
        "UPDATE mail_queue SET state = ?, outbox_id = ?"
        " WHERE state = 'queued' AND id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
        [state, outbox_id, json.dumps(ids)],
    )


def requeue_items_of(conn: sqlite3.Connection, outbox_id: int) -> None:
    conn.execute(
        "UPDATE mail_queue SET state = 'queued', outbox_id = NULL WHERE outbox_id = ?",
        [outbox_id],
    )


def items_of(conn: SocialConn, outbox_id: int) -> list[Item]:
    """The queue items a composed mail took."""
    rows = conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM mail_queue WHERE outbox_id = ? ORDER BY id", [outbox_id]
    )
    return [_item(row) for row in rows]


def _item(row: tuple) -> Item:
    values = list(row)
    values[3] = bool(values[3])
    return Item(*values)


# -- the outbox ----------------------------------------------------------------------------------


def add_mail(conn: sqlite3.Connection, mail: Mail, now: str) -> int:
    """The composed mail, pending; its rowid."""
    cursor = conn.execute(
        "INSERT INTO outbox (message_id, person_id, mail_kind, recipient, subject, text_body,"
        " html_body, unsubscribe_url, places, state, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
        [mail.message_id, mail.person_id, mail.mail_kind, mail.recipient, mail.subject,
         mail.text_body, mail.html_body, mail.unsubscribe_url, json.dumps(mail.places), now,
         mail.created_at],
    )  # fmt: skip
    return int(cursor.fetchone()[0])


def pending_mails(conn: SocialConn, now: str, limit: int) -> list[Mail]:
    rows = conn.execute(
        "SELECT id, message_id, person_id, mail_kind, recipient, subject, text_body, html_body,"
        " unsubscribe_url, places, attempts, created_at FROM outbox"
        " WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        [now, limit],
    )
    return [Mail(*row[:9], json.loads(row[9]), *row[10:]) for row in rows]


def claim(conn: sqlite3.Connection, mail_id: int, now: str) -> bool:
    """pending -> sending, with the attempt counted; False if another sender took it."""
    cursor = conn.execute(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_attempt_at = ?"
        " WHERE id = ? AND state = 'pending'",
        [now, mail_id],
    )
    return cursor.rowcount == 1


def set_state(
    conn: sqlite3.Connection,
    mail_id: int,
    state: str,
    *,
    error: str | None = None,
    next_attempt_at: str | None = None,
    sent_at: str | None = None,
) -> None:
    conn.execute(
        "UPDATE outbox SET state = ?, last_error = coalesce(?, last_error),"
        " next_attempt_at = coalesce(?, next_attempt_at), sent_at = ? WHERE id = ?",
        [state, error, next_attempt_at, sent_at, mail_id],
    )


def abandoned_sending(conn: sqlite3.Connection, before: str) -> int:
    """Rows left 'sending' by a sender that stopped before `before` (a crash): uncertain."""
    cursor = conn.execute(
        "UPDATE outbox SET state = 'uncertain', last_error = 'the sender stopped while sending'"
        " WHERE state = 'sending' AND next_attempt_at < ?",
        [before],
    )
    return cursor.rowcount


def counts_by_state(conn: SocialConn) -> dict[str, int]:
    return dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())


def sent_mails(conn: SocialConn, limit: int) -> list[tuple]:
    """(id, recipient, subject, state, sent_at) of the latest mails, newest first."""
    rows = conn.execute(
        "SELECT id, recipient, subject, state, sent_at FROM outbox ORDER BY id DESC LIMIT ?",
        [limit],
    )
    return rows.fetchall()


# -- choices -------------------------------------------------------------------------------------


def digest_choice(conn: SocialConn, person_id: str) -> tuple[str, str | None]:
    """(hourly | daily | weekly | off, when the last digest was composed)."""
    row = conn.execute(
        "SELECT digest, last_digest_at FROM mail_choices WHERE person_id = ?", [person_id]
    ).fetchone()
    return (row[0], row[1]) if row else (DAILY, None)


def set_digest(conn: sqlite3.Connection, person_id: str, digest: str) -> None:
    conn.execute(
        "INSERT INTO mail_choices (person_id, digest) VALUES (?, ?)"
        " ON CONFLICT (person_id) DO UPDATE SET digest = excluded.digest",
        [person_id, digest],
    )


def digest_composed(conn: sqlite3.Connection, person_id: str, at: str) -> None:
    conn.execute(
        "INSERT INTO mail_choices (person_id, digest, last_digest_at) VALUES (?, 'daily', ?)"
        " ON CONFLICT (person_id) DO UPDATE SET last_digest_at = excluded.last_digest_at",
        [person_id, at],
    )
