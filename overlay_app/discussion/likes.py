"""Likes on documents and comments, and who liked: the routes.

PUT and DELETE are idempotent: liking twice is one like, and both answer 200 with the count.
The writes (and their notifications) are in actions; who liked is read by reads.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from overlay_app import access
from overlay_app.discussion import actions
from overlay_app.discussion import reads as discussion
from overlay_app.discussion.comments import document_url
from overlay_app.discussion.openapi import LIKE_PATHS
from overlay_app.errors import NotFound, form_reply
from overlay_app.identity import Person, require_person

bp = Blueprint("likes", __name__)
API_PATHS = LIKE_PATHS
API_SCHEMAS: dict = {}  # its shapes are in discussion/openapi.py, under comments


def _summary(
    likers: list[discussion.PersonRef], viewer_id: str, with_people: bool
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "likeCount": len(likers),
        "likedByMe": any(liker.id == viewer_id for liker in likers),
    }
    if with_people:
        summary["people"] = [liker.to_json() for liker in likers]
    return summary


# --- reads ------------------------------------------------------------------------------------


def document_likes(
    person: Person, drive_id: str, item_id: str, with_people: bool
) -> dict[str, Any]:
    access.require_document(person, drive_id, item_id)
    return _summary(discussion.document_likers(drive_id, item_id), person.id, with_people)


def comment_likes(person: Person, comment_id: str, with_people: bool) -> dict[str, Any]:
    comment, _document = access.require_comment(person, comment_id)
    if comment.get("deleted_at"):
        raise NotFound()
    return _summary(discussion.comment_likers(comment_id), person.id, with_people)


# --- routes ---------------------------------------------------------------------------------


@bp.put("/api/v1/documents/<drive_id>/<item_id>/like")
def api_like_document(drive_id: str, item_id: str):
    person = require_person()
    actions.set_document_like(person, drive_id, item_id, True)
    return jsonify(document_likes(person, drive_id, item_id, with_people=False))


@bp.delete("/api/v1/documents/<drive_id>/<item_id>/like")
def api_unlike_document(drive_id: str, item_id: str):
    person = require_person()
    actions.set_document_like(person, drive_id, item_id, False)
    return jsonify(document_likes(person, drive_id, item_id, with_people=False))


@bp.get("/api/v1/documents/<drive_id>/<item_id>/likes")
def api_document_likers(drive_id: str, item_id: str):
    return jsonify(document_likes(require_person(), drive_id, item_id, with_people=True))


@bp.put("/api/v1/comments/<comment_id>/like")
def api_like_comment(comment_id: str):
    person = require_person()
    actions.set_comment_like(person, comment_id, True)
    return jsonify(comment_likes(person, comment_id, with_people=False))


@bp.delete("/api/v1/comments/<comment_id>/like")
def api_unlike_comment(comment_id: str):
    person = require_person()
    actions.set_comment_like(person, comment_id, False)
    return jsonify(comment_likes(person, comment_id, with_people=False))


@bp.get("/api/v1/comments/<comment_id>/likes")
def api_comment_likers(comment_id: str):
    return jsonify(comment_likes(require_person(), comment_id, with_people=True))


def _wants_like() -> bool:
    return request.form.get("liked", "1") != "0"


@bp.post("/documents/<drive_id>/<item_id>/like")
def form_like_document(drive_id: str, item_id: str):
    person = require_person()
    document = access.require_document(person, drive_id, item_id)
    return form_reply(
        document_url(document, "likes"),
        lambda: actions.set_document_like(person, drive_id, item_id, _wants_like()),
    )


@bp.post("/comments/<comment_id>/like")
def form_like_comment(comment_id: str):
    person = require_person()
    _comment, document = access.require_comment(person, comment_id)
    return form_reply(
        document_url(document, f"comment-{comment_id}"),
        lambda: actions.set_comment_like(person, comment_id, _wants_like()),
    )
