"""Tags on documents: any viewer adds or removes them; a page per tag; suggestions.

A tag is 1 to 40 characters of A-Z, a-z, 0-9 and hyphens, with any spaces, tabs or line breaks
around it; it is stored trimmed and lower-case. Anything else (other letters, inner spaces) is
refused with that rule (400). TAG_ACCEPTED is that rule for Python and for the OpenAPI document
alike, so the document describes exactly what the API takes. Writes follow check_* (access +
validation + rate limit) then do_* (the row). Everything read is trimmed: a tag page lists only
documents the person may see and discover (access.filter_discoverable: not those reached only
through an organisation-wide link, unless the person interacted with them), and suggestions
(tags/suggestions.py) count only tags on documents the person may see, so a tag used
only on hidden documents is never shown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

from flask import Blueprint, jsonify, render_template, request, url_for

from overlay_app import access, db, security
from overlay_app.browse.listing import (
    DOCUMENT_PARAMS,
    LISTED_ITEM_PROPERTIES,
    NOT_FOUND,
    PAGE_PARAM,
    PER_PAGE,
    RATE_LIMITED,
    UNAUTHENTICATED,
    Counts,
    Key,
    keys_json,
    listing_json,
    page_number,
    social_counts,
)
from overlay_app.discussion import reads as discussion
from overlay_app.documents_json import document_properties
from overlay_app.errors import BadInput, Conflict, RateLimited, form_reply
from overlay_app.identity import Person, require_person
from overlay_app.openapi_parts import (
    STRING,
    array,
    error_response,
    json_response,
    obj,
    paged,
    path_param,
    ref,
)
from overlay_app.tags.suggestions import suggestions
from sync.visibility import Document

bp = Blueprint("tags", __name__)

TAG_RULE = "A tag is 1 to 40 characters: lower-case letters a-z, digits 0-9 and hyphens."
# ASCII only, before and after lower-casing: str.lower() would turn the Kelvin sign into "k",
# and str.strip() trims Unicode spaces that a JSON Schema pattern names differently.
TAG_ACCEPTED = r"^[ \t\r\n]*([A-Za-z0-9-]{1,40})[ \t\r\n]*$"
TAG_STORED = r"^[a-z0-9-]{1,40}$"
_ACCEPTED = re.compile(TAG_ACCEPTED)
READ_ONLY = "This document was deleted in SharePoint: its discussion is read-only."


def normalise(raw: Any) -> str:
    """The tag as stored (trimmed, lower-case), or BadInput naming the rule."""
    found = _ACCEPTED.fullmatch(raw) if isinstance(raw, str) else None
    if found is None:
        raise BadInput(TAG_RULE)
    return found.group(1).lower()


# ---- reads -------------------------------------------------------------------------------


def tags_of(drive_id: str, item_id: str) -> list[str]:
    """The tags of one document (already access-checked), alphabetically."""
    rows = db.social().execute(
        "SELECT tag FROM tags WHERE drive_id = ? AND item_id = ? ORDER BY tag",
        [drive_id, item_id],
    )
    return [tag for (tag,) in rows]


def tag_entries(drive_id: str, item_id: str) -> list[dict[str, Any]]:
    rows = (
        db.social()
        .execute(
            "SELECT tag, added_by, added_at FROM tags WHERE drive_id = ? AND item_id = ? "
            "ORDER BY tag",
            [drive_id, item_id],
        )
        .fetchall()
    )
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
    rows = db.social().execute(
        """SELECT drive_id, item_id, tag FROM tags WHERE (drive_id, item_id) IN
           (SELECT value ->> 0, value ->> 1 FROM json_each(?)) ORDER BY tag""",
        [keys_json(visible_keys)],
    )
    found: dict[Key, list[str]] = {}
    for drive_id, item_id, tag in rows:
        found.setdefault((drive_id, item_id), []).append(tag)
    return found


def tagged_keys(tag: str) -> list[Key]:
    """Every document carrying `tag`, untrimmed: callers trim through overlay_app.access."""
    rows = db.social().execute("SELECT drive_id, item_id FROM tags WHERE tag = ?", [tag])
    return [(d, i) for d, i in rows]


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


# ---- writes ------------------------------------------------------------------------------


def check_tag_write(person: Person, drive_id: str, item_id: str, raw_tag: Any):
    """The document and the normalised tag, if the person may tag it: the access check comes
    first, so an invisible document answers 404 whatever the tag."""
    document = access.require_document(person, drive_id, item_id, live=True)
    tag = normalise(raw_tag)
    if document.archived:
        raise Conflict(READ_ONLY)
    return document, tag


def do_add_tag(person: Person, drive_id: str, item_id: str, tag: str) -> tuple[bool, tuple]:
    """Adds the tag (True) or leaves an existing one alone (False); and the stored row (tag,
    added_by, added_at), read in the same transaction so a removal just after cannot lose it."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    with db.transaction() as conn:
        security.check_rate(person, "tag")
        cursor = conn.execute(
            "INSERT OR IGNORE INTO tags (drive_id, item_id, tag, added_by, added_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [drive_id, item_id, tag, person.id, now],
        )
        stored = conn.execute(
            "SELECT tag, added_by, added_at FROM tags WHERE drive_id = ? AND item_id = ? "
            "AND tag = ?",
            [drive_id, item_id, tag],
        ).fetchone()
    return cursor.rowcount == 1, tuple(stored)


def do_remove_tag(person: Person, drive_id: str, item_id: str, tag: str) -> bool:
    with db.transaction() as conn:
        security.check_rate(person, "tag")
        cursor = conn.execute(
            "DELETE FROM tags WHERE drive_id = ? AND item_id = ? AND tag = ?",
            [drive_id, item_id, tag],
        )
    return cursor.rowcount == 1


# ---- pages (forms post here and come back: PRG) -----------------------------------------


def _tags_of(drive_id: str, item_id: str) -> str:
    return url_for("documents.document_page", drive_id=drive_id, item_id=item_id) + "#tags"


@bp.post("/documents/<drive_id>/<item_id>/tags")
def add_tag_form(drive_id: str, item_id: str):
    person = require_person()

    def add() -> None:
        _, tag = check_tag_write(person, drive_id, item_id, request.form.get("tag"))
        do_add_tag(person, drive_id, item_id, tag)

    return form_reply(_tags_of(drive_id, item_id), add)


@bp.post("/documents/<drive_id>/<item_id>/tags/<tag>/delete")
def remove_tag_form(drive_id: str, item_id: str, tag: str):
    person = require_person()

    def remove() -> None:
        _, checked = check_tag_write(person, drive_id, item_id, tag)
        do_remove_tag(person, drive_id, item_id, checked)

    return form_reply(_tags_of(drive_id, item_id), remove)


class TaggedPage(NamedTuple):
    """The page of documents with a tag that a request asks for, with their social counts."""

    tag: str
    page: int
    rows: list[Document]
    total: int
    counts: dict[Key, Counts]


def requested_tag_page(raw_tag: str) -> TaggedPage:
    """The signed-in person's page (the `page` argument) of documents with the tag."""
    person = require_person()
    tag, page = normalise(raw_tag), page_number()
    rows, total = tagged_page(person, tag, page)
    return TaggedPage(tag, page, rows, total, social_counts(row.key for row in rows))


def page_suggestions(person: Person, exclude: list[str]) -> list[str]:
    """A document page's suggestions, counted like the API's; past the limit the page shows
    none rather than refusing the page."""
    try:
        security.check_read_rate(person, "tag_suggestions")
    except RateLimited:
        return []
    return suggestions(person, exclude=exclude)


@bp.get("/tags/<tag>")
def tag_page(tag: str):
    return render_template("tag.html", per_page=PER_PAGE, **requested_tag_page(tag)._asdict())


# ---- API ---------------------------------------------------------------------------------


@bp.get("/api/v1/documents/<drive_id>/<item_id>/tags")
def api_tags(drive_id: str, item_id: str):
    person = require_person()
    access.require_document(person, drive_id, item_id)
    security.check_read_rate(person, "tag_suggestions")
    existing = tags_of(drive_id, item_id)
    return jsonify(
        {
            "value": tag_entries(drive_id, item_id),
            "suggestions": suggestions(person, exclude=existing),
        }
    )


@bp.post("/api/v1/documents/<drive_id>/<item_id>/tags")
def api_add_tag(drive_id: str, item_id: str):
    person = require_person()
    body = request.get_json(silent=True)
    raw = body.get("tag") if isinstance(body, dict) else None
    _, tag = check_tag_write(person, drive_id, item_id, raw)
    created, (tag, added_by, added_at) = do_add_tag(person, drive_id, item_id, tag)
    entry = entry_json(tag, added_by, added_at, discussion.display_names([added_by]))
    return jsonify(entry), 201 if created else 200


@bp.delete("/api/v1/documents/<drive_id>/<item_id>/tags/<tag>")
def api_remove_tag(drive_id: str, item_id: str, tag: str):
    person = require_person()
    _, tag = check_tag_write(person, drive_id, item_id, tag)
    do_remove_tag(person, drive_id, item_id, tag)
    return "", 204


@bp.get("/api/v1/tags/<tag>")
def api_tag(tag: str):
    shown = requested_tag_page(tag)
    return jsonify(
        {
            "tag": shown.tag,
            "total": shown.total,
            "page": shown.page,
            "perPage": PER_PAGE,
            "value": [
                listing_json(row, shown.counts.get(row.key, Counts()), also=("site",))
                for row in shown.rows
            ],
        }
    )


# ---- OpenAPI -----------------------------------------------------------------------------

TAG_WORDS = (
    "1 to 40 of A-Z, a-z, 0-9 and hyphens, with or without spaces, tabs or line breaks around"
    " them; stored trimmed and lower-case."
)
TAG_SCHEMA = {"type": "string", "pattern": TAG_ACCEPTED, "description": TAG_WORDS}
TAG_PARAM = {**path_param("tag", TAG_WORDS), "schema": TAG_SCHEMA}
BAD_TAG = error_response(TAG_RULE + " Also a browser call without its CSRF token.")
READ_ONLY_ERROR = error_response(READ_ONLY)
STORED_TAG = {"type": "string", "pattern": TAG_STORED}
STORED_TAGS = array(STORED_TAG)
WRITE_ERRORS = {
    "400": BAD_TAG,
    "401": UNAUTHENTICATED,
    "404": NOT_FOUND,
    "409": READ_ONLY_ERROR,
    "429": RATE_LIMITED,
}

API_SCHEMAS = {
    "TagEntry": obj(
        {
            "tag": STORED_TAG,
            "addedBy": obj({"id": STRING, "displayName": STRING}),
            "addedAt": STRING,
        }
    ),
    "TaggedDocument": obj({**LISTED_ITEM_PROPERTIES, **document_properties(("site",))}),
}

API_PATHS = {
    "/api/v1/documents/{drive_id}/{item_id}/tags": {
        "get": {
            "summary": "The document's tags, and suggestions from tags the caller can see.",
            "operationId": "listTags",
            "parameters": DOCUMENT_PARAMS,
            "responses": {
                "200": json_response(
                    obj({"value": array(ref("TagEntry")), "suggestions": STORED_TAGS}),
                    "The tags.",
                ),
                "401": UNAUTHENTICATED,
                "404": NOT_FOUND,
                "429": error_response("Too many tag suggestions this minute (see Retry-After)."),
            },
        },
        "post": {
            "summary": "Adds a tag (normalised: trimmed, lower-case).",
            "operationId": "addTag",
            "parameters": DOCUMENT_PARAMS,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": obj({"tag": TAG_SCHEMA})}},
            },
            "responses": {
                "200": json_response(ref("TagEntry"), "The tag was already there."),
                "201": json_response(ref("TagEntry"), "Added."),
                **WRITE_ERRORS,
            },
        },
    },
    "/api/v1/documents/{drive_id}/{item_id}/tags/{tag}": {
        "delete": {
            "summary": "Removes a tag (no error when it was not there).",
            "operationId": "removeTag",
            "parameters": [*DOCUMENT_PARAMS, TAG_PARAM],
            "responses": {"204": {"description": "Removed."}, **WRITE_ERRORS},
        }
    },
    "/api/v1/tags/{tag}": {
        "get": {
            "summary": "Documents with this tag that the caller may see, by name.",
            "description": access.DISCOVERY_RULE,
            "operationId": "getTag",
            "parameters": [TAG_PARAM, PAGE_PARAM],
            "responses": {
                "200": paged("TaggedDocument", "One page of tagged documents.", tag=STORED_TAG),
                "400": BAD_TAG,
                "401": UNAUTHENTICATED,
            },
        }
    },
}
