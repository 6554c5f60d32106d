"""Read helpers shared by the listing pages (browse, tags, search, people).

Paging, comment and like counts of a page in one grouped query, a listed document's JSON form
(overlay_app.documents_json) with its counts, and the OpenAPI words these features share (built
with overlay_app.openapi_parts). Nothing here decides visibility: callers pass only keys that
were trimmed first; documents come from sync.visibility (through overlay_app.access).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, request, url_for
from flask_babel import format_decimal, format_number

from overlay_app import db
from overlay_app.discussion import store as discussion_store
from overlay_app.documents_json import LISTED, document_json, document_properties, document_url
from overlay_app.openapi_parts import (
    INTEGER,
    error_response,
    path_param,
    query_param,
)

# Re-exported (the `as` form says so): documents.py and people.py import them from here.
from overlay_app.openapi_parts import STRINGS as STRINGS
from overlay_app.openapi_parts import json_response as json_response
from overlay_app.openapi_parts import obj as obj
from overlay_app.openapi_parts import paged as paged
from overlay_app.openapi_parts import ref as ref
from sync.visibility import Document

PER_PAGE = 50
MAX_PAGE = 10_000
Key = tuple[str, str]


def page_number() -> int:
    """The 1-based `page` query argument; anything unusable means the first page."""
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def keys_json(keys: Iterable[Key]) -> str:
    return json.dumps([list(key) for key in keys])


@dataclass(frozen=True)
class Counts:
    comments: int = 0
    likes: int = 0


def social_counts(keys: Iterable[Key]) -> dict[Key, Counts]:
    """Comment (not deleted) and like counts of already-trimmed documents, in one query."""
    keys = list(keys)
    if not keys:
        return {}
    rows = discussion_store.counts_by_document(db.social(), keys)
    return {(d, i): Counts(comments, likes) for d, i, comments, likes in rows}


def listing_json(row: Document, counts: Counts, also: tuple[str, ...] = ()) -> dict[str, Any]:
    """A listed document with its counts, as the API shows it; `also` names more of the
    document's fields (overlay_app.documents_json), shown after the counts."""
    counted = {"commentCount": counts.comments, "likeCount": counts.likes}
    return document_json(row, LISTED, counted) | document_json(row, also)


# ---- OpenAPI pieces of the listing features (builders in overlay_app.openapi_parts) ---------

LISTED_ITEM_PROPERTIES = document_properties(
    LISTED, {"commentCount": INTEGER, "likeCount": INTEGER}
)
PAGE_PARAM = query_param(
    "page", "1-based page number.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}
)
# Worded as these features always were; chat and discussion word theirs in openapi_parts.
DOCUMENT_PARAMS = [
    path_param("drive_id", "Graph drive id."),
    path_param("item_id", "Graph item id."),
]
UNAUTHENTICATED = error_response("Not signed in, or the token is not valid.")
NOT_FOUND = error_response("Missing, or not visible to the caller (indistinguishable).")
RATE_LIMITED = error_response("Too many changes at once (see Retry-After).")


# ---- template helpers (registered by browse.init_app) ------------------------------------


def page_url(page: int) -> str:
    """The current page's URL with `page` replaced, other query arguments kept."""
    args = request.args.to_dict(flat=False)
    args["page"] = [str(page)]
    return url_for(request.endpoint or "home.home", **(request.view_args or {}), **args)


def file_size(size: int | None) -> str:
    """'10.4 KB' ('10,4 KB' in Dutch: the request's decimal sign)."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{format_number(int(value))} {unit}"
            return f"{format_decimal(value, format='0.0')} {unit}"
        value /= 1024
    return ""


def init_templates(app: Flask) -> None:
    app.add_template_global(page_url, "page_url")
    app.add_template_global(document_url, "document_url")
    app.add_template_filter(file_size, "file_size")
