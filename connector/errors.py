"""The connector's exceptions: everything that can go wrong talking to Microsoft 365.

Every error raised out of connector/ is a `ConnectorError`; no requests, MSAL or office365
exception crosses the package boundary. The tree::

    ConnectorError                  base; carries status, code, message, request_id when known
    ├── SettingsError               the configuration is unusable; `problems` lists every one
    ├── AuthError                   no valid credentials for this call (401 after one token
    │   │                           refresh, SharePoint app-only with a client secret, ...)
    │   └── TokenError              Entra ID refused a token: `code` ("invalid_client"),
    │                               `description` (AADSTS text), `correlation_id`, `error_codes`
    ├── PermissionMissing           403: the app lacks a permission; `permission` names it
    │                               (from Graph's message where it says, else the permission
    │                               the call needs), `kind` is "application" or "delegated"
    ├── NotFound                    404: the site, drive, item, user or photo does not exist
    │                               (or, for delegated tokens, is not visible to the user)
    ├── Throttled                   429/503/504 still answered after every retry;
    │                               `retry_after` is the service's last advice in seconds
    ├── DeltaExpired                410: a delta token is no longer valid; start a new round,
    │                               from `location` when the service gave one
    └── GraphError                  any other error answer (or none: connection failures
                                    have status None and code "connectionError")

Callers branch on the class, never on `message` (Microsoft's texts change; codes do not).
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every connector error; fields are None when the service did not say."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"[{self.code}]")
        if self.request_id:
            parts.append(f"(request-id {self.request_id})")
        return " ".join(parts)


class SettingsError(ConnectorError):
    """The settings are unusable; `problems` holds one sentence per problem, all at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid connector settings: " + "; ".join(problems))
        self.problems = list(problems)

    def __str__(self) -> str:
        return self.message


class AuthError(ConnectorError):
    """The call cannot be authenticated as configured."""


class TokenError(AuthError):
    """Entra ID answered a token request with an OAuth error (MSAL's error dict, as fields)."""

    def __init__(
        self,
        code: str,
        description: str,
        *,
        correlation_id: str | None = None,
        error_codes: tuple[int, ...] = (),
    ) -> None:
        super().__init__(f"{code}: {description}", code=code, request_id=correlation_id)
        self.description = description
        self.correlation_id = correlation_id
        self.error_codes = tuple(error_codes)

    def __str__(self) -> str:
        return self.message


class PermissionMissing(ConnectorError):
    """The app (or user) lacks a Microsoft Graph / SharePoint permission for this call."""

    def __init__(
        self,
        message: str,
        *,
        permission: str | None = None,
        kind: str = "application",
        status: int | None = 403,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.permission = permission
        self.kind = kind


class NotFound(ConnectorError):
    """The resource does not exist (or is not visible to the caller)."""


class Throttled(ConnectorError):
    """Still throttled after every retry; try again after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **fields) -> None:
        super().__init__(message, **fields)
        self.retry_after = retry_after


class DeltaExpired(ConnectorError):
    """The delta token is gone (HTTP 410): re-enumerate, from `location` if given."""

    def __init__(self, message: str, *, location: str | None = None, **fields) -> None:
        super().__init__(message, **fields)
        self.location = location


class GraphError(ConnectorError):
    """Any other error answer from Graph or SharePoint (or no answer at all)."""
