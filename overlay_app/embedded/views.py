"""Embedded pages (Teams tabs, their configuration page, the compact document panel) and the
embedded sign-in API.

Pages render a shell with no data and no cookie needed: their script (static/embedded.js) gets
a token from the host (Teams' getAuthToken, or the SharePoint page's postMessage), trades it at
`POST /api/v1/embedded/session` for a Plaza token kept in memory, and calls the JSON API with
`Authorization: Bearer` (never the cookie: `credentials: "omit"`). Whoever may not see a
document meets the API's 404, exactly as for a missing one; the shell is the same for both.

URLs (the Teams package built by `plaza manifests build` points at them):
- `/teams/tab/home`, `/teams/tab/activity`: personal tabs;
- `/teams/config`: the configurable tab's page, which saves `/teams/tab/pin?target=KIND:ID`
  (library:DRIVE, folder:DRIVE/ITEM, document:DRIVE/ITEM, channel:ROOM);
- Entra's consent prompt -> `/teams/consent/done`, in Teams' authentication window;
- `/embed/documents/{drive_id}/{item_id}`: the panel, 400 px wide.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, render_template, request

from overlay_app.auth.entra import GRAPH_SCOPES
from overlay_app.auth.views import public
from overlay_app.csrf import csrf_exempt
from overlay_app.embedded import tokens
from overlay_app.errors import BadInput, NotFound
from overlay_app.headers import embeddable, embedded_ancestors_of
from overlay_app.identity import require_person
from overlay_app.openapi_parts import error_response

bp = Blueprint("embedded", __name__)
TARGET = re.compile(r"(library|folder|document|channel):[A-Za-z0-9!_\-./]{1,400}")
TABS = {"home": "Plaza", "activity": "Activity"}


def _shell(view: str, **data: Any) -> str:
    settings = current_app.extensions["plaza.settings"]
    # teams-js accepts messages only from Microsoft's hosts and the origins named here (https).
    extra = [s for s in embedded_ancestors_of(settings) if s.startswith("https://")]
    return render_template(
        "embedded.html",
        view=view,
        data=dict(data, origins=" ".join(extra), public=settings.public_url, consent=consent_url()),
    )


def consent_url() -> str:
    """Entra's consent prompt for Plaza's delegated permissions, opened by Teams'
    authentication window (which takes https URLs only); it returns to /teams/consent/done."""
    settings = current_app.extensions["plaza.settings"]
    query = {
        "client_id": settings.client_id,
        "response_type": "code",
        "redirect_uri": f"{settings.public_url}/teams/consent/done",
        "scope": " ".join(GRAPH_SCOPES),
        "prompt": "consent",
    }
    return f"{settings.authority}/oauth2/v2.0/authorize?{urlencode(query)}"


@bp.get("/teams/tab/<name>")
@public
@embeddable
def tab(name: str):
    if name == "pin":
        target = request.args.get("target", "")
        if not TARGET.fullmatch(target):
            raise BadInput("target must be KIND:ID (library, folder, document or channel)")
        return _shell("pin", target=target, host="teams")
    if name not in TABS:
        raise NotFound()
    return _shell(name, host="teams")


@bp.get("/teams/config")
@public
@embeddable
def config():
    return _shell("config", host="teams")


@bp.get("/embed/documents/<drive_id>/<item_id>")
@public
@embeddable
def panel(drive_id: str, item_id: str):
    host = "teams" if request.args.get("host") == "teams" else "sharepoint"
    return _shell("panel", target=f"document:{drive_id}/{item_id}", host=host)


@bp.get("/teams/consent/done")
@public
def consent_done():
    """Tells Teams how the prompt ended (the code is not redeemed: consent was the point)."""
    failed = request.args.get("error", "")
    return _shell("consent", outcome=failed or "consented", host="teams")


# -- API -------------------------------------------------------------------------------------


@bp.post("/api/v1/embedded/session")
@public
@csrf_exempt  # the proof is the token in the body; no ambient credential is involved
def start_session():
    payload = request.get_json(silent=True)
    raw = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(raw, str) or not raw or len(raw) > 16_000:
        raise BadInput("token must be the host's access token for Plaza")
    token, person, lifetime = tokens.sign_in(raw)
    response = jsonify(
        {
            "token": token,
            "tokenType": "Bearer",
            "expiresIn": lifetime,
            "person": {"id": person.id, "displayName": person.display_name},
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/api/v1/embedded/session")
def end_session():
    require_person()
    authorization = request.headers.get("Authorization", "")
    raw = authorization[7:].strip()
    if not raw.startswith(tokens.PREFIX):
        raise BadInput("Only a Plaza token of an embedded page is signed out here.")
    tokens.sign_out(raw)
    return "", 204


def init_app(app) -> None:
    tokens.init_app(app)


API_SCHEMAS = {
    "EmbeddedSession": {
        "type": "object",
        "required": ["token", "tokenType", "expiresIn", "person"],
        "properties": {
            "token": {"type": "string", "description": "Plaza bearer token; keep in memory"},
            "tokenType": {"type": "string", "enum": ["Bearer"]},
            "expiresIn": {"type": "integer", "description": "seconds"},
            "person": {
                "type": "object",
                "required": ["id", "displayName"],
                "properties": {"id": {"type": "string"}, "displayName": {"type": "string"}},
            },
        },
    }
}
API_PATHS = {
    "/api/v1/embedded/session": {
        "post": {
            "operationId": "startEmbeddedSession",
            "summary": "Trades a Teams or SharePoint token for a short-lived Plaza token.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["token"],
                            "properties": {"token": {"type": "string", "maxLength": 16000}},
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Signed in.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/EmbeddedSession"}
                        }
                    },
                },
                "400": error_response("No token."),
                "401": error_response("The token is not valid, or its user cannot use Plaza."),
                "403": error_response("Consent required (code consentRequired): prompt, retry."),
                "503": error_response("Entra cannot be reached now."),
            },
        },
        "delete": {
            "operationId": "endEmbeddedSession",
            "summary": "Revokes the Plaza token sent as the bearer token.",
            "responses": {
                "204": {"description": "Revoked."},
                "400": error_response("The bearer token is not a Plaza token."),
                "401": error_response("Not a valid Plaza token."),
            },
        },
    }
}
