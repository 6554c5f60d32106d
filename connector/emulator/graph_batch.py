"""JSON batching: POST /v1.0/$batch (PROTOCOL.md 3.3, json-batching.md).

Each request runs through the same Flask app as a separate WSGI request carrying the caller's
Authorization header, so authentication, permissions and injected faults apply to every one of
them on its own: a throttled sub-request answers 429 with its Retry-After in its own headers
while the batch itself answers 200. Responses come back in an order different from the
requests', as Graph's may ("Individual responses might appear in a different order").
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from connector.emulator import odata
from connector.emulator.odata import GraphHTTPError

bp = Blueprint("graph_batch", __name__, url_prefix="/v1.0")

MAX_REQUESTS = 20
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# Headers a sub-response keeps; transport ones belong to the batch response only.
DROPPED_HEADERS = {"content-length", "connection", "transfer-encoding", "date", "server"}


@dataclass(frozen=True)
class SubRequest:
    id: str
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    depends_on: tuple[str, ...]


def invalid(message: str) -> GraphHTTPError:
    # Graph documents only "malformed -> 400"; code and wording here are the emulator's.
    return GraphHTTPError(400, "invalidRequest", message)


@bp.route("/$batch", methods=["POST"])
def batch():
    requests_ = parse_batch(request.get_json(silent=True))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    authorization = request.headers.get("Authorization")
    outcomes: dict[str, dict[str, Any]] = {}
    for sub in requests_:
        failed = [d for d in sub.depends_on if not 200 <= outcomes[d.lower()]["status"] < 300]
        if failed:
            outcomes[sub.id.lower()] = failed_dependency(sub, failed[0])
        else:
            outcomes[sub.id.lower()] = run(app, sub, authorization)
    responses = list(outcomes.values())
    return jsonify({"responses": reorder(responses)})


def parse_batch(payload: Any) -> list[SubRequest]:
    """Validates the whole batch first: one bad entry fails the batch with 400."""
    if not isinstance(payload, dict) or not isinstance(payload.get("requests"), list):
        raise invalid("Invalid batch payload format.")
    entries = payload["requests"]
    if len(entries) > MAX_REQUESTS:
        raise invalid(f"Number of batch requests exceeds maximum of {MAX_REQUESTS}")
    seen: set[str] = set()
    parsed = []
    for entry in entries:
        sub = parse_entry(entry)
        key = sub.id.lower()  # ids are not case-sensitive
        if key in seen:
            raise invalid(f"Batch request ids must be unique; '{sub.id}' is repeated.")
        for dependency in sub.depends_on:
            if dependency.lower() not in seen:
                raise invalid(
                    f"Request '{sub.id}' depends on '{dependency}', "
                    "which is not an earlier request in the batch."
                )
        seen.add(key)
        parsed.append(sub)
    return parsed


def parse_entry(entry: Any) -> SubRequest:
    if not isinstance(entry, dict):
        raise invalid("Invalid batch payload format.")
    sub_id, method, url = entry.get("id"), entry.get("method"), entry.get("url")
    if not isinstance(sub_id, str) or not sub_id:
        raise invalid("Batch request id is required.")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise invalid(f"Batch request '{sub_id}' has an invalid method.")
    if not isinstance(url, str) or not url:
        raise invalid(f"Batch request '{sub_id}' has no url.")
    headers = entry.get("headers") or {}
    if not isinstance(headers, dict):
        raise invalid(f"Batch request '{sub_id}' has invalid headers.")
    if "body" in entry and not any(k.lower() == "content-type" for k in headers):
        raise invalid(f"Batch request '{sub_id}' has a body but no Content-Type header.")
    target_path(url)  # rejects a nested batch up front
    depends = entry.get("dependsOn") or []
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise invalid(f"Batch request '{sub_id}' has an invalid dependsOn.")
    return SubRequest(
        sub_id,
        method.upper(),
        url,
        {str(k): str(v) for k, v in headers.items()},
        entry.get("body"),
        tuple(depends),
    )


def target_path(url: str) -> tuple[str, str]:
    """(path, query) below /v1.0 for a batch `url` ("/users", "users?$top=1", or absolute)."""
    parts = urlsplit(url)
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    if path.lower().startswith("/v1.0/"):
        path = path[len("/v1.0") :]
    if path.lower().startswith("/$batch"):
        raise invalid("A batch cannot contain another batch.")
    return "/v1.0" + path, parts.query


def run(app: Flask, sub: SubRequest, authorization: str | None) -> dict[str, Any]:
    """Dispatches one request through the app, in an app context of its own (its own `g`)."""
    path, query = target_path(sub.url)
    headers = dict(sub.headers)
    if authorization and not any(k.lower() == "authorization" for k in headers):
        headers["Authorization"] = authorization
    body = sub.body
    data = None
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, str) else decode_body(body)
    builder = EnvironBuilder(
        path=path,
        query_string=query,
        method=sub.method,
        headers=headers,
        data=data,
        base_url=request.host_url,
    )
    environ = builder.get_environ()
    with app.app_context():
        response = Response.from_app(app.wsgi_app, environ)
    return sub_response(sub.id, response)


def decode_body(body: str) -> bytes:
    """A string body is base64 (binary content such as photos), else sent as text."""
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:
        return body.encode()


def sub_response(sub_id: str, response: Response) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in DROPPED_HEADERS}
    result: dict[str, Any] = {"id": sub_id, "status": response.status_code, "headers": headers}
    raw = response.get_data()
    if raw:
        if (response.mimetype or "").endswith("json"):
            result["body"] = json.loads(raw)
        else:
            result["body"] = base64.b64encode(raw).decode()
    return result


def failed_dependency(sub: SubRequest, dependency: str) -> dict[str, Any]:
    # 424 per json-batching.md; the error code and message are the emulator's (not documented).
    body = odata.error_body(
        "FailedDependency", f"The request depends on request '{dependency}', which failed."
    )
    return {
        "id": sub.id,
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": body,
    }


def reorder(responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Any order but the requests' own, so that clients correlate by id, never by position."""
    shuffled = list(responses)
    random.Random(odata.request_id()).shuffle(shuffled)
    if len(shuffled) > 1 and shuffled == responses:
        shuffled.reverse()
    return shuffled
