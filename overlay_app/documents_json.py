"""The one JSON shape of a document (sync.visibility.Document), wherever the API shows one.

Every answer that carries a document builds it here: each wire name has one meaning and one
source (`FIELDS`). An answer names the fields it shows, in its order (its OpenAPI schema says
which), and adds its own around them (counts, snippets, scores) through `extra`, which may
also stand in for a field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import url_for

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


def document_url(document: Document) -> str:
    """The overlay's page of a document or folder (a template global)."""
    endpoint = "browse.folder_page" if document.is_folder else "documents.document_page"
    return url_for(endpoint, drive_id=document.drive_id, item_id=document.item_id)
