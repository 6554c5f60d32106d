"""Terms of use for everyone signed in (read, accept) and for admins (publish)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from overlay_app.admin import terms
from overlay_app.admin.gate import bp as admin_bp
from overlay_app.admin.openapi import TERMS_PATHS, TERMS_SCHEMAS
from overlay_app.errors import form_reply
from overlay_app.identity import require_person

bp = Blueprint("terms", __name__)
API_PATHS, API_SCHEMAS = TERMS_PATHS, TERMS_SCHEMAS


@bp.get("/terms")
def terms_page():
    person = require_person()
    return render_template("admin/terms.html", terms=terms.current(),
                           accepted=terms.accepted(person))  # fmt: skip


@bp.post("/terms/accept")
def accept_form():
    person = require_person()
    raw = request.form.get("version", "")
    version = int(raw) if raw.isascii() and raw.isdigit() else None
    return form_reply("/terms", lambda: terms.do_accept(person, version) and "/")


@bp.get("/api/v1/terms")
def api_terms():
    person = require_person()
    found = terms.current()
    if found is None:
        return jsonify({"version": None, "text": None, "publishedAt": None, "accepted": True})
    version, text, published_at = found
    return jsonify({"version": version, "text": text, "publishedAt": published_at,
                    "accepted": terms.accepted(person)})  # fmt: skip


@bp.post("/api/v1/terms/accept")
def api_accept():
    body = request.get_json(silent=True)
    version = body.get("version") if isinstance(body, dict) else None
    return jsonify({"accepted": terms.do_accept(require_person(), version)})


@admin_bp.get("/admin/terms")
def admin_terms_page():
    return render_template("admin/terms_admin.html", terms=terms.current())


@admin_bp.post("/admin/terms")
def publish_terms():
    person = require_person()
    return form_reply("/admin/terms", lambda: terms.do_publish(person, request.form.get("text"))
                      and None)  # fmt: skip
