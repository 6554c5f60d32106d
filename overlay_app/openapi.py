"""The OpenAPI 3.1 document of /api/v1, assembled from each feature module's `API_PATHS`.

Each feature documents its own paths beside its routes; a test checks that every /api/v1 route
of the app is documented and every documented path exists. The features are the app's own list
(overlay_app/features.py), so a new one cannot be registered yet left out of the document; each
declares `API_PATHS` and `API_SCHEMAS` (empty for pages only). This module documents its own
route too.
"""

from __future__ import annotations

import sys
from typing import Any

from flask import Blueprint, current_app, jsonify

from overlay_app.features import FEATURES

bp = Blueprint("openapi", __name__)

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
    for module in (*FEATURES, sys.modules[__name__]):
        for path, operations in module.API_PATHS.items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(module.API_SCHEMAS)
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
    answer = document()
    # Features switched off for this tenant leave the document (admin/switches.py).
    for trim in current_app.extensions.get("plaza.openapi_trims", ()):
        answer = trim(answer)
    return jsonify(answer)


API_PATHS = {
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This document: the OpenAPI 3.1 description of /api/v1.",
            "operationId": "getOpenApiDocument",
            "security": [],  # public: anyone may read how the API works, signed in or not
            "responses": {
                "200": {
                    "description": "The OpenAPI document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
}
API_SCHEMAS: dict = {}  # its one answer is the document itself
