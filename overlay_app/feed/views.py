"""The "For you" feed: the page (`/feed`, whose list is the partial `_feed.html`, which a home
page can include with `feed_entries`/`feed_cursor`) and `GET /api/v1/feed`."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from overlay_app.errors import BadInput
from overlay_app.feed import reads
from overlay_app.feed.openapi import API_PATHS as API_PATHS
from overlay_app.feed.openapi import API_SCHEMAS as API_SCHEMAS
from overlay_app.identity import require_person

bp = Blueprint("feed", __name__)


def _limit() -> int:
    raw = request.args.get("limit", str(reads.PAGE_SIZE))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= reads.MAX_PAGE:
        raise BadInput("limit must be a whole number from 1 to %(most)s.", most=reads.MAX_PAGE)
    return int(raw)


@bp.get("/api/v1/feed")
def api_feed():
    person = require_person()
    entries, cursor = reads.page(person, request.args.get("cursor") or None, _limit())
    return jsonify({"entries": [entry.to_json() for entry in entries], "nextCursor": cursor})


@bp.get("/feed")
def page():
    person = require_person()
    entries, cursor = reads.page(person, request.args.get("cursor") or None)
    return render_template("feed.html", feed_entries=entries, feed_cursor=cursor)
