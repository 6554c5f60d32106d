"""In-app notifications, the routes: the list (page and API) and marking read.

Notifications are written by the writes that cause them (notifications.actions.notify, in their
transaction) and read trimmed by the recipient's access (notifications.reads); the SQL is in
notifications.store. A notification's id, as people see it, is random (its public_id).
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, redirect, render_template, request

from overlay_app import schema
from overlay_app.discussion import reads as discussion
from overlay_app.discussion.openapi import NOTIFICATION_PATHS
from overlay_app.errors import BadInput
from overlay_app.identity import require_person
from overlay_app.notifications import actions, reads
from overlay_app.notifications.actions import MAX_IDS
from overlay_app.notifications.reads import DEFAULT_LIMIT, MAX_LIMIT

bp = Blueprint("notifications", __name__)
API_PATHS = NOTIFICATION_PATHS
API_SCHEMAS: dict = {}  # its shapes are in discussion/openapi.py, under comments


def _is_number(raw: str) -> bool:
    """ASCII digits only: str.isdigit() also passes "²", which int() refuses."""
    return raw.isascii() and raw.isdigit()


def _limit_arg() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not _is_number(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadInput("limit must be a whole number from 1 to %(most)s.", most=MAX_LIMIT)
    return int(raw)


def _form_ids() -> list[str] | None:
    """The ids ticked in the page's form, or None for "all"."""
    if request.form.get("all") == "1":
        return None
    raw = request.form.getlist("id")
    if not raw or not all(schema.is_public_id(value) for value in raw):
        raise BadInput("Choose a notification to mark as read.")
    return raw[:MAX_IDS]


# --- routes ---------------------------------------------------------------------------------


@bp.get("/api/v1/notifications")
def api_list():
    person = require_person()
    unread_only = request.args.get("unread", "false").lower() in ("true", "1")
    items = reads.listing(person, _limit_arg(), unread_only)
    return jsonify(
        {
            "unreadCount": reads.count_unread(person),
            "notifications": [item.to_json() for item in items],
        }
    )


@bp.post("/api/v1/notifications/read")
def api_mark_read():
    person = require_person()
    ids = actions.check_read_request(request.get_json(silent=True))
    actions.mark_read(person, ids, discussion.now())
    return jsonify({"unreadCount": reads.count_unread(person)})


@bp.get("/notifications")
def page():
    person = require_person()
    items = reads.listing(person, MAX_LIMIT)
    return render_template(
        "notifications.html", notifications=items, unread=sum(1 for item in items if not item.read)
    )


@bp.post("/notifications/read")
def page_mark_read():
    person = require_person()
    actions.mark_read(person, _form_ids(), discussion.now())
    return redirect("/notifications", code=303)


def init_app(app: Flask) -> None:
    app.add_template_global(reads.unread_count)
