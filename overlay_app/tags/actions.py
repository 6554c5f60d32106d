"""Adding and removing tags: `check_*` validates and authorises, `do_*` writes.

Any person who may open a document may tag it, and remove any of its tags, until it is deleted
in SharePoint (then its discussion is read-only: 409). The access check comes first, so an
invisible document answers 404 whatever the tag; then the tag's rule (400); then the rate
limit, counted in the write's transaction (429).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from overlay_app import access, db, security
from overlay_app.access import Document
from overlay_app.errors import N_, Conflict
from overlay_app.identity import Person
from overlay_app.tags import store
from overlay_app.tags.reads import normalise
from overlay_app.tags.store import Entry

READ_ONLY = N_("This document was deleted in SharePoint: its discussion is read-only.")


def check_tag_write(
    person: Person, drive_id: str, item_id: str, raw_tag: Any
) -> tuple[Document, str]:
    """The document and the normalised tag, if the person may tag it: the access check comes
    first, so an invisible document answers 404 whatever the tag."""
    document = access.require_document(person, drive_id, item_id, live=True)
    tag = normalise(raw_tag)
    if document.archived:
        raise Conflict(READ_ONLY)
    return document, tag


def do_add_tag(
    conn: sqlite3.Connection, person: Person, drive_id: str, item_id: str, tag: str
) -> tuple[bool, Entry]:
    """Adds the tag (True) or leaves an existing one alone (False); and the stored row (tag,
    added_by, added_at), read in the same transaction so a removal just after cannot lose it."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    created = store.add(conn, drive_id, item_id, tag, person.id, now)
    stored = store.entry(conn, drive_id, item_id, tag)
    assert stored is not None
    return created, stored


def do_remove_tag(conn: sqlite3.Connection, drive_id: str, item_id: str, tag: str) -> bool:
    return store.remove(conn, drive_id, item_id, tag)


# --- the operations the views call -------------------------------------------------------------


def add_tag(person: Person, drive_id: str, item_id: str, raw_tag: Any) -> tuple[bool, Entry]:
    """Whether the tag was added (not already there), and its stored (tag, added_by, added_at)."""
    _, tag = check_tag_write(person, drive_id, item_id, raw_tag)
    with db.transaction() as conn:
        security.check_rate(person, "tag")
        return do_add_tag(conn, person, drive_id, item_id, tag)


def remove_tag(person: Person, drive_id: str, item_id: str, raw_tag: Any) -> bool:
    """Whether the tag was there (removing one that is not is no error)."""
    _, tag = check_tag_write(person, drive_id, item_id, raw_tag)
    with db.transaction() as conn:
        security.check_rate(person, "tag")
        return do_remove_tag(conn, drive_id, item_id, tag)
