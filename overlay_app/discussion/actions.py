"""Writing comments and likes: `check_*` validates and authorises, `do_*` writes inside one
transaction (with the rate-limit count and the notifications).

The order of checks is part of the contract: 401 (nobody signed in) -> 404 (the document or
comment is not visible, identical to missing) -> 403 (not your comment) -> 409 (archived
document, deleted comment) -> 400/413 (the body) -> 429 (rate). Notifications are written in
the same transaction as the comment; the caller answers only after COMMIT, so an acknowledged
comment is on disk (synchronous=FULL). Who they and the feed reach is read just before that
transaction (`comment_context`), so that the transaction, which holds the store's writer
lock, only counts the rate and writes.

Liking twice is one like; a like on someone else's comment notifies its author, and taking the
like back withdraws that notification, so toggling never piles them up. Likes on an archived
document's discussion, or on a deleted comment, are refused like every other write (409).

Idempotency: a POST may carry an Idempotency-Key. The first success is stored with the key (per
person) and the hash of the request; the same key with the same request replays that response,
with another request it is a 409 (overlay_app.idempotency, the `idempotency` table). The SQL of
comments and mentions is in discussion.store.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from overlay_app import access, db, idempotency, security
from overlay_app.access import Document
from overlay_app.discussion import mentions, rendering, store
from overlay_app.discussion import reads as discussion
from overlay_app.discussion.reads import CommentNode
from overlay_app.discussion.rendering import COMMENT, Mentioned
from overlay_app.errors import N_, BadInput, Conflict, Forbidden, NotFound, Phrase
from overlay_app.feed import activity
from overlay_app.feed.activity import CommentContext
from overlay_app.idempotency import Outcome
from overlay_app.identity import Person
from overlay_app.notifications import actions as notifications

ARCHIVED = N_("this document was deleted in SharePoint; its discussion is archived")
KEY_REUSED = N_(
    "This Idempotency-Key was already used for a different request; "
    "use a new key for a new comment."
)


@dataclass(frozen=True)
class Draft:
    body: str
    body_html: str
    mentioned: dict[str, Mentioned]
    parent_id: str | None = None
    parent_author_id: str | None = None


# --- checks -----------------------------------------------------------------------------------


def check_writable(document: Document) -> None:
    if document.archived:
        raise Conflict(ARCHIVED)


def check_own(person: Person, comment: dict[str, Any], verb: str) -> None:
    if comment["author_id"] != person.id:
        raise Forbidden("You can only %(verb)s your own comments.", verb=Phrase(verb))


def check_live(comment: dict[str, Any]) -> None:
    if comment.get("deleted_at"):
        raise Conflict("That comment was deleted.")


def check_parent(document: Document, parent_id: Any) -> str | None:
    """The author of the comment being replied to (None for a top-level comment)."""
    if parent_id is None or parent_id == "":
        return None
    if not isinstance(parent_id, str):
        raise BadInput('"parent_id" must be the id of a comment on this document, or null.')
    row = store.parent_on_document(db.social(), parent_id, document.drive_id, document.item_id)
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
    body = rendering.check_body(body, COMMENT)
    parent_author = check_parent(document, parent_id)
    body_html, mentioned = check_text(document, body)
    return Draft(
        body=body,
        body_html=body_html,
        mentioned=mentioned,
        parent_id=parent_id or None,
        parent_author_id=parent_author,
    )


def comment_context(person: Person, document: Document, draft: Draft) -> CommentContext:
    """What the new comment sets going that can be read before its transaction (the feed's
    inboxes, the levels' notifications: feed.activity.comment_context)."""
    told = [*_mentioned_ids(draft), draft.parent_author_id]  # mentions and reply: told already
    return activity.comment_context(person.id, document, draft.parent_id, told)


def check_edit(comment: dict[str, Any], document: Document, body: Any) -> Draft:
    """The new text of a live comment on a writable document."""
    check_live(comment)
    check_writable(document)
    body = rendering.check_body(body, COMMENT)
    body_html, mentioned = check_text(document, body)
    return Draft(body, body_html, mentioned)


def check_document_like(person: Person, drive_id: str, item_id: str) -> Document:
    """The document, if the person may see it and its discussion is open."""
    document = access.require_document(person, drive_id, item_id)
    check_writable(document)
    return document


def check_comment_like(person: Person, comment_id: str) -> tuple[dict[str, Any], Document]:
    """The comment and its document, if the person may see it and it can still be liked."""
    comment, document = access.require_comment(person, comment_id)
    check_live(comment)
    check_writable(document)
    return comment, document


# --- writes -----------------------------------------------------------------------------------


def do_add_comment(
    conn: sqlite3.Connection,
    person: Person,
    document: Document,
    draft: Draft,
    context: CommentContext,
) -> CommentNode:
    """The comment, its mentions and notifications, the feed (`context`: comment_context's)."""
    comment_id, at = str(uuid.uuid4()), discussion.now()
    where, text = (document.drive_id, document.item_id), (draft.body, draft.body_html)
    store.insert_comment(conn, comment_id, where, draft.parent_id, person.id, text, at)
    mentioned_ids = _mentioned_ids(draft)
    store.add_mentions(conn, comment_id, mentioned_ids)
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
    activity.comment_added(conn, person.id, document.key, comment_id, at, context)
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


def _mentioned_ids(draft: Draft) -> list[str]:
    return sorted({person.person_id for person in draft.mentioned.values()})


def do_edit_comment(
    conn: sqlite3.Connection, person: Person, comment: dict[str, Any], draft: Draft
) -> None:
    """New text; people newly mentioned are notified, those no longer mentioned un-notified."""
    at = discussion.now()
    store.update_text(conn, comment["id"], draft.body, draft.body_html, at)
    before = store.mentioned_in(conn, comment["id"])
    after = _mentioned_ids(draft)
    store.set_mentions(conn, comment["id"], after)
    notifications.withdraw(
        conn, comment["id"], kind=notifications.MENTION, recipients=sorted(before - set(after))
    )
    for person_id in sorted(set(after) - before):
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
    store.delete_softly(conn, comment["id"], discussion.now())
    notifications.withdraw(conn, comment["id"])
    activity.comment_deleted(conn, comment["drive_id"], comment["item_id"])
    # A retried POST still answers with the comment it made, as it is now: words gone too.
    idempotency.forget_words(conn, comment["author_id"], comment["id"])


def do_set_document_like(
    conn: sqlite3.Connection, person: Person, document: Document, liked: bool
) -> None:
    key = (document.drive_id, document.item_id)
    if liked:
        at = discussion.now()
        if store.like_document(conn, key, person.id, at):  # the feed: a new like is activity
            activity.document_liked(conn, person.id, key, at)
    else:
        store.unlike_document(conn, key, person.id)
        activity.refresh_document(conn, *key)


def do_set_comment_like(
    conn: sqlite3.Connection,
    person: Person,
    comment: dict[str, Any],
    document: Document,
    liked: bool,
) -> None:
    """The like, and its notification to the comment's author (only for a new like)."""
    comment_id = comment["id"]
    if not liked:
        store.unlike_comment(conn, comment_id, person.id)
        notifications.withdraw(conn, comment_id, kind=notifications.LIKE, actor_id=person.id)
    elif store.like_comment(conn, comment_id, person.id, discussion.now()):
        notifications.notify(
            conn,
            recipient_id=comment["author_id"],
            kind=notifications.LIKE,
            actor_id=person.id,
            drive_id=document.drive_id,
            item_id=document.item_id,
            comment_id=comment_id,
            at=discussion.now(),
        )


# --- the operations the views call -------------------------------------------------------------


def add_comment(
    person: Person, drive_id: str, item_id: str, body: Any, parent_id: Any, key: str | None
) -> Outcome:
    """POST a comment, at most once per Idempotency-Key (see overlay_app.idempotency)."""
    document = access.require_document(person, drive_id, item_id)
    key = idempotency.check_key(key)
    digest = idempotency.request_hash(document.drive_id, document.item_id, body, parent_id or None)
    ledger = idempotency.stored_answers(person.id, digest, KEY_REUSED)

    def prepare() -> tuple[Draft, CommentContext]:
        draft = check_new_comment(document, body, parent_id)
        return draft, comment_context(person, document, draft)

    def write(conn: sqlite3.Connection, planned: tuple[Draft, CommentContext]) -> Outcome:
        security.check_rate(person, "comment")  # counted with the write, or not at all
        return Outcome(201, do_add_comment(conn, person, document, *planned).to_json())

    # Pipelined: after the rate count, the writes go together (nothing reads a rowcount).
    return idempotency.once(ledger, key, prepare, write, pipelined=True)


def edit_comment(person: Person, comment_id: str, body: Any) -> CommentNode:
    comment, document = access.require_comment(person, comment_id)
    check_own(person, comment, N_("edit"))
    draft = check_edit(comment, document, body)
    with db.transaction() as conn:
        security.check_rate(person, "comment")  # counted with the write, or not at all
        do_edit_comment(conn, person, comment, draft)
    return view_comment(person, comment_id)


def delete_comment(person: Person, comment_id: str) -> Document:
    """Deletes one's own comment; returns the document it was on (for redirects)."""
    comment, document = access.require_comment(person, comment_id)
    check_own(person, comment, N_("delete"))
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


def set_document_like(person: Person, drive_id: str, item_id: str, liked: bool) -> None:
    document = check_document_like(person, drive_id, item_id)
    with db.transaction() as conn:
        security.check_rate(person, "like")  # counted with the write, or not at all
        do_set_document_like(conn, person, document, liked)


def set_comment_like(person: Person, comment_id: str, liked: bool) -> Document:
    """Likes or unlikes a comment; returns its document (for redirects)."""
    comment, document = check_comment_like(person, comment_id)
    with db.transaction() as conn:
        security.check_rate(person, "like")  # counted with the write, or not at all
        do_set_comment_like(conn, person, comment, document, liked)
    return document
