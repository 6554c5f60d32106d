"""The people directory and profiles: routes over overlay_app.people.profiles (which reads the
index's directory, sync/directory.py).

Everyone signed in sees the directory: enabled members and guests, searchable by name, job
title, department and office. A profile shows the synced fields, the manager, and the
documents the person discusses, trimmed for the viewer (see profiles.py).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from overlay_app import access, security
from overlay_app.browse.listing import (
    INTEGER,
    NOT_FOUND,
    PAGE_PARAM,
    STRINGS,
    UNAUTHENTICATED,
    error_response,
    json_response,
    obj,
    page_number,
    paged,
    path_param,
    query_param,
    ref,
)
from overlay_app.documents_json import document_properties
from overlay_app.errors import BadInput, NotFound
from overlay_app.identity import require_person
from overlay_app.insights import expertise
from overlay_app.openapi_parts import BOOLEAN, NULLABLE_STRING, STRING
from overlay_app.people import photos, profiles
from overlay_app.people.profiles import DISCUSSED_FIELDS

bp = Blueprint("people", __name__)

PER_PAGE = 30
MAX_QUERY = 100


def directory_text() -> str:
    text = request.args.get("q", "").strip()
    if len(text) > MAX_QUERY:
        raise BadInput("A search is at most %(most)s characters.", most=MAX_QUERY)
    return text


# ---- views ---------------------------------------------------------------------------------


@bp.get("/people")
def people_page():
    security.check_read_rate(require_person(), "people")
    text, page = directory_text(), page_number()
    people, total = profiles.directory_page(text, page, PER_PAGE)
    return render_template(
        "people.html", people=people, total=total, text=text, page=page, per_page=PER_PAGE
    )


@bp.get("/people/<person_id>")
def person_page(person_id: str):
    viewer = require_person()
    profile = profiles.find_profile(person_id)
    manager = profiles.manager_of(profile)
    page = page_number()
    discussed, total = profiles.discussed_documents(viewer, profile.id, page, PER_PAGE)
    return render_template(
        "person.html",
        profile=profile,
        manager=manager,
        discussed=discussed,
        total=total,
        page=page,
        per_page=PER_PAGE,
        tag_summary=profiles.tag_summary(discussed),
        evidence=[] if viewer.guest else expertise.profile_evidence(viewer, profile.id),
    )


@bp.get("/people/<person_id>/photo")
def person_photo(person_id: str):
    require_person()
    found = photos.photo_response(person_id)
    if found is None:
        raise NotFound()
    return found


@bp.get("/api/v1/people")
def api_people():
    security.check_read_rate(require_person(), "people")
    text, page = directory_text(), page_number()
    people, total = profiles.directory_page(text, page, PER_PAGE)
    value = [profiles.person_json(p) for p in people]
    return jsonify({"total": total, "page": page, "perPage": PER_PAGE, "value": value})


@bp.get("/api/v1/people/<person_id>")
def api_person(person_id: str):
    require_person()
    profile = profiles.find_profile(person_id)
    return jsonify(profiles.profile_json(profile, profiles.manager_of(profile)))


@bp.get("/api/v1/people/<person_id>/documents")
def api_person_documents(person_id: str):
    viewer = require_person()
    profile = profiles.find_profile(person_id)
    page = page_number()
    discussed, total = profiles.discussed_documents(viewer, profile.id, page, PER_PAGE)
    value = [profiles.discussed_json(item) for item in discussed]
    return jsonify({"total": total, "page": page, "perPage": PER_PAGE, "value": value})


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
