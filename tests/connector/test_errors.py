"""Status and Graph error envelope -> the connector's exception tree."""

from __future__ import annotations

import pytest

from connector.error_mapping import error_from_parts
from connector.errors import (
    AuthError,
    ConnectorError,
    DeltaExpired,
    GraphError,
    NotFound,
    PermissionMissing,
    SettingsError,
    Throttled,
    TokenError,
)
from connector.models import ErrorInfo


def info(code: str, message: str) -> ErrorInfo:
    return ErrorInfo(code, message, None, None)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthError),
        (403, PermissionMissing),
        (404, NotFound),
        (410, DeltaExpired),
        (429, Throttled),
        (503, Throttled),
        (504, Throttled),
        (400, GraphError),
        (500, GraphError),
    ],
)
def test_status_picks_the_class(status, kind):
    error = error_from_parts(status, info("someCode", "Some message."), request_id="r-1")
    assert type(error) is kind
    assert (error.status, error.code, error.request_id, error.message) == (
        status,
        "someCode",
        "r-1",
        "Some message.",
    )
    assert str(error) == "Some message. [someCode] (request-id r-1)"


def test_permission_named_in_the_message_wins_over_the_hint():
    message = (
        "Missing role permissions on the request. API requires one of "
        "'Sites.Read.All, Sites.ReadWrite.All'. Roles on the request 'User.Read.All'."
    )
    named = error_from_parts(403, info("accessDenied", message), needs="Files.Read.All")
    unnamed = error_from_parts(
        403,
        info("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
        needs="User.Read.All",
    )
    assert (named.permission, named.kind) == ("Sites.Read.All", "application")
    assert unnamed.permission == "User.Read.All"


def test_throttled_and_delta_expired_carry_their_headers():
    throttled = error_from_parts(
        429, info("TooManyRequests", "Please retry again later."), retry_after="2.128"
    )
    expired = error_from_parts(
        410,
        info("resyncRequired", "Resync required."),
        location="https://graph.example/v1.0/drives/d/root/delta",
    )
    assert throttled.retry_after == 2.128
    assert expired.location == "https://graph.example/v1.0/drives/d/root/delta"


def test_every_error_is_a_connector_error():
    token = TokenError(
        "invalid_client",
        "AADSTS7000215: Invalid client secret provided.",
        correlation_id="c-9",
        error_codes=(7000215,),
    )
    settings = SettingsError(["first problem", "second problem"])
    assert isinstance(token, AuthError) and isinstance(settings, ConnectorError)
    assert str(token) == "invalid_client: AADSTS7000215: Invalid client secret provided."
    assert (token.correlation_id, token.request_id) == ("c-9", "c-9")
    assert str(settings) == "invalid connector settings: first problem; second problem"
