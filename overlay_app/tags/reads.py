"""What a tag is, and reading tags: a document's tags, the tags of many, a tag's documents.

A tag is 1 to 40 characters of A-Z, a-z, 0-9 and hyphens, with any spaces, tabs or line breaks
around it; it is stored trimmed and lower-case. Anything else (other letters, inner spaces) is
refused with that rule (400). TAG_ACCEPTED is that rule for Python and for the OpenAPI document
alike, so the document describes exactly what the API takes.

Everything read is trimmed: a tag page lists only documents the person may see and discover
(access.filter_discoverable: not those reached only through an organisation-wide link, unless
the person interacted with them); the other reads are handed documents already checked.
"""

from __future__ import annotations

import re
from typing import Any

from overlay_app import access, db
from overlay_app.browse.listing import PER_PAGE, Key
from overlay_app.discussion import reads as discussion
from overlay_app.errors import N_, BadInput
from overlay_app.identity import Person
from overlay_app.tags import store
from sync.visibility import Document

TAG_RULE = N_("A tag is 1 to 40 characters: lower-case letters a-z, digits 0-9 and hyphens.")
# ASCII only, before and after lower-casing: str.lower() would turn the Kelvin sign into "k",
# and str.strip() trims Unicode spaces that a JSON Schema pattern names differently.
TAG_ACCEPTED = r"^[ \t\r\n]*([A-Za-z0-9-]{1,40})[ \t\r\n]*$"
TAG_STORED = r"^[a-z0-9-]{1,40}$"
_ACCEPTED = re.compile(TAG_ACCEPTED)


def normalise(raw: Any) -> str:
    """The tag as stored (trimmed, lower-case), or BadInput naming the rule."""
    found = _ACCEPTED.fullmatch(raw) if isinstance(raw, str) else None
    if found is None:
        raise BadInput(TAG_RULE)
    return found.group(1).lower()


def tags_of(drive_id: str, item_id: str) -> list[str]:
    """The tags of one document (already access-checked), alphabetically."""
    return store.tags_of(db.social(), drive_id, item_id)


def tag_entries(drive_id: str, item_id: str) -> list[dict[str, Any]]:
    """The tags of one document (already access-checked) as the API answers them."""
    rows = store.entries_of(db.social(), drive_id, item_id)
    names = discussion.display_names(row[1] for row in rows)
    return [entry_json(tag, added_by, added_at, names) for tag, added_by, added_at in rows]


def entry_json(tag: str, added_by: str, added_at: str, names: dict[str, str]) -> dict[str, Any]:
    return {
        "tag": tag,
        "addedBy": {"id": added_by, "displayName": discussion.name_of(added_by, names)},
        "addedAt": added_at,
    }


def tags_on(visible_keys: list[Key]) -> dict[Key, list[str]]:
    """The tags of many documents the person may see, in one query."""
    if not visible_keys:
        return {}
    return store.tags_on(db.social(), visible_keys)


def tagged_keys(tag: str) -> list[Key]:
    """Every document carrying `tag`, untrimmed: callers trim through overlay_app.access."""
    return store.tagged_keys(db.social(), tag)


def visible_tagged_keys(person: Person, tag: str) -> set[Key]:
    """Documents carrying `tag` that the person may see (search within a tag)."""
    return access.filter_visible(person, tagged_keys(tag))


def tagged_page(person: Person, tag: str, page: int) -> tuple[list[Document], int]:
    """One page of the documents with `tag` the person may see and discover, by name, and how
    many there are."""
    shown = access.filter_discoverable(person, tagged_keys(tag))
    rows = sorted(
        access.documents(person, shown).values(),
        key=lambda r: ((r.name or "").casefold(), r.drive_id, r.item_id),
    )
    start = (page - 1) * PER_PAGE
    return rows[start : start + PER_PAGE], len(rows)
