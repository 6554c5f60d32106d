"""Routes everyone signed in uses: reporting a comment or chat message they can see, and the
notices of what moderators did to their own words (with the reasons)."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, render_template, request
from flask_babel import gettext

from overlay_app.admin import moderation
from overlay_app.admin.openapi import REPORT_PATHS, REPORT_SCHEMAS
from overlay_app.errors import form_reply
from overlay_app.identity import require_person

bp = Blueprint("moderation", __name__)
API_PATHS, API_SCHEMAS = REPORT_PATHS, REPORT_SCHEMAS


def _reason() -> object:
    body = request.get_json(silent=True)
    return body.get("reason") if isinstance(body, dict) else None


@bp.post("/api/v1/comments/<comment_id>/report")
def api_report_comment(comment_id: str):
    report_id, _ = moderation.report(require_person(), moderation.COMMENT, comment_id, _reason())
    return jsonify({"id": report_id}), 201


@bp.post("/api/v1/messages/<message_id>/report")
def api_report_message(message_id: str):
    report_id, _ = moderation.report(require_person(), moderation.MESSAGE, message_id, _reason())
    return jsonify({"id": report_id}), 201


@bp.post("/comments/<comment_id>/report")
def report_comment(comment_id: str):
    return _report_form(moderation.COMMENT, comment_id)


@bp.post("/chat/messages/<message_id>/report")
def report_message(message_id: str):
    return _report_form(moderation.MESSAGE, message_id)


def _report_form(kind: str, target_id: str):
    person = require_person()
    landing = request.referrer if (request.referrer or "").startswith(request.host_url) else "/"

    def send() -> str:
        _, page = moderation.report(person, kind, target_id, request.form.get("reason"))
        flash(gettext("Thank you: the moderators will look at it."), "info")
        return page

    return form_reply(landing, send)


@bp.get("/moderation/notices")
def notices_page():
    return render_template("admin/notices.html", notices=moderation.notices(require_person()))


@bp.get("/api/v1/moderation/notices")
def api_notices():
    return jsonify({"notices": moderation.notices(require_person())})
