"""Builders of the OpenAPI 3.1 pieces the feature documents share (schemas, responses,
parameters, operations), so that every feature module describes its paths alike.

Each feature keeps its own words for its error statuses and its own operation tag; these
functions only give those words and tags the one shape the served document uses. The listing
features (browse, tags, search, people, documents) take their shared words from
overlay_app.listing, which builds them with these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
STRINGS = {"type": "array", "items": STRING}


def ref(name: str) -> dict[str, str]:
    """A reference to one of the document's component schemas (openapi.py gathers them)."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], required: Iterable[str] | None = None) -> dict[str, Any]:
    """An object schema; every property is required unless `required` says otherwise."""
    names = list(properties) if required is None else list(required)
    return {"type": "object", "required": names, "properties": properties}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """One response with a JSON body of `schema`."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def paged(item_schema: str, description: str, **extra: Any) -> dict[str, Any]:
    """A page of `item_schema` objects: {total, page, perPage, value, ...extra}."""
    properties = {"total": INTEGER, "page": INTEGER, "perPage": INTEGER, **extra}
    return json_response(obj({**properties, "value": array(ref(item_schema))}), description)


def error_response(description: str) -> dict[str, Any]:
    """An error response: its body is the shared Error schema."""
    return json_response(ref("Error"), description)


def error_responses(words: Mapping[int, str]) -> Callable[..., dict[str, Any]]:
    """A function that answers the error responses of the given statuses, each described by
    the feature's own `words` and answering the shared Error schema."""

    def errors(*statuses: int) -> dict[str, Any]:
        return {str(status): error_response(words[status]) for status in statuses}

    return errors


def ok(description: str, schema: dict[str, Any] | None, status: int = 200) -> dict[str, Any]:
    """One success response; `schema` None for an answer without a body (204)."""
    if schema is None:
        return {str(status): {"description": description}}
    return {str(status): json_response(schema, description)}


def path_param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict:
    """A required parameter of the URL's path, a string unless `schema` says otherwise."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or STRING,
    }


def query_param(
    name: str, description: str, schema: dict[str, Any] = STRING, required: bool = False
) -> dict:
    """A parameter of the query string, a string unless `schema` says otherwise; optional
    unless `required`."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


# A document in a path is its two Graph ids, never a URL or a path (see ARCHITECTURE.md).
DOCUMENT_PARAMS = [
    path_param("drive_id", "The document's Graph drive id"),
    path_param("item_id", "The document's Graph drive item id"),
]


def idempotency_header(description: str) -> dict[str, Any]:
    """The optional Idempotency-Key header of a write, with what a retry with it does."""
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    }


def operation(
    tag: str,
    summary: str,
    responses: dict[str, Any],
    operation_id: str,
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One operation of a path item, grouped under the feature's `tag`; `body` is the schema
    of a required JSON request body."""
    described: dict[str, Any] = {
        "summary": summary,
        "operationId": operation_id,
        "tags": [tag],
        "responses": responses,
    }
    if parameters:
        described["parameters"] = parameters
    if body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return described
