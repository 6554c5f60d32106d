"""The people directory and profiles, from the index's `people` table (synced from Entra).

Everyone signed in sees the directory: enabled members and guests, searchable by name, job
title, department and office. A profile shows the synced fields, the manager, and the
documents the person discusses (their live comments) with the tags on them: ONLY documents the
viewer may see, trimmed through access.filter_discoverable before anything is counted (a
profile is a feed: a document the viewer reaches only through an organisation-wide link is
left out until they interact with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, render_template, request

from overlay_app import access, db, security
from overlay_app.browse.listing import (
    INTEGER,
    NOT_FOUND,
    PAGE_PARAM,
    STRINGS,
    UNAUTHENTICATED,
    Key,
    error_response,
    json_response,
    obj,
    page_number,
    paged,
    path_param,
    query_param,
    ref,
)
from overlay_app.documents_json import document_json, document_properties
from overlay_app.errors import BadInput, NotFound
from overlay_app.identity import Person, require_person
from overlay_app.openapi_parts import BOOLEAN, NULLABLE_STRING, STRING
from overlay_app.tags import views as tags
from sync.visibility import Document

bp = Blueprint("people", __name__)

PER_PAGE = 30
MAX_QUERY = 100
COLUMNS = (
    "id, upn, display_name, mail, job_title, department, office, business_phone, "
    "manager_id, guest, enabled, deleted"
)


@dataclass(frozen=True)
class Profile:
    id: str
    upn: str | None
    display_name: str | None
    mail: str | None
    job_title: str | None
    department: str | None
    office: str | None
    business_phone: str | None
    manager_id: str | None
    guest: bool
    enabled: bool
    deleted: bool

    @property
    def active(self) -> bool:
        return self.enabled and not self.deleted

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "userPrincipalName": self.upn,
            "mail": self.mail,
            "jobTitle": self.job_title,
            "department": self.department,
            "office": self.office,
            "businessPhone": self.business_phone,
            "guest": self.guest,
            "active": self.active,
        }


def _profile(row: tuple) -> Profile:
    *fields, guest, enabled, deleted = row
    return Profile(*fields, bool(guest), bool(enabled), bool(deleted))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def directory(text: str, page: int) -> tuple[list[Profile], int]:
    """Enabled people whose name, title, department or office contains `text`; by name."""
    where = "enabled = 1 AND deleted = 0"
    params: dict[str, Any] = {"limit": PER_PAGE, "offset": (page - 1) * PER_PAGE}
    if text:
        where += """ AND (display_name LIKE :q ESCAPE '\\' OR job_title LIKE :q ESCAPE '\\'
                     OR department LIKE :q ESCAPE '\\' OR office LIKE :q ESCAPE '\\'
                     OR upn LIKE :q ESCAPE '\\')"""
        params["q"] = _like_pattern(text)
    index = db.index()
    total = index.execute(f"SELECT count(*) FROM people WHERE {where}", params).fetchone()[0]
    rows = index.execute(
        f"""SELECT {COLUMNS} FROM people WHERE {where}
            ORDER BY display_name COLLATE NOCASE, id LIMIT :limit OFFSET :offset""",
        params,
    )
    return [_profile(row) for row in rows], total


def find_profile(person_id: str) -> Profile:
    row = db.index().execute(f"SELECT {COLUMNS} FROM people WHERE id = ?", [person_id]).fetchone()
    if row is None:
        raise NotFound()
    return _profile(row)


def directory_text() -> str:
    text = request.args.get("q", "").strip()
    if len(text) > MAX_QUERY:
        raise BadInput(f"A search is at most {MAX_QUERY} characters.")
    return text


# ---- the documents a person discusses ------------------------------------------------------


@dataclass(frozen=True)
class Discussed:
    row: Document
    comments: int  # the profile person's live comments on it
    last_at: str
    tags: list[str]


def discussed_documents(viewer: Person, person_id: str, page: int) -> tuple[list[Discussed], int]:
    """Documents `person_id` commented on that the VIEWER may see and discover (see
    access.filter_discoverable), latest comment first."""
    rows = (
        db.social()
        .execute(
            """SELECT drive_id, item_id, count(*), max(created_at) FROM comments
           WHERE author_id = ? AND deleted_at IS NULL
           GROUP BY drive_id, item_id ORDER BY max(created_at) DESC, drive_id, item_id""",
            [person_id],
        )
        .fetchall()
    )
    visible = access.filter_discoverable(viewer, [(d, i) for d, i, _, _ in rows])
    shown = [row for row in rows if (row[0], row[1]) in visible]
    start = (page - 1) * PER_PAGE
    window = shown[start : start + PER_PAGE]
    keys: list[Key] = [(d, i) for d, i, _, _ in window]
    metadata, tags_by_key = access.documents(viewer, keys), tags.tags_on(keys)
    found = [
        Discussed(metadata[(d, i)], count, last, tags_by_key.get((d, i), []))
        for d, i, count, last in window
        if (d, i) in metadata
    ]
    return found, len(shown)


def tag_summary(discussed: list[Discussed]) -> list[tuple[str, int]]:
    """The tags on the shown documents, most frequent first."""
    counts: dict[str, int] = {}
    for item in discussed:
        for tag in item.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


DISCUSSED_FIELDS = ("driveId", "itemId", "name", "path", "webUrl", "site", "fileType", "archived")


def discussed_json(item: Discussed) -> dict[str, Any]:
    extra = {
        "commentCount": item.comments,
        "lastCommentAt": item.last_at,
        "tags": item.tags,
    }
    return document_json(item.row, DISCUSSED_FIELDS, extra)


# ---- views ---------------------------------------------------------------------------------


@bp.get("/people")
def people_page():
    security.check_read_rate(require_person(), "people")
    text, page = directory_text(), page_number()
    people, total = directory(text, page)
    return render_template(
        "people.html", people=people, total=total, text=text, page=page, per_page=PER_PAGE
    )


@bp.get("/people/<person_id>")
def person_page(person_id: str):
    viewer = require_person()
    profile = find_profile(person_id)
    manager = _manager(profile)
    page = page_number()
    discussed, total = discussed_documents(viewer, profile.id, page)
    return render_template(
        "person.html",
        profile=profile,
        manager=manager,
        discussed=discussed,
        total=total,
        page=page,
        per_page=PER_PAGE,
        tag_summary=tag_summary(discussed),
    )


def _manager(profile: Profile) -> Profile | None:
    if not profile.manager_id:
        return None
    try:
        return find_profile(profile.manager_id)
    except NotFound:
        return None


@bp.get("/api/v1/people")
def api_people():
    security.check_read_rate(require_person(), "people")
    text, page = directory_text(), page_number()
    people, total = directory(text, page)
    return jsonify(
        {"total": total, "page": page, "perPage": PER_PAGE, "value": [p.to_json() for p in people]}
    )


@bp.get("/api/v1/people/<person_id>")
def api_person(person_id: str):
    require_person()
    profile = find_profile(person_id)
    manager = _manager(profile)
    return jsonify(
        profile.to_json()
        | {
            "manager": {"id": manager.id, "displayName": manager.display_name} if manager else None,
        }
    )


@bp.get("/api/v1/people/<person_id>/documents")
def api_person_documents(person_id: str):
    viewer = require_person()
    profile = find_profile(person_id)
    page = page_number()
    discussed, total = discussed_documents(viewer, profile.id, page)
    return jsonify(
        {
            "total": total,
            "page": page,
            "perPage": PER_PAGE,
            "value": [discussed_json(item) for item in discussed],
        }
    )


# ---- OpenAPI -------------------------------------------------------------------------------

OID = path_param("person_id", "Entra object id.")
PERSON_PROPERTIES = {
    "id": STRING,
    "displayName": NULLABLE_STRING,
    "userPrincipalName": NULLABLE_STRING,
    "mail": NULLABLE_STRING,
    "jobTitle": NULLABLE_STRING,
    "department": NULLABLE_STRING,
    "office": NULLABLE_STRING,
    "businessPhone": NULLABLE_STRING,
    "guest": BOOLEAN,
    "active": BOOLEAN,
}
API_SCHEMAS = {
    "Person": obj(PERSON_PROPERTIES),
    "Profile": obj(
        {
            **PERSON_PROPERTIES,
            "manager": {
                "type": ["object", "null"],
                "required": ["id", "displayName"],
                "properties": {"id": STRING, "displayName": NULLABLE_STRING},
            },
        }
    ),
    "DiscussedDocument": obj(
        document_properties(
            DISCUSSED_FIELDS,
            {"commentCount": INTEGER, "lastCommentAt": STRING, "tags": STRINGS},
        )
    ),
}

API_PATHS = {
    "/api/v1/people": {
        "get": {
            "summary": "The directory: enabled members and guests, by name.",
            "operationId": "listPeople",
            "parameters": [
                query_param(
                    "q",
                    "Part of a name, job title, department, office or sign-in name.",
                    {"type": "string", "maxLength": MAX_QUERY},
                ),
                PAGE_PARAM,
            ],
            "responses": {
                "200": paged("Person", "One page of people."),
                "400": error_response("The search is too long."),
                "401": UNAUTHENTICATED,
                "429": error_response("Too many people lookups this minute (see Retry-After)."),
            },
        }
    },
    "/api/v1/people/{person_id}": {
        "get": {
            "summary": "A person's synced profile and manager.",
            "operationId": "getPerson",
            "parameters": [OID],
            "responses": {
                "200": json_response(ref("Profile"), "The profile."),
                "401": UNAUTHENTICATED,
                "404": NOT_FOUND,
            },
        }
    },
    "/api/v1/people/{person_id}/documents": {
        "get": {
            "summary": "Documents the person comments on that the caller may see, latest first.",
            "description": access.DISCOVERY_RULE,
            "operationId": "getPersonDocuments",
            "parameters": [OID, PAGE_PARAM],
            "responses": {
                "200": paged("DiscussedDocument", "One page of documents."),
                "401": UNAUTHENTICATED,
                "404": NOT_FOUND,
            },
        }
    },
}
