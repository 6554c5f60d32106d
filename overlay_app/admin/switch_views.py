"""The console's routes for feature switches (admins)."""

from __future__ import annotations

from flask import jsonify, render_template, request

from overlay_app import db, security
from overlay_app.admin import held, store, switches
from overlay_app.admin.gate import bp
from overlay_app.discussion import reads as discussion
from overlay_app.errors import BadInput, form_reply
from overlay_app.identity import Person, require_person


def do_set(person: Person, wanted: dict[str, bool]) -> dict[str, bool]:
    """Sets the switches named in `wanted`, audited with the change."""
    unknown = sorted(set(wanted) - set(switches.SWITCHES))
    if unknown:
        raise BadInput("No such switch: %(names)s.", names=", ".join(unknown))
    now, before = discussion.now(), dict(switches.states())
    with db.transaction() as conn:
        for name, on in wanted.items():
            store.set_switch(conn, name, on, person.id, now)
        changed = {name: on for name, on in wanted.items() if before[name] != on}
        if changed:
            security.audit(person.id, "admin.switches", ",".join(sorted(changed)), changed)
    held.forget()
    return {**before, **wanted}


@bp.get("/admin/switches")
def switches_page():
    return render_template(
        "admin/switches.html", states=switches.states(), labels=switches.SWITCHES
    )


@bp.post("/admin/switches")
def set_switches():
    person = require_person()
    wanted = {name: request.form.get(name) == "1" for name in switches.SWITCHES}
    return form_reply("/admin/switches", lambda: do_set(person, wanted) and None)


@bp.get("/api/v1/admin/switches")
def api_switches():
    return jsonify(switches.states())


@bp.patch("/api/v1/admin/switches")
def api_set_switches():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(isinstance(v, bool) for v in body.values()):
        raise BadInput('Send {"name": true|false, ...}.')
    return jsonify(do_set(require_person(), body))
