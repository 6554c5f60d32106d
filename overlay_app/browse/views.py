"""Browsing: sites -> libraries -> folders, each file with its comment and like counts.

Every listing is trimmed by the synced ACL through the index's read API (sync.visibility):
folder children, and sites and libraries holding something the person may see, for the principal
set that overlay_app.access reads once per request; folders themselves through
overlay_app.access. A person without access sees neither an item nor its counts. The counts of a
page come from one grouped query, never one per row (listing.social_counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, jsonify, redirect, render_template, url_for

from overlay_app import access, db
from overlay_app.browse import listing
from overlay_app.browse.listing import (
    LISTED_ITEM_PROPERTIES,
    NOT_FOUND,
    PAGE_PARAM,
    PER_PAGE,
    UNAUTHENTICATED,
    Counts,
    Key,
    listing_json,
    page_number,
    social_counts,
)
from overlay_app.errors import NotFound
from overlay_app.identity import Person, require_person
from overlay_app.openapi_parts import (
    INTEGER,
    NULLABLE_STRING,
    STRING,
    array,
    json_response,
    obj,
    path_param,
    ref,
)
from sync import visibility
from sync.visibility import Document, Library, Site

bp = Blueprint("browse", __name__)


def init_app(app: Flask) -> None:
    listing.init_templates(app)


# ---- sites and libraries -----------------------------------------------------------------


def visible_sites(person: Person, site_id: str | None = None) -> list[Site]:
    """Sites holding something the person may see, each with those libraries only."""
    return visibility.visible_sites(db.index(), access.principals_of(person.id), site_id)


def require_library(person: Person, drive_id: str) -> tuple[Site, Library]:
    """The library and its site if the person sees something in it, else NotFound."""
    found = visibility.visible_library(db.index(), access.principals_of(person.id), drive_id)
    if found is None:
        raise NotFound()
    return found


def root_item_id(drive_id: str) -> str | None:
    return visibility.root_item_id(db.index(), drive_id)


def site_json(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "title": site.title,
        "webUrl": site.web_url,
        "description": site.description,
        "libraries": [
            {"id": lib.id, "name": lib.name, "webUrl": lib.web_url} for lib in site.libraries
        ],
    }


# ---- folders -----------------------------------------------------------------------------


@dataclass
class Folder:
    """One page of a folder listing, already trimmed, with counts."""

    site: Site
    library: Library
    item_id: str
    name: str | None
    path: str | None
    is_root: bool
    rows: list[Document]
    counts: dict[Key, Counts]
    page: int
    has_next: bool
    crumbs: list[tuple[str, str | None]]  # (name, url or None when not visible)


def folder_listing(person: Person, drive_id: str, item_id: str, page: int) -> Folder:
    """The visible children of a folder (404 for a folder the person may not see)."""
    site, library = require_library(person, drive_id)
    root_id = root_item_id(drive_id)
    if item_id in ("root", root_id):
        if root_id is None:
            raise NotFound()
        item_id, name, path, is_root = root_id, library.name, "", True
    else:
        document = access.require_document(person, drive_id, item_id)
        if not document.is_folder:
            raise NotAFolder(document)
        name, path, is_root = document.name, document.path, False
    principals = access.principals_of(person.id)
    rows = visibility.children(
        db.index(), principals, drive_id, item_id, PER_PAGE + 1, (page - 1) * PER_PAGE
    )
    has_next, rows = len(rows) > PER_PAGE, rows[:PER_PAGE]
    counts = social_counts((row.drive_id, row.item_id) for row in rows if not row.is_folder)
    crumbs = [] if is_root else folder_crumbs(person, drive_id, item_id)
    return Folder(site, library, item_id, name, path, is_root, rows, counts, page, has_next, crumbs)


class NotAFolder(NotFound):
    """A file asked for as a folder: the page redirects to it, the API answers 404."""

    def __init__(self, document: Document) -> None:
        super().__init__()
        self.document = document


def folder_crumbs(person: Person, drive_id: str, item_id: str) -> list[tuple[str, str | None]]:
    """The folders above an item (library root excluded), linked only where visible.

    Their names are part of the item's path, which the person already sees."""
    ancestors = visibility.ancestors_below_root(db.index(), drive_id, item_id)
    visible = access.filter_visible(person, ((drive_id, a) for a, _ in ancestors))
    return [
        (
            name or "",
            url_for("browse.folder_page", drive_id=drive_id, item_id=ancestor_id)
            if (drive_id, ancestor_id) in visible
            else None,
        )
        for ancestor_id, name in ancestors
    ]


# ---- pages -------------------------------------------------------------------------------


@bp.get("/sites")
def sites_page():
    person = require_person()
    return render_template("sites.html", sites=visible_sites(person))


@bp.get("/sites/<site_id>")
def site_page(site_id: str):
    person = require_person()
    sites = visible_sites(person, site_id)
    if not sites:
        raise NotFound()
    return render_template("site.html", site=sites[0])


@bp.get("/drives/<drive_id>")
def library_page(drive_id: str):
    person = require_person()
    return render_template(
        "folder.html", folder=folder_listing(person, drive_id, "root", page_number())
    )


@bp.get("/drives/<drive_id>/items/<item_id>")
def folder_page(drive_id: str, item_id: str):
    person = require_person()
    try:
        folder = folder_listing(person, drive_id, item_id, page_number())
    except NotAFolder:
        return redirect(url_for("documents.document_page", drive_id=drive_id, item_id=item_id))
    return render_template("folder.html", folder=folder)


# ---- API ---------------------------------------------------------------------------------


@bp.get("/api/v1/sites")
def api_sites():
    person = require_person()
    return jsonify({"value": [site_json(site) for site in visible_sites(person)]})


@bp.get("/api/v1/drives/<drive_id>/items/<item_id>/children")
def api_children(drive_id: str, item_id: str):
    person = require_person()
    folder = folder_listing(person, drive_id, item_id, page_number())
    return jsonify(
        {
            "value": [
                listing_json(row, folder.counts.get((row.drive_id, row.item_id), Counts()))
                for row in folder.rows
            ],
            "page": folder.page,
            "perPage": PER_PAGE,
            "nextPage": folder.page + 1 if folder.has_next else None,
        }
    )


# ---- OpenAPI -----------------------------------------------------------------------------

API_SCHEMAS = {
    "Site": obj(
        {
            "id": STRING,
            "title": NULLABLE_STRING,
            "webUrl": NULLABLE_STRING,
            "description": NULLABLE_STRING,
            "libraries": array(
                obj({"id": STRING, "name": NULLABLE_STRING, "webUrl": NULLABLE_STRING})
            ),
        }
    ),
    "ListedItem": obj(LISTED_ITEM_PROPERTIES),
}

API_PATHS = {
    "/api/v1/sites": {
        "get": {
            "summary": "Sites holding something the caller may see, with those libraries.",
            "operationId": "listSites",
            "responses": {
                "200": json_response(obj({"value": array(ref("Site"))}), "The sites."),
                "401": UNAUTHENTICATED,
            },
        }
    },
    "/api/v1/drives/{drive_id}/items/{item_id}/children": {
        "get": {
            "summary": "The visible children of a folder: folders first, then files by name.",
            "operationId": "listChildren",
            "parameters": [
                path_param("drive_id", "Graph drive id."),
                path_param("item_id", "Graph item id of a folder, or `root`."),
                PAGE_PARAM,
            ],
            "responses": {
                "200": json_response(
                    obj(
                        {
                            "value": array(ref("ListedItem")),
                            "page": INTEGER,
                            "perPage": INTEGER,
                            "nextPage": {"type": ["integer", "null"]},
                        }
                    ),
                    "One page of children with comment and like counts.",
                ),
                "401": UNAUTHENTICATED,
                "404": NOT_FOUND,
            },
        }
    },
}
