"""SharePoint REST's wire format: verbose and light JSON, its error shapes, and URL arguments.

SharePoint speaks OData v3. `Accept: application/json;odata=verbose` gets `{"d": {...}}` with
`__metadata` on entities and `{"results": [...]}` for collections (nested ones included);
anything else gets the light form (nometadata): plain objects and `{"value": [...]}`.
Errors: verbose `{"error": {"code": "-2130575338, Microsoft.SharePoint.SPException", "message":
{"lang": "en-US", "value": "..."}}}`, light `{"odata.error": {...}}` (PROTOCOL 4).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request

ACCESS_DENIED = (
    "Access denied. You do not have permission to perform this action or access this resource."
)
ACCESS_DENIED_CODE = "-2147024891, System.UnauthorizedAccessException"
ARGUMENT_CODE = "-1, System.ArgumentException"
SP_EXCEPTION = "-2130575338, Microsoft.SharePoint.SPException"
INVALID_QUERY = "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"


@dataclass
class Entity:
    """An addressable object: verbose JSON gives it __metadata {id, uri, type}."""

    type: str
    uri: str
    props: dict[str, Any]


@dataclass
class Complex:
    """A value type (no address): verbose JSON gives it __metadata {type} only."""

    type: str
    props: dict[str, Any]


@dataclass
class Many:
    """A collection nested in an entity: {"results": [...]} when verbose, a list otherwise."""

    items: list[Any]
    type: str | None = None  # "Collection(Edm.String)" for primitive collections


@dataclass
class Deferred:
    """A navigation property that was not expanded: only verbose JSON mentions it."""

    uri: str


@dataclass
class SPError(Exception):
    """Rendered in SharePoint's error shape with `status`."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def verbose() -> bool:
    return "odata=verbose" in request.headers.get("Accept", "").lower()


def _light_kind() -> str:
    accept = request.headers.get("Accept", "").lower()
    return "minimalmetadata" if "odata=minimalmetadata" in accept else "nometadata"


def render(value: Any, is_verbose: bool) -> Any:
    if isinstance(value, Entity):
        body = {k: render(v, is_verbose) for k, v in value.props.items() if _shown(v, is_verbose)}
        if is_verbose:
            return {"__metadata": {"id": value.uri, "uri": value.uri, "type": value.type}, **body}
        return body
    if isinstance(value, Complex):
        body = {k: render(v, is_verbose) for k, v in value.props.items() if _shown(v, is_verbose)}
        return {"__metadata": {"type": value.type}, **body} if is_verbose else body
    if isinstance(value, Many):
        items = [render(v, is_verbose) for v in value.items]
        if not is_verbose:
            return items
        return (
            {"__metadata": {"type": value.type}, "results": items}
            if value.type
            else {"results": items}
        )
    if isinstance(value, Deferred):
        return {"__deferred": {"uri": value.uri}}
    return value


def _shown(value: Any, is_verbose: bool) -> bool:
    return is_verbose or not isinstance(value, Deferred)


def _response(body: Any, status: int = 200) -> Response:
    kind = "verbose" if verbose() else _light_kind()
    return Response(
        json.dumps(body, separators=(",", ":")),
        status=status,
        content_type=f"application/json;odata={kind};charset=utf-8",
    )


def entity_response(value: Entity | Complex, status: int = 200) -> Response:
    is_verbose = verbose()
    body = render(value, is_verbose)
    return _response({"d": body} if is_verbose else body, status)


def collection_response(values: list[Any], next_url: str | None = None) -> Response:
    """A collection; `$inlineCount=AllPages` adds its size (as a string, the v3 way)."""
    is_verbose = verbose()
    items = [render(v, is_verbose) for v in values]
    inline = (request.args.get("$inlineCount") or request.args.get("$inlinecount") or "").lower()
    count = str(len(items)) if inline == "allpages" else None
    if is_verbose:
        body: dict[str, Any] = {"results": items}
        if count is not None:
            body["__count"] = count
        if next_url:
            body["__next"] = next_url
        return _response({"d": body})
    light: dict[str, Any] = {"value": items}
    if count is not None:
        light["odata.count"] = count
    if next_url:
        light["odata.nextLink"] = next_url
    return _response(light)


def operation_response(name: str, value: Any) -> Response:
    """A service operation's result: verbose {"d": {"Name": value}}, light {"value": value}."""
    if verbose():
        return _response({"d": {name: render(value, True)}})
    if value is None:
        return _response({"odata.null": True})
    return _response({"value": render(value, False)})


def error_response(err: SPError) -> Response:
    message = {"lang": "en-US", "value": err.message}
    key = "error" if verbose() else "odata.error"
    response = _response({key: {"code": err.code, "message": message}}, err.status)
    response.headers.update(err.headers)
    return response


# -- common errors -------------------------------------------------------------------------------


def no_resource(segment: str) -> SPError:
    return SPError(404, INVALID_QUERY, f"Cannot find resource for the request {segment}.")


def access_denied() -> SPError:
    return SPError(403, ACCESS_DENIED_CODE, ACCESS_DENIED)


def item_missing() -> SPError:
    return SPError(
        404, SP_EXCEPTION, "Item does not exist. It may have been deleted by another user."
    )


def bad_argument(message: str) -> SPError:
    return SPError(400, ARGUMENT_CODE, message)


def not_allowed() -> SPError:
    return SPError(
        405,
        "-1, System.InvalidOperationException",
        "The HTTP method is not allowed for this resource.",
    )


# -- URL arguments -------------------------------------------------------------------------------

_SEGMENT = re.compile(r"([^/()]+)(?:\(((?:'(?:[^']|'')*'|[^()'])*)\))?(?:/|$)")
_GUID = re.compile(
    r"\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?"
)


@dataclass(frozen=True)
class Segment:
    name: str  # lower-cased: SharePoint matches path segments case-insensitively
    text: str  # as sent, for error messages
    args: tuple[Any, ...] | None  # None when the segment had no parentheses
    named: dict[str, Any]


def parse_path(rest: str) -> list[Segment]:
    """`web/lists/GetByTitle('Site Pages')/items(1)` -> segments with their arguments."""
    segments, position = [], 0
    rest = rest.strip("/")
    while position < len(rest):
        match = _SEGMENT.match(rest, position)
        if match is None or match.end() == position:
            raise no_resource(rest[position:].split("/")[0])
        name, raw = match.group(1), match.group(2)
        args, named = parse_args(raw) if raw is not None else (None, {})
        segments.append(Segment(name.lower(), name, args, named))
        position = match.end()
    return segments


def parse_args(raw: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional and named arguments: `'T'`, `guid'G'`, `3`, `true`, `listID=@a1` (aliases)."""
    positional, named = [], {}
    for part in _split_commas(raw):
        key, value = None, part
        head = re.match(r"\s*([A-Za-z_][\w.]*)\s*=(.*)$", part, re.S)
        if head and not part.lstrip().startswith("'"):
            key, value = head.group(1).lower(), head.group(2)
        literal = literal_value(value.strip())
        if key is None:
            positional.append(literal)
        else:
            named[key] = literal
    return tuple(positional), named


def _split_commas(raw: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in raw:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    tail = "".join(current)
    if tail.strip() or parts:
        parts.append(tail)
    return [p for p in parts if p.strip()]


def literal_value(text: str) -> Any:
    """One OData literal; `@name` is a parameter alias given in the query string."""
    if text.startswith("@"):
        alias = request.args.get(text)
        if alias is None:
            raise bad_argument(f"The parameter alias '{text}' has no value in the query string.")
        return literal_value(alias.strip())
    if text.lower().startswith("guid'") and text.endswith("'"):
        return text[5:-1]
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def guid_of(value: Any) -> str | None:
    """A GUID in any of SharePoint's spellings ("G", "{G}", "%7BG%7D" decoded), lower-cased."""
    match = _GUID.fullmatch(str(value).strip())
    return match.group(1).lower() if match else None


def escape_name(name: str) -> str:
    """SharePoint's entity-name encoding of a list URL name ("Shared Documents")."""
    return name.replace("_", "_x005f_").replace(" ", "_x0020_")
