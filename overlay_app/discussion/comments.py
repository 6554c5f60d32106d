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
the page URLs, carry the CSRF token (checked by security.py) and redirect back (303) to the
document page; a refused form write comes back as a flashed message.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from markupsafe import Markup, escape

from overlay_app import access, security
from overlay_app.access import Document
from overlay_app.discussion import actions as comment_actions
from overlay_app.discussion import mentions
from overlay_app.discussion import openapi as discussion_openapi
from overlay_app.discussion import reads as discussion
from overlay_app.errors import (
    BadInput,
    form_reply,
)
from overlay_app.identity import Person, require_person
from overlay_app.people.photos import avatar
from overlay_app.times import exact_time, time_tag

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

    def create() -> str:
        outcome = comment_actions.add_comment(
            person,
            drive_id,
            item_id,
            request.form.get("body", ""),
            request.form.get("parent_id") or None,
            request.form.get("idempotency_key") or None,
        )
        return document_url(document, f"comment-{outcome.payload['id']}")

    return form_reply(document_url(document, "discussion"), create)


@bp.post("/comments/<comment_id>/edit")
def form_edit(comment_id: str):
    person = require_person()
    _comment, document = access.require_comment(person, comment_id)
    return form_reply(
        document_url(document, f"comment-{comment_id}"),
        lambda: comment_actions.edit_comment(person, comment_id, request.form.get("body", "")),
    )


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


DELETED_BODY = '<div class="body">comment deleted</div>'


def comment_rows(talk: discussion.Discussion, csrf: str, likes: bool = True) -> Markup:
    """Every shown comment of the page as nested <li class="comment"> (template global).

    Built here rather than in _discussion.html: Jinja escapes each of the dozen-odd values of
    a comment through its own call, which made rendering 100 comments cost more than the rest
    of the page. Every value is escaped here too (body_html is nh3's sanitised output, shown
    as is, as the template did), and no comment carries a form of its own besides its like
    (and delete, on one's own): "Reply" and "Edit" link to ?reply= / ?edit= (the page then
    shows that form, without JavaScript), and plaza.js moves the ONE shared form into place.
    `likes` False (switched off by an admin) leaves out the like buttons and counts.
    """
    token = escape(csrf)
    parts = [
        _comment_html(node, token, talk.read_only, node.author_id == talk.viewer_id, likes) + tail
        for node, tail in talk.rows()
    ]
    return Markup("\n".join(parts))


def _comment_html(
    node: discussion.CommentNode, csrf: Markup, read_only: bool, own: bool, with_likes: bool = True
) -> str:
    cid = escape(node.id)
    if node.deleted:
        return f'<li class="comment deleted" id="comment-{cid}">{DELETED_BODY}'
    edited = ""
    if node.edited_at:
        edited = (
            f' · <span class="edited" title="edited {escape(exact_time(node.edited_at))}">'
            "edited</span>"
        )
    html = (
        f'<li class="comment" id="comment-{cid}">'
        f'<div class="meta">{_author_link(node.author_id, node.author_name)} · '
        f'<a class="permalink" href="#comment-{cid}">{time_tag(node.created_at)}</a>'
        f'{edited}</div>\n<div class="body">{node.body_html}</div>\n<div class="actions">'
    )
    count = _like_count(node)
    if not with_likes:
        count = ""
    if read_only:
        return f"{html}{count}</div>"
    liked = node.liked_by_me
    like = (
        f'<form method="post" action="/comments/{cid}/like" class="like-form inline"'
        f' data-api="/api/v1/comments/{cid}/like">'
        f'<input type="hidden" name="csrf_token" value="{csrf}">'
        f'<input type="hidden" name="liked" value="{"0" if liked else "1"}">'
        f'<button type="submit" class="link" aria-pressed="{"true" if liked else "false"}">'
        f"{'Unlike' if liked else 'Like'}</button></form>"
    )
    reply = (
        '<details class="reply"><summary>Reply</summary>'
        f'<a href="?reply={cid}#reply">Write a reply</a></details>'
    )
    mine = ""
    if own:
        mine = (
            f'<details class="edit" data-body="{escape(node.body)}"><summary>Edit</summary>'
            f'<a href="?edit={cid}#edit">Edit your comment</a></details>'
            f'<form method="post" action="/comments/{cid}/delete" class="delete-form inline"'
            ' data-confirm="Delete this comment?">'
            f'<input type="hidden" name="csrf_token" value="{csrf}">'
            '<button type="submit" class="link danger">Delete</button></form>'
        )
    else:  # anyone who sees a comment may report it to the moderators (admin/moderation.py)
        mine = (
            '<details class="report"><summary>Report</summary>'
            f'<form method="post" action="/comments/{cid}/report" class="report-form">'
            f'<input type="hidden" name="csrf_token" value="{csrf}">'
            '<label>Why should moderators look at it? <input name="reason" required'
            ' maxlength="500"></label> <button type="submit">Report</button></form></details>'
        )
    if not with_likes:
        like = ""
    return f"{html}{like}{count}{reply}{mine}</div>"


def _like_count(node: discussion.CommentNode) -> str:
    """ "N likes"; with likers, a disclosure naming them (keyboard and touch reach it, where a
    tooltip reached only a mouse)."""
    likes = node.like_count
    count = f'<span class="like-count">{likes} like{"" if likes == 1 else "s"}</span>'
    if not node.likers:
        return count
    names = ", ".join(
        f'<a href="/people/{escape(liker.id)}">{escape(liker.display_name)}</a>'
        for liker in node.likers
    )
    return f'<details class="likers"><summary>{count}</summary><span>{names}</span></details>'


# The same few authors and stamps, comment after comment and page view after page view: each
# escaped once, not once per comment shown.
@lru_cache(maxsize=4096)
def _author_link(author_id: str | None, author_name: str | None) -> str:
    link = f'<a class="author" href="/people/{escape(author_id)}">{escape(author_name)}</a>'
    return f"{avatar(author_id, 28)}{link}"


def init_app(app: Flask) -> None:
    app.add_template_global(new_idempotency_key)
    app.add_template_global(comment_rows)
