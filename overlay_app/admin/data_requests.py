"""Data requests about one person: an export of everything they wrote, liked, tagged and
followed and of their notifications and language (a JSON archive), and erasure.

Erasing keeps the place of what others wrote: the person's comments and messages pass to
ERASED_PERSON ("Deleted person"), with their words kept (PLAZA_ERASE_MODE=anonymise) or removed
(remove: the rows stay as deleted, so replies keep their thread); likes, mentions, room
memberships, read markers, notifications, stored answers, terms acceptances and the chosen
language go. Runs on a
connection given by the caller (the web admin's request, or `plaza admin` on overlay.db), in
one transaction with its audit entry. The index (sync's people table) is not touched: it
mirrors Entra ID.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from overlay_app import idempotency, security
from overlay_app.admin import store
from overlay_app.chat import store_messages, store_rooms
from overlay_app.discussion import store as discussion_store
from overlay_app.errors import NotFound
from overlay_app.i18n import store as i18n_store
from overlay_app.identity import ERASED_PERSON
from overlay_app.notifications import store as notifications_store
from overlay_app.realtime import event_log
from overlay_app.tags import store as tags_store
from sync import directory

GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
ERASED_NAME = "Deleted person"


def find_person(index: sqlite_utils.Database, who: str) -> tuple[str, str]:
    """(oid, name) of a person named by oid or UPN; an oid the index no longer lists still
    names someone whose words may remain."""
    who = (who or "").strip()
    found = (
        directory.listed_by_upn(index, who) if "@" in who else directory.listed_by_id(index, who)
    )
    if found is not None:
        return found.id, found.name
    if GUID.fullmatch(who):
        return who.lower(), who.lower()
    raise NotFound(
        "No person '%(who)s' in Plaza's directory: give their UPN or object id.", who=who
    )


def export(conn: sqlite3.Connection | sqlite_utils.Database, person_id: str, name: str) -> dict:
    """Everything Plaza holds of the person's, by kind, as JSON-ready values."""
    talk = discussion_store.export_person(conn, person_id)
    return {
        "person": {"id": person_id, "name": name},
        "exportedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        **talk,
        "tags": _rows(tags_store.export_person(conn, person_id),
                      "driveId", "itemId", "tag", "addedAt"),
        "messages": _rows(store_messages.export_person(conn, person_id), "id", "roomId", "body",
                          "createdAt", "editedAt", "deletedAt", "hiddenAt"),
        "rooms": _rows(store_rooms.export_person(conn, person_id),
                       "roomId", "kind", "name", "role", "joinedAt"),
        "notifications": _rows(notifications_store.export_person(conn, person_id), "id", "kind",
                               "actorId", "driveId", "itemId", "createdAt", "readAt"),
        "reports": _rows(store.reports_by(conn, person_id),
                         "kind", "targetId", "reason", "createdAt", "resolution"),
        "moderationNotices": _rows(store.acts_about_author(conn, person_id),
                                   "kind", "act", "reason", "at"),
        "termsAccepted": _rows(store.acceptances_of(conn, person_id), "version", "acceptedAt"),
        "language": i18n_store.locale_of(conn, person_id),
    }  # fmt: skip


def _rows(rows: list[tuple], *names: str) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in rows]


def erase(
    conn: sqlite3.Connection, actor_id: str | None, person_id: str, remove: bool
) -> dict[str, int]:
    """Erases the person (see the module docstring) inside the caller's transaction."""
    if person_id == ERASED_PERSON:
        raise NotFound()
    comments = discussion_store.erase_person(conn, person_id, ERASED_PERSON, remove)
    tags_store.erase_person(conn, person_id, ERASED_PERSON)
    messages = store_messages.erase_person(conn, person_id, ERASED_PERSON, remove)
    if remove:
        for room_id, public_id in messages:
            event_log.forget_words(conn, room_id, public_id)
    store_rooms.erase_person(conn, person_id, ERASED_PERSON)
    notifications_store.erase_person(conn, person_id, ERASED_PERSON)
    store.erase_person(conn, person_id, ERASED_PERSON)
    idempotency.forget_person(conn, person_id)
    i18n_store.erase_person(conn, person_id)
    event_log.forget_person(conn, person_id, ERASED_PERSON, ERASED_NAME)
    summary = {"comments": comments, "messages": len(messages)}
    mode = "remove" if remove else "anonymise"
    security.record(conn, actor_id, "admin.person.erase", person_id, {"mode": mode, **summary})
    return summary
