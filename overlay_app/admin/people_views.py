"""The console's routes for data requests about one person (admins)."""

from __future__ import annotations

import json

from flask import Response, current_app, jsonify, render_template, request

from overlay_app import db, security
from overlay_app.admin import data_requests, held
from overlay_app.admin.gate import bp
from overlay_app.errors import BadInput, form_reply
from overlay_app.identity import Person, require_person


def _export(person: Person, who: str) -> Response:
    person_id, name = data_requests.find_person(db.index(), who)
    archive = data_requests.export(db.social(), person_id, name)
    security.audit(person.id, "admin.person.export", person_id)
    response = Response(json.dumps(archive, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="plaza-{person_id}.json"'
    return response


def _erase(person: Person, who: str) -> dict[str, int]:
    person_id, _ = data_requests.find_person(db.index(), who)
    remove = current_app.extensions["plaza.settings"].erase_mode == "remove"
    with db.transaction() as conn:
        erased = data_requests.erase(conn, person.id, person_id, remove)
    held.forget()  # their acceptance of the terms went
    return erased


@bp.get("/admin/people")
def people_page():
    return render_template(
        "admin/people.html", erase_mode=current_app.extensions["plaza.settings"].erase_mode
    )


@bp.get("/admin/people/export")
def export_download():
    return _export(require_person(), request.args.get("person", ""))


@bp.post("/admin/people/erase")
def erase_form():
    person = require_person()
    if request.form.get("confirm") != "erase":
        raise BadInput('Type "erase" to confirm.')
    who = request.form.get("person", "")
    return form_reply("/admin/people", lambda: _erase(person, who) and None)


@bp.get("/api/v1/admin/people/<person_id>/export")
def api_export(person_id: str):
    return _export(require_person(), person_id)


@bp.post("/api/v1/admin/people/<person_id>/erase")
def api_erase(person_id: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("confirm") is not True:
        raise BadInput('Send {"confirm": true}: erasing cannot be undone.')
    return jsonify(_erase(require_person(), person_id))
