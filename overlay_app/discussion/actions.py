"""Writing comments: `check_*` validates and authorises, `do_*` writes inside one transaction.

The order of checks is part of the contract: 401 (nobody signed in) -> 404 (the document or
comment is not visible, identical to missing) -> 403 (not your comment) -> 409 (archived
document, deleted comment) -> 400/413 (the body) -> 429 (rate). Notifications are written in
the same transaction as the comment; the caller answers only after COMMIT, so an acknowledged
comment is on disk (synchronous=FULL).

Idempotency: a POST may carry an Idempotency-Key. The first success is stored with the key (per
person) and the hash of the request; the same key with the same request replays that response,
with another request it is a 409. Looked up again inside the write transaction (BEGIN
IMMEDIATE), so two concurrent retries cannot both insert.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from overlay_app import access, db, security
from overlay_app.access import Document
from overlay_app.discussion import mentions, rendering
from overlay_app.discussion import reads as discussion
from overlay_app.discussion.reads import CommentNode
from overlay_app.discussion.rendering import MAX_BODY_CHARS, Mentioned
from overlay_app.errors import BadInput, Conflict, Forbidden, NotFound, PayloadTooLarge
from overlay_app.identity import Person
from overlay_app.notifications import views as notifications

ARCHIVED = "this document was deleted in SharePoint; its discussion is archived"
MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class Draft:
    body: str
    body_html: str
    mentioned: dict[str, Mentioned]
    parent_id: str | None = None
    parent_author_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    status: int
    payload: dict[str, Any]
    replayed: bool = False


# --- checks -----------------------------------------------------------------------------------


def check_body(body: Any) -> str:
    if not isinstance(body, str):
        raise BadInput('"body" must be text: write something first')
    if not body.strip():
        raise BadInput("write something first")
    if len(body) > MAX_BODY_CHARS:
        raise PayloadTooLarge(
            f"A comment can be at most {MAX_BODY_CHARS:,} characters; this one has "
            f"{len(body):,}. Shorten it or split it into replies."
        )
    return body


def check_writable(document: Document) -> None:
    if document.archived:
        raise Conflict(ARCHIVED)


def check_own(person: Person, comment: dict[str, Any], verb: str) -> None:
    if comment["author_id"] != person.id:
        raise Forbidden(f"You can only {verb} your own comments.")


def check_live(comment: dict[str, Any]) -> None:
    if comment.get("deleted_at"):
        raise Conflict("That comment was deleted.")


def check_parent(document: Document, parent_id: Any) -> str | None:
    """The author of the comment being replied to (None for a top-level comment)."""
    if parent_id is None or parent_id == "":
        return None
    if not isinstance(parent_id, str):
        raise BadInput('"parent_id" must be the id of a comment on this document, or null.')
    row = (
        db.social()
        .execute(
            "SELECT author_id, deleted_at FROM comments"
            " WHERE id = ? AND drive_id = ? AND item_id = ?",
            [parent_id, document.drive_id, document.item_id],
        )
        .fetchone()
    )
    if row is None:
        raise BadInput('"parent_id" is not a comment on this document.')
    if row[1] is not None:
        raise Conflict("That comment was deleted, so it cannot be replied to.")
    return row[0]


def check_text(document: Document, body: str) -> tuple[str, dict[str, Mentioned]]:
    """The body's safe HTML and the people it mentions (400 if one of them cannot open the
    document), from one parse of its Markdown."""
    parsed = rendering.parse(body)
    mentioned = mentions.check_mentions(parsed, document.drive_id, document.item_id)
    return parsed.html(mentioned), mentioned


def check_new_comment(document: Document, body: Any, parent_id: Any) -> Draft:
    check_writable(document)
    body = check_body(body)
    parent_author = check_parent(document, parent_id)
    body_html, mentioned = check_text(document, body)
    return Draft(
        body=body,
        body_html=body_html,
        mentioned=mentioned,
        parent_id=parent_id or None,
        parent_author_id=parent_author,
    )


def check_edit(comment: dict[str, Any], document: Document, body: Any) -> Draft:
    """The new text of a live comment on a writable document."""
    check_live(comment)
    check_writable(document)
    body = check_body(body)
    body_html, mentioned = check_text(document, body)
    return Draft(body, body_html, mentioned)


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_CHARS:
        raise BadInput(f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} characters.")
    return key


FORGET_REPLAYED_WORDS = """
    UPDATE idempotency
    SET response = json_set(response, '$.body', '', '$.bodyHtml', '', '$.deleted', json('true'))
    WHERE person_id = :author AND response ->> '$.id' = :id"""


# --- idempotency ------------------------------------------------------------------------------


def request_hash(document: Document, body: Any, parent_id: Any) -> str:
    canonical = json.dumps([document.drive_id, document.item_id, body, parent_id or None])
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(person: Person, key: str | None, digest: str) -> Outcome | None:
    """The stored answer for a retried request; 409 if the key was used for another one."""
    if key is None:
        return None
    row = (
        db.social()
        .execute(
            "SELECT request_hash, status, response FROM idempotency"
            " WHERE person_id = ? AND key = ?",
            [person.id, key],
        )
        .fetchone()
    )
    if row is None:
        return None
    if row[0] != digest:
        raise Conflict(
            "This Idempotency-Key was already used for a different request; "
            "use a new key for a new comment."
        )
    return Outcome(row[1], json.loads(row[2]), replayed=True)


def remember(
    conn: sqlite3.Connection, person: Person, key: str, digest: str, outcome: Outcome
) -> None:
    conn.execute(
        "INSERT INTO idempotency (person_id, key, request_hash, status, response, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [person.id, key, digest, outcome.status, json.dumps(outcome.payload), discussion.now()],
    )


# --- writes -----------------------------------------------------------------------------------


def do_add_comment(
    conn: sqlite3.Connection, person: Person, document: Document, draft: Draft
) -> CommentNode:
    comment_id, at = str(uuid.uuid4()), discussion.now()
    conn.execute(
        "INSERT INTO comments (id, drive_id, item_id, parent_id, author_id, body, body_html,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            comment_id,
            document.drive_id,
            document.item_id,
            draft.parent_id,
            person.id,
            draft.body,
            draft.body_html,
            at,
        ],
    )
    mentioned_ids = _record_mentions(conn, comment_id, draft.mentioned.values())
    key = {
        "actor_id": person.id,
        "drive_id": document.drive_id,
        "item_id": document.item_id,
        "comment_id": comment_id,
        "at": at,
    }
    for person_id in mentioned_ids:
        notifications.notify(conn, recipient_id=person_id, kind=notifications.MENTION, **key)
    if draft.parent_author_id not in mentioned_ids:  # one notification each, mention first
        notifications.notify(
            conn, recipient_id=draft.parent_author_id, kind=notifications.REPLY, **key
        )
    return CommentNode(
        comment_id,
        document.drive_id,
        document.item_id,
        draft.parent_id,
        person.id,
        person.display_name,
        draft.body,
        draft.body_html,
        at,
        None,
        False,
        0,
        False,
    )


def _record_mentions(conn: sqlite3.Connection, comment_id: str, people) -> list[str]:
    ids = sorted({person.person_id for person in people})
    conn.executemany(
        "INSERT INTO mentions (comment_id, person_id) VALUES (?, ?)",
        [(comment_id, person_id) for person_id in ids],
    )
    return ids


def do_edit_comment(
    conn: sqlite3.Connection, person: Person, comment: dict[str, Any], draft: Draft
) -> None:
    """New text; people newly mentioned are notified, those no longer mentioned un-notified."""
    at = discussion.now()
    conn.execute(
        "UPDATE comments SET body = ?, body_html = ?, edited_at = ? WHERE id = ?",
        [draft.body, draft.body_html, at, comment["id"]],
    )
    before = {
        row[0]
        for row in conn.execute(
            "SELECT person_id FROM mentions WHERE comment_id = ?", [comment["id"]]
        )
    }
    conn.execute("DELETE FROM mentions WHERE comment_id = ?", [comment["id"]])
    after = set(_record_mentions(conn, comment["id"], draft.mentioned.values()))
    notifications.withdraw(
        conn, comment["id"], kind=notifications.MENTION, recipients=sorted(before - after)
    )
    for person_id in sorted(after - before):
        notifications.notify(
            conn,
            recipient_id=person_id,
            kind=notifications.MENTION,
            actor_id=person.id,
            drive_id=comment["drive_id"],
            item_id=comment["item_id"],
            comment_id=comment["id"],
            at=at,
        )


def do_delete_comment(conn: sqlite3.Connection, comment: dict[str, Any]) -> None:
    """Soft delete: the row stays (replies hang from it) but its words, likes and
    notifications go."""
    conn.execute(
        "UPDATE comments SET body = '', body_html = '', deleted_at = ? WHERE id = ?",
        [discussion.now(), comment["id"]],
    )
    conn.execute("DELETE FROM mentions WHERE comment_id = ?", [comment["id"]])
    conn.execute("DELETE FROM comment_likes WHERE comment_id = ?", [comment["id"]])
    notifications.withdraw(conn, comment["id"])
    # A retried POST still answers with the comment it made, as it is now: words gone too.
    conn.execute(FORGET_REPLAYED_WORDS, {"author": comment["author_id"], "id": comment["id"]})


# --- the operations the views call -------------------------------------------------------------


def add_comment(
    person: Person, drive_id: str, item_id: str, body: Any, parent_id: Any, key: str | None
) -> Outcome:
    document = access.require_document(person, drive_id, item_id)
    key = check_idempotency_key(key)
    digest = request_hash(document, body, parent_id)
    earlier = replay(person, key, digest)
    if earlier is not None:
        return earlier
    draft = check_new_comment(document, body, parent_id)
    with db.transaction() as conn:
        earlier = replay(person, key, digest)  # a concurrent retry may have won the race
        if earlier is not None:
            return earlier
        security.check_rate(person, "comment")  # counted with the write, or not at all
        node = do_add_comment(conn, person, document, draft)
        outcome = Outcome(201, node.to_json())
        if key is not None:
            remember(conn, person, key, digest, outcome)
    return outcome


def edit_comment(person: Person, comment_id: str, body: Any) -> CommentNode:
    comment, document = access.require_comment(person, comment_id)
    check_own(person, comment, "edit")
    draft = check_edit(comment, document, body)
    with db.transaction() as conn:
        security.check_rate(person, "comment")  # counted with the write, or not at all
        do_edit_comment(conn, person, comment, draft)
    return view_comment(person, comment_id)


def delete_comment(person: Person, comment_id: str) -> Document:
    """Deletes one's own comment; returns the document it was on (for redirects)."""
    comment, document = access.require_comment(person, comment_id)
    check_own(person, comment, "delete")
    check_live(comment)
    check_writable(document)
    with db.transaction() as conn:
        security.check_rate(person, "comment")  # counted with the write, or not at all
        do_delete_comment(conn, comment)
    return document


def view_comment(person: Person, comment_id: str) -> CommentNode:
    """One visible comment with its replies; 404 when gone (deleted without replies)."""
    _comment, document = access.require_comment(person, comment_id)
    node = discussion.comment_view(person.id, document.drive_id, document.item_id, comment_id)
    if node is None:
        raise NotFound()
    return node
