"""The one JSON shape of a document (sync.visibility.Document), wherever the API shows one.

Every answer that carries a document builds it here: each wire name has one meaning and one
source (`FIELDS`) and one OpenAPI schema (`FIELD_SCHEMAS`). An answer names the fields it
shows, in its order, and adds its own around them (counts, snippets, scores) through `extra`;
its OpenAPI schema is built from the same names (`document_properties`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import url_for

from overlay_app.openapi_parts import BOOLEAN, NULLABLE_STRING, STRING, obj
from sync.visibility import Document

FIELDS: dict[str, Callable[[Document], Any]] = {
    "driveId": lambda d: d.drive_id,
    "itemId": lambda d: d.item_id,
    "name": lambda d: d.name,
    "path": lambda d: d.path,
    "webUrl": lambda d: d.web_url,
    "site": lambda d: {"id": d.site_id, "title": d.site_title},
    "library": lambda d: d.drive_name,
    "isFolder": lambda d: d.is_folder,
    "fileType": lambda d: d.file_type,
    "size": lambda d: d.size,
    "modifiedAt": lambda d: d.modified_at,
    "modifiedBy": lambda d: d.modified_by_name,
    "createdBy": lambda d: d.created_by_name,
    "archived": lambda d: d.archived,
}

FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "driveId": STRING,
    "itemId": STRING,
    "name": NULLABLE_STRING,
    "path": NULLABLE_STRING,
    "webUrl": NULLABLE_STRING,
    "site": obj({"id": NULLABLE_STRING, "title": NULLABLE_STRING}),
    "library": NULLABLE_STRING,
    "isFolder": BOOLEAN,
    "fileType": NULLABLE_STRING,
    "size": {"type": ["integer", "null"]},
    "modifiedAt": NULLABLE_STRING,
    "modifiedBy": NULLABLE_STRING,
    "createdBy": NULLABLE_STRING,
    "archived": BOOLEAN,
}

# A folder listing's row (browse, tags), before its counts.
LISTED = (
    "driveId", "itemId", "name", "path", "webUrl", "isFolder", "fileType", "size",
    "modifiedAt", "modifiedBy",
)  # fmt: skip


def document_json(
    document: Document, names: tuple[str, ...], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The document's `names`, in that order, each from `extra` when given there, else from
    FIELDS; `extra`'s other entries follow."""
    extra = extra or {}
    shape = {name: extra[name] if name in extra else FIELDS[name](document) for name in names}
    return shape | {name: value for name, value in extra.items() if name not in shape}


def document_properties(
    names: tuple[str, ...], extra: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """The OpenAPI properties of `document_json(document, names, extra)`, in the same order."""
    extra = extra or {}
    shape = {name: extra[name] if name in extra else FIELD_SCHEMAS[name] for name in names}
    return shape | {name: schema for name, schema in extra.items() if name not in shape}


def document_url(document: Document) -> str:
    """The overlay's page of a document or folder (a template global)."""
    endpoint = "browse.folder_page" if document.is_folder else "documents.document_page"
    return url_for(endpoint, drive_id=document.drive_id, item_id=document.item_id)
