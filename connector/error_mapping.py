"""Graph's and SharePoint's error answers, translated into the connector's exceptions: the
one place that reads a status code and an error envelope and decides what went wrong."""

from __future__ import annotations

import re
from typing import Any

import requests

from connector.errors import (
    AuthError,
    ConnectorError,
    DeltaExpired,
    GraphError,
    NotFound,
    PermissionMissing,
    Throttled,
)
from connector.models import ErrorInfo
from connector.pacing import retry_after_seconds

RETRY_STATUSES = frozenset({429, 503, 504})
# "... API requires one of 'Sites.Read.All, Sites.ReadWrite.All'." and similar texts.
PERMISSION_NAME = re.compile(
    r"\b[A-Z][A-Za-z]+\.(?:Read|ReadWrite|ReadBasic|Write|Selected|FullControl|Manage)"
    r"(?:\.[A-Z][A-Za-z]+)*\b"
)


def error_from_response(response: requests.Response, needs: str | None = None) -> ConnectorError:
    """The exception for an error answer (status >= 400), with Graph's code and request id."""
    try:
        info = ErrorInfo.from_graph(response.json())
    except ValueError:
        info = ErrorInfo(None, response.text[:200] or response.reason, None, None)
    return error_from_parts(
        response.status_code,
        info,
        request_id=response.headers.get("request-id") or info.request_id,
        retry_after=response.headers.get("Retry-After"),
        location=response.headers.get("Location"),
        needs=needs,
    )


def error_from_parts(
    status: int,
    info: ErrorInfo,
    *,
    request_id: str | None = None,
    retry_after: str | None = None,
    location: str | None = None,
    needs: str | None = None,
) -> ConnectorError:
    """Maps a status and error envelope onto the connector's exception tree."""
    message = info.message or f"HTTP {status}"
    fields: dict[str, Any] = {"status": status, "code": info.code, "request_id": request_id}
    if status == 401:
        return AuthError(message, **fields)
    if status == 403:
        named = PERMISSION_NAME.findall(message)
        return PermissionMissing(message, permission=named[0] if named else needs, **fields)
    if status == 404:
        return NotFound(message, **fields)
    if status == 410:
        return DeltaExpired(message, location=location, **fields)
    if status in RETRY_STATUSES:
        return Throttled(message, retry_after=retry_after_seconds(retry_after), **fields)
    return GraphError(message, **fields)
