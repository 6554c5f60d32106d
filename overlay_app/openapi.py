"""The OpenAPI 3.1 document of /api/v1, assembled from each feature module's `API_PATHS`.

Each feature documents its own paths beside its routes; a test checks that every /api/v1 route
of the app is documented and every documented path exists.
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__)

FEATURES = (
    "auth",
    "documents",
    "comments",
    "likes",
    "tags",
    "search",
    "people",
    "notifications",
    "browse",
    "chat",
    "realtime",
)

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for name in FEATURES:
        module = importlib.import_module(f"overlay_app.{name}")
        for path, operations in getattr(module, "API_PATHS", {}).items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(getattr(module, "API_SCHEMAS", {}))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Plaza API",
            "version": "1.0.0",
            "description": "Discussions about SharePoint documents, trimmed to what the "
            "caller may open in SharePoint.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An Entra ID access token for Plaza's API.",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "__Host-plaza"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }


@bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(document())
