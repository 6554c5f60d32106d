"""Shared wire helpers: Graph's error envelope, request ids, $select, $top and paging links."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException


class GraphHTTPError(HTTPException):
    """Raised anywhere in a Graph or Entra handler; rendered as Graph's error envelope."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(description=message)
        self.code = status
        self.graph_code = code
        self.message = message
        self.extra_headers = headers or {}


def request_id() -> str:
    """This request's id: echoed in `request-id` headers and in every error's innerError."""
    if "request_id" not in g:
        g.request_id = str(uuid.uuid4())
    return g.request_id


def client_request_id() -> str:
    return request.headers.get("client-request-id") or request_id()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def error_body(code: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": now_iso(),
                "request-id": request_id(),
                "client-request-id": client_request_id(),
            },
        }
    }


def graph_error_response(err: GraphHTTPError):
    response = jsonify(error_body(err.graph_code, err.message))
    response.status_code = err.code
    for name, value in err.extra_headers.items():
        response.headers[name] = value
    return response


def not_found(message: str = "The resource could not be found.", code: str = "itemNotFound"):
    return GraphHTTPError(404, code, message)


def bad_request(message: str, code: str = "invalidRequest") -> GraphHTTPError:
    return GraphHTTPError(400, code, message)


def query_param(name: str) -> str | None:
    """An OData system query option, with or without its `$` (Graph accepts both)."""
    value = request.args.get(name)
    if value is None and name.startswith("$"):
        value = request.args.get(name[1:])
    return value


def top(default: int = 100, maximum: int = 999) -> int:
    raw = query_param("$top")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        message = f"Invalid value '{raw}' for query option '$top'."
        raise bad_request(message, "Request_BadRequest") from None
    if value < 1:
        message = f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive."
        raise bad_request(message, "Request_UnsupportedQuery")
    return min(value, maximum)


def selected_fields() -> list[str] | None:
    raw = query_param("$select")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None


def apply_select(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Keep only the selected properties (plus annotations and `id`, which Graph always returns)."""
    if not fields:
        return obj
    wanted = {f.lower() for f in fields}
    return {k: v for k, v in obj.items() if k.startswith("@") or k == "id" or k.lower() in wanted}


def absolute_url(path_and_query: str) -> str:
    """An absolute URL on this emulator (nextLinks and deltaLinks must be absolute)."""
    return request.host_url.rstrip("/") + path_and_query
