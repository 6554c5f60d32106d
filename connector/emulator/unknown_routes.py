"""What Graph and SharePoint REST answer for a path or method they do not serve.

Graph names the first segment it cannot resolve: 400 `BadRequest` "Resource not found for the
segment 'x'." (objects that do not exist are the routes' business: 404 `itemNotFound` or
`Request_ResourceNotFound`). SharePoint REST answers its own odata error JSON. Without this,
Flask would answer an HTML page that no Microsoft client can parse.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from connector.emulator import odata
from connector.emulator import sharepoint_wire as wire

bp = Blueprint("unknown_routes", __name__, url_prefix="/v1.0")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# Entity sets whose next segment is an object's key, not a navigation property.
KEYED_SETS = {"users", "groups", "sites", "drives", "items", "photos", "lists", "children"}
# Navigation properties and functions the emulator serves somewhere below a set or object.
KNOWN = {
    "me",
    "users",
    "groups",
    "sites",
    "drives",
    "drive",
    "root",
    "items",
    "children",
    "permissions",
    "delta",
    "delta()",
    "manager",
    "photo",
    "photos",
    "$value",
    "memberof",
    "transitivememberof",
    "members",
    "transitivemembers",
    "owners",
}


@bp.route("/", defaults={"rest": ""}, methods=METHODS)
@bp.route("/<path:rest>", methods=METHODS)
def unknown_graph_path(rest: str) -> Response:
    """Reached only when no Graph route matched this path (for this method or any other)."""
    allowed = _other_methods()
    if allowed:
        raise odata.GraphHTTPError(
            405,
            "BadRequest",
            "Specified HTTP method is not allowed for the request target.",
            {"Allow": ", ".join(sorted(allowed))},
        )
    segment = unresolved_segment(rest)
    if segment is None:
        raise odata.bad_request("Invalid request", "BadRequest")
    raise odata.bad_request(f"Resource not found for the segment '{segment}'.", "BadRequest")


def unresolved_segment(rest: str) -> str | None:
    """The first segment Graph cannot resolve: not a known set, key or navigation property."""
    segments = [s for s in rest.split("/") if s]
    after_set = False
    for segment in segments:
        name = segment.split("(")[0].lower()
        if after_set:  # an object's key (or a size, for photos)
            after_set = False
            continue
        if name not in KNOWN:
            return segment
        after_set = name in KEYED_SETS
    return segments[-1] if segments else None


def _other_methods() -> set[str]:
    """Methods another route serves this path with (so the method, not the path, is wrong)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = set()
    for method in METHODS:
        if method == request.method:
            continue
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != request.endpoint:
            allowed.add(method)
    return allowed


def register(app: Flask) -> None:
    """JSON instead of Flask's HTML for whatever no route matched (e.g. `/sites/a/b/_api/...`)."""
    app.register_blueprint(bp)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(MethodNotAllowed, _not_allowed)


def _not_found(err: NotFound) -> Response | NotFound:
    if "/_api/" in request.path or request.path.endswith("/_api"):
        segment = request.path.rstrip("/").rsplit("/", 1)[-1]
        return wire.error_response(wire.no_resource(segment))
    return err


def _not_allowed(err: MethodNotAllowed) -> Response | MethodNotAllowed:
    if request.path.startswith("/v1.0/"):
        allowed = {"Allow": ", ".join(err.valid_methods or [])}
        message = "Specified HTTP method is not allowed for the request target."
        return odata.graph_error_response(odata.GraphHTTPError(405, "BadRequest", message, allowed))
    if "/_api/" in request.path:
        return wire.error_response(wire.not_allowed())
    return err
