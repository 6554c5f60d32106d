"""Reports and moderation of comments and chat messages: `check_*` then `do_*` in one
transaction with their notifications and audit entries.

- Anyone who can see a comment or message may report it once (while the report is open) with
  a reason; the moderators (members of the moderator and admin groups) are notified.
- A moderator sees each reported text and its author; the document's title and link only if
  they can open it themselves ("in a document you cannot open" otherwise).
- hide: the words leave every surface (the stores' SHOWN predicate; notifications about it are
  withdrawn, the words leave stored idempotent answers and the event log, and live chat gets a
  message.deleted); restore shows them again; delete is the author's own delete; dismiss
  closes the reports. The author is told the act and the reason (never the moderator's name),
  and every act is audited.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from overlay_app import access, db, idempotency, schema, security
from overlay_app.admin import store
from overlay_app.chat import access as chat_access
from overlay_app.chat import reads as chat_reads
from overlay_app.chat import store_messages
from overlay_app.chat.actions import do_delete_message, require_message
from overlay_app.discussion import reads as discussion
from overlay_app.discussion import store as discussion_store
from overlay_app.discussion.actions import do_delete_comment
from overlay_app.errors import N_, BadInput, Conflict, NotFound, translated
from overlay_app.identity import Person
from overlay_app.notifications import actions as notifications
from overlay_app.notifications.store import MODERATED, REPORTED
from overlay_app.realtime.event_log import append_event, forget_words
from sync import directory

COMMENT, MESSAGE = "comment", "message"
KINDS = (COMMENT, MESSAGE)
HIDE, RESTORE, DELETE, DISMISS = "hide", "restore", "delete", "dismiss"
ACTS = (HIDE, RESTORE, DELETE, DISMISS)
MAX_REASON = 500
CANNOT_OPEN = N_("in a document you cannot open")


def check_reason(raw: Any) -> str:
    reason = raw.strip() if isinstance(raw, str) else ""
    if not reason:
        raise BadInput("Say why, in a few words.")
    if len(reason) > MAX_REASON:
        raise BadInput("Keep the reason under %(most)s characters.", most=MAX_REASON)
    return reason


def check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise NotFound()
    return kind


# -- reporting -------------------------------------------------------------------------------


def report(person: Person, kind: str, target_id: str, raw_reason: Any) -> tuple[str, str]:
    """Reports what the person can see; (report id, the page it was on)."""
    reason = check_reason(raw_reason)
    if kind == COMMENT:
        comment, document = access.require_comment(person, target_id)
        if comment["deleted_at"]:
            raise Conflict("That comment was deleted.")
        page = f"/documents/{document.drive_id}/{document.item_id}#comment-{target_id}"
    else:
        message, room = require_message(person, target_id)
        if message[7]:
            raise Conflict("That message was deleted.")
        target_id, page = message[9], f"/chat/{room.id}#message-{message[9]}"
    report_id, now = schema.new_public_id(), discussion.now()
    with db.transaction() as conn:
        security.check_rate(person, "report")
        if not store.add_report(conn, report_id, kind, target_id, person.id, reason, now):
            raise Conflict("You reported this already; the moderators will look at it.")
        for moderator_id in moderator_ids():
            notifications.notify(
                conn, recipient_id=moderator_id, kind=REPORTED, actor_id=person.id,
                drive_id="", item_id="", comment_id=None, at=now,
            )  # fmt: skip
        security.audit(person.id, "moderation.report", f"{kind}:{target_id}", {"reason": reason})
    return report_id, page


def moderator_ids() -> list[str]:
    """Who is told of a report: the members of the moderator and admin groups. (People who
    hold the app roles only cannot be listed from the directory; they see the queue.)"""
    settings = current_app.extensions["plaza.settings"]
    groups = [g for g in (settings.moderator_group_id, settings.admin_group_id) if g]
    return sorted({pid for group in groups for pid in directory.active_members(db.index(), group)})


# -- the queue -------------------------------------------------------------------------------


@dataclass
class Reported:
    """One reported comment or message as its moderator sees it."""

    kind: str
    target_id: str
    text: str
    author_id: str
    author_name: str
    # Where it was written: the document's title, a room's name, or CANNOT_OPEN, as English
    # words with %(name)s places and their values (the page translates them, the API not).
    place: tuple[str, dict[str, str]]
    link: str | None  # only when the moderator can open it
    state: str  # shown | hidden | deleted
    reasons: list[dict[str, str]] = field(default_factory=list)

    @property
    def where(self) -> str:
        words, values = self.place
        return words % values if values else words

    def where_here(self) -> str:
        """`where` in the request's language."""
        return translated(*self.place)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "targetId": self.target_id, "text": self.text,
            "author": {"id": self.author_id, "displayName": self.author_name},
            "where": self.where, "link": self.link, "state": self.state,
            "reports": self.reasons,
        }  # fmt: skip


def queue(moderator: Person) -> list[Reported]:
    """Open reports, one entry per reported thing, oldest report first."""
    entries: dict[tuple[str, str], Reported] = {}
    rows = store.open_reports(db.social())
    names = discussion.display_names(row["reporter_id"] for row in rows)
    for row in rows:
        key = (row["kind"], row["target_id"])
        if key not in entries:
            found = _reported(moderator, *key)
            if found is None:
                continue
            entries[key] = found
        entries[key].reasons.append(
            {"reporter": discussion.name_of(row["reporter_id"], names), "reason": row["reason"],
             "at": row["created_at"]}
        )  # fmt: skip
    return list(entries.values())


def _reported(moderator: Person, kind: str, target_id: str) -> Reported | None:
    conn = db.social()
    if kind == COMMENT:
        row = discussion_store.comment_for_moderation(conn, target_id)
        if row is None:
            return None
        where, link = _document_place(moderator, (row["drive_id"], row["item_id"]))
        return _entry(kind, target_id, row["body"], row["author_id"], where,
                      link and f"{link}#comment-{target_id}", row)  # fmt: skip
    message = store_messages.message_for_moderation(conn, target_id)
    if message is None:
        return None
    room = chat_access.load_room(message[1])
    where, link = _room_place(moderator, room)
    state_row = {"deleted_at": message[7], "hidden_at": message[11]}
    return _entry(kind, target_id, message[3], message[2], where,
                  link and f"{link}#message-{target_id}", state_row)  # fmt: skip


def _entry(kind, target_id, text, author_id, place, link, row) -> Reported:
    names = discussion.display_names([author_id])
    state = "deleted" if row["deleted_at"] else "hidden" if row["hidden_at"] else "shown"
    return Reported(kind, target_id, text, author_id, discussion.name_of(author_id, names),
                    place, link, state)  # fmt: skip


Place = tuple[str, dict[str, str]]


def _document_place(moderator: Person, key: tuple[str, str]) -> tuple[Place, str | None]:
    if not access.filter_visible(moderator, {key}):
        return (CANNOT_OPEN, {}), None
    document = access.documents(moderator, {key}).get(key)
    if document is None:
        return (CANNOT_OPEN, {}), None
    named = ("%(name)s", {"name": document.name}) if document.name else (N_("a document"), {})
    return named, f"/documents/{key[0]}/{key[1]}"


def _room_place(moderator: Person, room) -> tuple[Place, str | None]:
    if room is None:
        return (CANNOT_OPEN, {}), None
    if room.document_key is not None:
        (words, values), link = _document_place(moderator, room.document_key)
        if link is None:
            return (words, values), None
        about = N_("the chat about %(name)s") if values else N_("the chat about a document")
        return (about, values), f"/chat/{room.id}"
    if not chat_access.can_see_room(moderator, room):
        return (N_("in a conversation you cannot open"), {}), None
    if room.kind == chat_access.CHANNEL:
        return ("#%(name)s", {"name": room.name}), f"/chat/{room.id}"
    return (N_("a direct conversation"), {}), f"/chat/{room.id}"


# -- acting ----------------------------------------------------------------------------------


def act(moderator: Person, kind: str, target_id: str, verb: Any, raw_reason: Any) -> None:
    """hide / restore / delete / dismiss, with the reason the author is told."""
    check_kind(kind)
    if verb not in ACTS:
        raise BadInput("Choose one of: %(choices)s.", choices=", ".join(ACTS))
    reason = check_reason(raw_reason)
    now = discussion.now()
    with db.transaction() as conn:
        author_id = (_act_on_comment if kind == COMMENT else _act_on_message)(
            conn, target_id, verb, now
        )
        resolved = store.resolve_reports(conn, kind, target_id, moderator.id, verb, now)
        if verb != DISMISS:
            store.add_act(conn, kind, target_id, verb, reason, moderator.id, author_id, now)
            notifications.notify(
                conn, recipient_id=author_id, kind=MODERATED, actor_id=moderator.id,
                drive_id="", item_id="", comment_id=None, at=now,
            )  # fmt: skip
        security.audit(moderator.id, f"moderation.{verb}", f"{kind}:{target_id}",
                       {"reason": reason, "author": author_id, "reports": resolved})  # fmt: skip


def _act_on_comment(conn: sqlite3.Connection, comment_id: str, verb: str, now: str) -> str:
    row = discussion_store.comment_for_moderation(conn, comment_id)
    if row is None:
        raise NotFound()
    if verb == HIDE:
        discussion_store.set_hidden(conn, comment_id, now)
        notifications.withdraw(conn, comment_id)
        idempotency.forget_words(conn, row["author_id"], comment_id)
    elif verb == RESTORE:
        discussion_store.set_hidden(conn, comment_id, None)
    elif verb == DELETE and not row["deleted_at"]:
        do_delete_comment(conn, row)
    return row["author_id"]


def _act_on_message(conn: sqlite3.Connection, public_id: str, verb: str, now: str) -> str:
    row = store_messages.message_for_moderation(conn, public_id)
    room = chat_access.load_room(row[1]) if row else None
    if row is None or room is None:
        raise NotFound()
    message_id = row[0]
    if verb == HIDE:
        store_messages.set_hidden(conn, message_id, now)
        notifications.withdraw_message(conn, message_id)
        forget_words(conn, room.id, public_id)
        append_event(conn, "message.deleted", chat_reads.message(message_id), room_id=room.id)
    elif verb == RESTORE:
        store_messages.set_hidden(conn, message_id, None)
        append_event(conn, "message.edited", chat_reads.message(message_id), room_id=room.id)
    elif verb == DELETE and not row[7]:
        do_delete_message(conn, room, row[:11])
    return row[2]


def notices(person: Person) -> list[dict[str, str]]:
    """What moderators did to the person's words, and why (newest first)."""
    return [
        {"kind": kind, "act": verb, "reason": reason, "at": at}
        for kind, verb, reason, at in store.acts_about_author(db.social(), person.id)
    ]
