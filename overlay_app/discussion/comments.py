"""Comments on documents: threads of replies, Markdown, mentions, edit and delete.

Contract with the document page (documents.py, helper "overlay-browse"): document.html shows
the discussion with

    {% include "_discussion.html" %}        (the comment threads and the forms to write)
    {% include "_document_like.html" %}     (optional: the document's like button and likers)

and both expect two variables in the template context:

    document    the access.Document of the page (drive_id, item_id, name, archived, ...)
    discussion  comments.discussion_for(person, document): a discussion.Discussion with
                drive_id, item_id, viewer_id, read_only (archived), comments (top-level
                CommentNode list, oldest first, each with .replies), comment_count (live
                comments, replies included), like_count, liked_by_me, likers (PersonRef list)

and optionally `reply_to` / `edit_id` (the page's ?reply= / ?edit=: without JavaScript, the
one comment whose reply or edit form the page shows; see comment_rows).

The page must call access.require_document first; discussion_for trusts that it did.

Every write goes through comment_actions (check_* then do_* in one transaction); the views here
only parse the request and shape the answer. Page forms post to the same paths as the API under
the page URLs, carry the CSRF token (checked by overlay_app.csrf) and redirect back (303) to the
document page; a refused form write comes back as a flashed message.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, jsonify, request

from overlay_app import access, security
from overlay_app.access import Document
from overlay_app.discussion import actions as comment_actions
from overlay_app.discussion import drafts, mentions
from overlay_app.discussion import openapi as discussion_openapi
from overlay_app.discussion import reads as discussion
from overlay_app.discussion.markup import comment_rows
from overlay_app.errors import (
    BadInput,
    form_reply,
)
from overlay_app.identity import Person, require_person

bp = Blueprint("comments", __name__)
API_PATHS = discussion_openapi.COMMENT_PATHS
API_SCHEMAS = discussion_openapi.API_SCHEMAS

# Refusals that a form shows as a message on the document page (404s stay 404s).


def discussion_for(person: Person, document: Document) -> discussion.Discussion:
    """The `discussion` variable for _discussion.html (document already access-checked)."""
    return discussion.load(person.id, document)


def document_url(document: Document, anchor: str = "") -> str:
    url = f"/documents/{document.drive_id}/{document.item_id}"
    return f"{url}#{anchor}" if anchor else url


def _json_payload() -> dict[str, Any]:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadInput('Send a JSON object such as {"body": "Looks good", "parent_id": null}.')
    return payload


# --- JSON API -----------------------------------------------------------------------------


@bp.get("/api/v1/documents/<drive_id>/<item_id>/comments")
def api_list(drive_id: str, item_id: str):
    person = require_person()
    document = access.require_document(person, drive_id, item_id)
    found = discussion.load(person.id, document)
    return jsonify(
        {
            "commentCount": found.comment_count,
            "comments": [node.to_json() for node in found.comments],
        }
    )


@bp.post("/api/v1/documents/<drive_id>/<item_id>/comments")
def api_create(drive_id: str, item_id: str):
    person = require_person()
    payload = _json_payload()
    outcome = comment_actions.add_comment(
        person,
        drive_id,
        item_id,
        payload.get("body"),
        payload.get("parent_id"),
        request.headers.get("Idempotency-Key"),
    )
    response = jsonify(outcome.payload)
    response.status_code = outcome.status
    response.headers["Location"] = f"/api/v1/comments/{outcome.payload['id']}"
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/api/v1/comments/<comment_id>")
def api_get(comment_id: str):
    return jsonify(comment_actions.view_comment(require_person(), comment_id).to_json())


@bp.patch("/api/v1/comments/<comment_id>")
def api_edit(comment_id: str):
    person = require_person()
    body = _json_payload().get("body")
    return jsonify(comment_actions.edit_comment(person, comment_id, body).to_json())


@bp.delete("/api/v1/comments/<comment_id>")
def api_delete(comment_id: str):
    comment_actions.delete_comment(require_person(), comment_id)
    return "", 204


@bp.get("/api/v1/mentions/suggest")
def api_suggest():
    person = require_person()
    drive_id, item_id = request.args.get("drive_id", ""), request.args.get("item_id", "")
    if not drive_id or not item_id:
        raise BadInput("Give drive_id and item_id of the document.")
    access.require_document(person, drive_id, item_id)
    security.check_read_rate(person, "people")
    found = mentions.suggest(person.id, drive_id, item_id, request.args.get("q", ""))
    return jsonify({"people": [suggestion.to_json() for suggestion in found]})


# --- page forms ---------------------------------------------------------------------------


@bp.post("/documents/<drive_id>/<item_id>/comments")
def form_create(drive_id: str, item_id: str):
    person = require_person()
    document = access.require_document(person, drive_id, item_id)
    body = request.form.get("body", "")
    parent_id = request.form.get("parent_id") or None
    draft = drafts.Draft(body, parent_id=parent_id)

    def create() -> str:
        outcome = comment_actions.add_comment(
            person,
            drive_id,
            item_id,
            body,
            parent_id,
            request.form.get("idempotency_key") or None,
        )
        return document_url(document, f"comment-{outcome.payload['id']}")

    # A refusal lands on the same form, with the text put back (drafts.py).
    landing = document_url(document, "discussion")
    if parent_id is not None:
        landing = f"{document_url(document)}?reply={quote(parent_id)}#reply"
    return form_reply(landing, lambda: drafts.kept_on_refusal(document, draft, create))


@bp.post("/comments/<comment_id>/edit")
def form_edit(comment_id: str):
    person = require_person()
    _comment, document = access.require_comment(person, comment_id)
    body = request.form.get("body", "")
    draft = drafts.Draft(body, edit_id=comment_id)

    def edit() -> str:
        comment_actions.edit_comment(person, comment_id, body)
        return document_url(document, f"comment-{comment_id}")

    landing = f"{document_url(document)}?edit={quote(comment_id)}#edit"
    return form_reply(landing, lambda: drafts.kept_on_refusal(document, draft, edit))


@bp.post("/comments/<comment_id>/delete")
def form_delete(comment_id: str):
    person = require_person()
    _comment, document = access.require_comment(person, comment_id)
    return form_reply(
        document_url(document, "discussion"),
        lambda: comment_actions.delete_comment(person, comment_id),
    )


# --- template helpers ---------------------------------------------------------------------


def new_idempotency_key() -> str:
    """A fresh key per rendered form, so a double-submitted form makes one comment."""
    return str(uuid.uuid4())


def init_app(app: Flask) -> None:
    drafts.init_app(app)
    app.add_template_global(new_idempotency_key)
    app.add_template_global(comment_rows)
