"""The document page and GET /api/v1/documents/{drive_id}/{item_id}.

Opening a document is a high-risk path: access.require_document(..., live=True) confirms with
the person's own delegated token when one is available. A document the person may not see
answers 404 exactly like a missing one. The page shows the metadata, links to SharePoint and to
Office for the web, likes, tags and the discussion (templates/_discussion.html).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from overlay_app import access, db
from overlay_app.browse import views as browse
from overlay_app.browse.listing import (
    DOCUMENT_PARAMS,
    INTEGER,
    NOT_FOUND,
    STRINGS,
    UNAUTHENTICATED,
    Key,
    json_response,
    obj,
    ref,
)
from overlay_app.discussion import comments
from overlay_app.documents_json import document_json, document_properties
from overlay_app.identity import Person, require_person
from overlay_app.openapi_parts import BOOLEAN, NULLABLE_STRING
from overlay_app.tags import reads as tags
from overlay_app.tags.suggestions import page_suggestions
from sync import visibility
from sync.visibility import Document

bp = Blueprint("documents", __name__)

# Office documents that Office for the web opens through SharePoint's WOPI frame (Doc.aspx).
OFFICE_TYPES = frozenset({"docx", "xlsx", "pptx"})


def office_url(document: Document) -> str | None:
    """Where Office for the web opens the document.

    Word, Excel and PowerPoint files open in SharePoint's WOPI frame,
    {site url}/_layouts/15/Doc.aspx?sourcedoc={listItemUniqueId}&action=view, with the GUID
    upper-case in braces written %7B..%7D, as SharePoint writes its own Doc.aspx links;
    anything else opens at its web URL."""
    if (document.file_type or "").lower() in OFFICE_TYPES and not document.is_folder:
        unique_id, site_url = visibility.sharepoint_ids(
            db.index(), document.drive_id, document.item_id
        )
        if unique_id and site_url:
            guid = quote("{" + unique_id.strip("{}").upper() + "}", safe="")
            return f"{site_url.rstrip('/')}/_layouts/15/Doc.aspx?sourcedoc={guid}&action=view"
    return document.web_url


def load_document(person: Person, drive_id: str, item_id: str) -> Document:
    """The document, confirmed live; folders are documents too but have their own page."""
    return access.require_document(person, drive_id, item_id, live=True)


# The document answer's fields, in its order; its own entries (counts, links) among them.
DOCUMENT_FIELDS = (
    "driveId", "itemId", "name", "path", "webUrl", "officeUrl", "site", "library", "fileType",
    "size", "modifiedAt", "modifiedBy", "createdBy", "archived",
)  # fmt: skip


def document_answer(person: Person, document: Document) -> dict[str, Any]:
    """GET /api/v1/documents/{drive_id}/{item_id}: the document with its social state."""
    talk = comments.discussion_for(person, document)
    extra = {
        "officeUrl": office_url(document),
        "likeCount": talk.like_count,
        "likedByMe": talk.liked_by_me,
        "commentCount": talk.comment_count,
        "tags": tags.tags_of(document.drive_id, document.item_id),
    }
    return document_json(document, DOCUMENT_FIELDS, extra)


def document_crumbs(person: Person, document: Document) -> list[tuple[str, str | None]]:
    """Site, library and the folders above the document (linked where visible)."""
    key: Key = (document.drive_id, document.item_id)
    crumbs: list[tuple[str, str | None]] = [
        (document.site_title or "Site", url_for("browse.site_page", site_id=document.site_id)),
        (
            document.drive_name or "Library",
            url_for("browse.library_page", drive_id=document.drive_id),
        ),
    ]
    crumbs += browse.folder_crumbs(person, key[0], key[1])
    return crumbs


@bp.get("/documents/<drive_id>/<item_id>")
def document_page(drive_id: str, item_id: str):
    person = require_person()
    document = load_document(person, drive_id, item_id)
    if document.is_folder:
        return redirect(url_for("browse.folder_page", drive_id=drive_id, item_id=item_id))
    on_document = tags.tags_of(drive_id, item_id)
    return render_template(
        "document.html",
        document=document,
        office_url=office_url(document),
        discussion=comments.discussion_for(person, document),
        tags=on_document,
        suggestions=page_suggestions(person, exclude=on_document),
        crumbs=document_crumbs(person, document),
        # Without JavaScript, "Reply" and "Edit" come back here, and the page shows that form.
        reply_to=request.args.get("reply"),
        edit_id=request.args.get("edit"),
    )


@bp.get("/api/v1/documents/<drive_id>/<item_id>")
def api_document(drive_id: str, item_id: str):
    person = require_person()
    return jsonify(document_answer(person, load_document(person, drive_id, item_id)))


API_SCHEMAS = {
    "Document": obj(
        document_properties(
            DOCUMENT_FIELDS,
            {
                "officeUrl": NULLABLE_STRING,
                "likeCount": INTEGER,
                "likedByMe": BOOLEAN,
                "commentCount": INTEGER,
                "tags": STRINGS,
            },
        )
    ),
}

API_PATHS = {
    "/api/v1/documents/{drive_id}/{item_id}": {
        "get": {
            "summary": "A document the caller may open, with its social counts and tags.",
            "operationId": "getDocument",
            "parameters": DOCUMENT_PARAMS,
            "responses": {
                "200": json_response(ref("Document"), "The document."),
                "401": UNAUTHENTICATED,
                "404": NOT_FOUND,
            },
        }
    },
}
