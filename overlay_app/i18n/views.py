"""The language switch: a form on the settings page and /api/v1/settings/language."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from overlay_app.errors import form_reply
from overlay_app.i18n import actions
from overlay_app.identity import require_person
from overlay_app.openapi_parts import (
    NULLABLE_STRING,
    error_responses,
    obj,
    ok,
    operation,
    ref,
)

bp = Blueprint("i18n", __name__)


@bp.get("/api/v1/settings/language")
def api_language():
    return jsonify(actions.language(require_person()))


@bp.put("/api/v1/settings/language")
def api_set_language():
    payload = request.get_json(silent=True)
    value = payload.get("locale") if isinstance(payload, dict) else "?"
    return jsonify(actions.set_language(require_person(), value))


@bp.post("/settings/language")
def settings_save():
    person = require_person()
    return form_reply(
        "/settings/notifications?saved=1",
        lambda: actions.set_language(person, request.form.get("locale")),
    )


TAG = "settings"
ERRORS = error_responses(
    {
        400: 'The locale is not "en", "nl" or null.',
        401: "Nobody is signed in.",
        429: "Too many changes this minute (see Retry-After).",
    }
)
LOCALE = {"type": "string", "enum": ["en", "nl"]}
API_SCHEMAS = {
    "LanguageSettings": obj(
        {
            "locale": {**NULLABLE_STRING, "enum": ["en", "nl", None],
                       "description": "The caller's choice; null: their browser's language."},
            "effective": {**LOCALE, "description": "The language pages are in for this request."},
        }
    ),
}  # fmt: skip
API_PATHS = {
    "/api/v1/settings/language": {
        "get": operation(
            TAG, "The language the caller chose for pages and mail.",
            {**ok("The choice.", ref("LanguageSettings")), **ERRORS(401)},
            "getLanguage",
        ),
        "put": operation(
            TAG, "Chooses the caller's language (null: follow the browser's).",
            {**ok("The choice now.", ref("LanguageSettings")), **ERRORS(400, 401, 429)},
            "setLanguage",
            body=obj({"locale": {**NULLABLE_STRING, "enum": ["en", "nl", None]}}),
        ),
    },
}  # fmt: skip
