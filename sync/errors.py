"""Sync's exceptions: why a run could not complete, in words an admin can act on.

Every error raised out of sync/ is a `SyncError`; connector errors are translated at the
engine's edge by `from_connector_error`, so callers (CLI, scheduler, web admin) never branch on
connector classes. The tree::

    SyncError                   base; `message`, `request_id` (Graph's, when known), and
    │                           `counts` (the RunCounts committed before it failed, or None)
    ├── JobFailed               the run stopped: a service error, still throttled after every
    │                           retry, a credential SharePoint refuses, ...
    ├── PermissionNotGranted    Graph answered 403: `permission` names the application
    │                           permission an admin must grant (and consent to) in Entra ID
    ├── TenantUnreachable       no answer from the sign-in service, Graph or SharePoint
    └── SiteNotFound            a site URL of the job's target does not exist: `url`

Other modules add their own subclasses (jobs: InvalidJob, ...); the three edges that turn
errors into words (CLI, scheduler wrapper, Flask handlers) only need `str(error)`.
"""

from __future__ import annotations

from typing import Any

from connector.errors import (
    AuthError,
    ConnectorError,
    GraphError,
    NotFound,
    PermissionMissing,
    SettingsError,
    Throttled,
    TokenError,
)

CONSENT_STEPS = (
    "an admin must add it in Entra ID (App registrations -> API permissions -> Add a "
    "permission -> Microsoft Graph -> Application permissions) and grant admin consent"
)
# connector.auth's words when the authority does not answer (no HTTP status at all)
UNREACHABLE_AUTH = ("cannot reach the sign-in service", "cannot use the authority")


class SyncError(Exception):
    """Base of sync's errors; `str()` is one sentence for an admin."""

    def __init__(self, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.counts: Any = None  # RunCounts committed before the failure, set by the engine

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request-id {self.request_id})"
        return self.message


class JobFailed(SyncError):
    """The run could not complete; what was committed before stays."""


class PermissionNotGranted(SyncError):
    """The app lacks an application permission (Graph answered 403)."""

    def __init__(self, permission: str | None, request_id: str | None = None) -> None:
        self.permission = permission or "Sites.Read.All"
        super().__init__(
            f"the app is not allowed to read this: Microsoft Graph answered 403 because the "
            f"application permission {self.permission} is not granted; {CONSENT_STEPS}",
            request_id,
        )


class TenantUnreachable(SyncError):
    """Neither the sign-in service nor Graph answered."""


class SiteNotFound(SyncError):
    """A site URL named by the job does not exist (or the app cannot see it)."""

    def __init__(self, url: str, request_id: str | None = None) -> None:
        self.url = url
        super().__init__(f"no SharePoint site at {url}", request_id)


def from_connector_error(error: ConnectorError) -> SyncError:
    """The SyncError for a connector error, keeping its request id."""
    request_id = error.request_id
    if isinstance(error, PermissionMissing):
        return PermissionNotGranted(error.permission, request_id)
    if isinstance(error, TokenError):
        return JobFailed(f"Entra ID refused a token: {error.description}", request_id)
    if isinstance(error, SettingsError):
        return JobFailed(error.message)
    if isinstance(error, AuthError):
        if error.status is None and error.message.startswith(UNREACHABLE_AUTH):
            return TenantUnreachable(error.message)
        return JobFailed(error.message, request_id)
    if isinstance(error, GraphError) and error.code == "connectionError":
        return TenantUnreachable(f"the tenant does not answer: {error.message}")
    if isinstance(error, Throttled):
        wait = f" (it asked to wait {error.retry_after:g} s)" if error.retry_after else ""
        return JobFailed(
            f"Microsoft is still throttling this app after every retry{wait}; the next run "
            "continues from the last committed page",
            request_id,
        )
    if isinstance(error, NotFound):
        return JobFailed(f"not found: {error.message}", request_id)
    return JobFailed(str(error.message), request_id)
