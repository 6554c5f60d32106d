"""Tags on documents, as pages and /api/v1: any viewer adds or removes them; a page per tag.

Thin: what a tag is and the reads are tags.reads, the writes tags.actions (check_* then do_*),
the SQL tags.store, and suggestions tags.suggestions (tags on documents the person may see
only, so a tag used only on hidden documents is never shown).
"""

from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, jsonify, render_template, request, url_for

from overlay_app import access, security
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
    listing_json,
    page_number,
    social_counts,
)
from overlay_app.discussion import reads as discussion
from overlay_app.documents_json import document_properties
from overlay_app.errors import form_reply
from overlay_app.identity import require_person
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
from overlay_app.tags import actions
from overlay_app.tags.actions import READ_ONLY
from overlay_app.tags.reads import (
    TAG_ACCEPTED,
    TAG_RULE,
    TAG_STORED,
    entry_json,
    normalise,
    tag_entries,
    tagged_page,
    tags_of,
)
from overlay_app.tags.suggestions import suggestions
from sync.visibility import Document

bp = Blueprint("tags", __name__)


# ---- pages (forms post here and come back: PRG) -----------------------------------------


def _tags_of(drive_id: str, item_id: str) -> str:
    return url_for("documents.document_page", drive_id=drive_id, item_id=item_id) + "#tags"


@bp.post("/documents/<drive_id>/<item_id>/tags")
def add_tag_form(drive_id: str, item_id: str):
    person = require_person()

    def add() -> None:
        actions.add_tag(person, drive_id, item_id, request.form.get("tag"))

    return form_reply(_tags_of(drive_id, item_id), add)


@bp.post("/documents/<drive_id>/<item_id>/tags/<tag>/delete")
def remove_tag_form(drive_id: str, item_id: str, tag: str):
    person = require_person()

    def remove() -> None:
        actions.remove_tag(person, drive_id, item_id, tag)

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
    created, (tag, added_by, added_at) = actions.add_tag(person, drive_id, item_id, raw)
    entry = entry_json(tag, added_by, added_at, discussion.display_names([added_by]))
    return jsonify(entry), 201 if created else 200


@bp.delete("/api/v1/documents/<drive_id>/<item_id>/tags/<tag>")
def api_remove_tag(drive_id: str, item_id: str, tag: str):
    person = require_person()
    actions.remove_tag(person, drive_id, item_id, tag)
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
