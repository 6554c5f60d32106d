"""The moderators' routes in the console: the queue (page and API) and the acts."""

from __future__ import annotations

from flask import jsonify, render_template, request

from overlay_app.admin import moderation
from overlay_app.admin.gate import bp, for_moderators
from overlay_app.errors import BadInput, form_reply
from overlay_app.identity import require_person


@bp.get("/admin/moderation")
@for_moderators
def moderation_page():
    person = require_person()
    return render_template("admin/moderation.html", queue=moderation.queue(person))


@bp.post("/admin/moderation/<kind>/<target_id>")
@for_moderators
def moderation_act(kind: str, target_id: str):
    person = require_person()
    verb, reason = request.form.get("act"), request.form.get("reason")
    return form_reply(
        "/admin/moderation", lambda: moderation.act(person, kind, target_id, verb, reason)
    )


@bp.get("/api/v1/admin/reports")
@for_moderators
def api_reports():
    person = require_person()
    return jsonify({"reported": [entry.to_json() for entry in moderation.queue(person)]})


@bp.post("/api/v1/admin/moderation")
@for_moderators
def api_moderation_act():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("targetId"), str):
        raise BadInput('Send {"kind", "targetId", "act", "reason"}.')
    moderation.act(require_person(), body.get("kind"), body["targetId"], body.get("act"),
                   body.get("reason"))  # fmt: skip
    return jsonify({"kind": body["kind"], "targetId": body["targetId"], "act": body["act"]})
