"""Entra ID's OAuth vocabulary: tenant aliases, error responses, and what a `scope` asks for.

Errors are rendered as Entra's token endpoint does (learn.microsoft.com, "Microsoft Entra
authentication and authorization error codes"): `error`, `error_description` starting with
"AADSTSnnnn:" and ending with trace and correlation ids and a timestamp, `error_codes`,
`timestamp`, `trace_id`, `correlation_id`, `error_uri`. `invalid_client` is 401, the rest 400.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Response, jsonify, request

from connector.emulator import tokens
from connector.emulator.model import App
from connector.emulator.tenant import Tenant

ALIASES = ("common", "organizations")
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")

# Delegated permissions an admin consented for every app, per resource (the `scp` of user tokens).
CONSENTED_GRAPH = (
    "Files.Read.All",
    "Sites.Read.All",
    "User.Read",
    "User.ReadBasic.All",
    "GroupMember.Read.All",
)
CONSENTED_SHAREPOINT = ("AllSites.Read", "AllSites.Write", "MyFiles.Read", "MyFiles.Write")
CONSENTED_API = ("access_as_user",)


class OAuthError(Exception):
    """An Entra error answer; `aadsts` is the number behind "AADSTSnnnn"."""

    def __init__(self, error: str, aadsts: int, message: str, status: int | None = None) -> None:
        super().__init__(f"AADSTS{aadsts}: {message}")
        self.error = error
        self.aadsts = aadsts
        self.message = message
        self.status = status or (401 if error == "invalid_client" else 400)

    def body(self) -> dict:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id = str(uuid.uuid4())
        # Entra echoes the client's client-request-id (MSAL sends one) as the correlation id.
        correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.aadsts}: {self.message}\r\nTrace ID: {trace_id}"
            f"\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {now}",
            "error_codes": [self.aadsts],
            "timestamp": now,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.aadsts}",
        }


def error_response(err: OAuthError) -> Response:
    response = jsonify(err.body())
    response.status_code = err.status
    response.headers["Cache-Control"] = "no-store, no-cache"
    response.headers["Pragma"] = "no-cache"
    return response


def main_app(tenant: Tenant) -> App:
    """The connector's app registration: the generator registers it first, with every role."""
    return next(iter(tenant.apps.values()))


def missing(parameter: str) -> OAuthError:
    return OAuthError(
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{parameter}'.",
    )


def resolve_tenant(tenant: Tenant, segment: str) -> Tenant:
    """The tenant named by an authority's path segment: its id, its domain, or an alias."""
    if segment.lower() in (tenant.tenant_id, tenant.domain.lower(), *ALIASES):
        return tenant
    raise OAuthError(
        "invalid_tenant" if request.method == "GET" else "invalid_request",
        90002,
        f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and"
        " are signing into the correct cloud.",
    )


def unknown_client(tenant: Tenant, client_id: str) -> OAuthError:
    return OAuthError(
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory"
        f" '{tenant.domain}'. This can happen if the application has not been installed by the"
        " administrator of the tenant or consented to by any user in the tenant. You may have"
        " sent your authentication request to the wrong tenant.",
    )


@dataclass(frozen=True)
class ScopeRequest:
    """A parsed `scope`: one resource (its `aud`), the permissions asked of it, OIDC scopes."""

    audience: str
    resource: str  # the resource as written in scopes ("" for Graph's short form)
    permissions: tuple[str, ...]  # e.g. (".default",) or ("User.Read",)
    oidc: frozenset[str]

    @property
    def default(self) -> bool:
        return self.permissions == (".default",)

    def consented(self) -> tuple[str, ...]:
        """Delegated permissions the token carries: all consented ones, as Entra does."""
        if self.audience == tokens.GRAPH_AUDIENCE:
            return CONSENTED_GRAPH
        if self.audience.startswith("api://"):
            return CONSENTED_API
        return CONSENTED_SHAREPOINT

    def granted(self) -> str:
        """The `scope` of a token response: permissions (prefixed unless Graph) + OIDC scopes."""
        prefix = "" if self.audience == tokens.GRAPH_AUDIENCE else self.resource + "/"
        names = [prefix + name for name in self.consented()]
        return " ".join(names + sorted(self.oidc))


def parse_scope(tenant: Tenant, raw: str) -> ScopeRequest:
    """What `raw` asks for; invalid_scope if it names an unknown resource or more than one."""
    oidc, asked = set(), []
    for scope in raw.split():
        if scope.lower() in OIDC_SCOPES:
            oidc.add(scope.lower())
        else:
            resource, _, name = scope.rpartition("/") if "://" in scope else ("", "", scope)
            asked.append((resource.rstrip("/"), name))
    resources = {r.lower() for r, _ in asked}
    if len(resources) > 1:
        raise OAuthError(
            "invalid_scope",
            28000,
            "Provided value for the input parameter scope is not valid because it contains more"
            f" than one resource. Scope {raw} is not valid.",
        )
    resource = asked[0][0] if asked else ""
    return ScopeRequest(
        audience=_audience_of(tenant, resource),
        resource=resource,
        permissions=tuple(name for _, name in asked) or ("User.Read",),
        oidc=frozenset(oidc),
    )


def _audience_of(tenant: Tenant, resource: str) -> str:
    wanted = resource.lower()
    base = tenant.base_url.lower()
    if wanted in ("", tokens.GRAPH_AUDIENCE, tokens.GRAPH_APP_ID, f"{base}/v1.0"):
        return tokens.GRAPH_AUDIENCE
    if wanted in (base, tokens.SHAREPOINT_APP_ID):
        return tenant.base_url
    for client_id in tenant.apps:
        if wanted in (f"api://{client_id}", client_id):
            return f"api://{client_id}"
        if wanted.startswith("api://") and wanted.endswith(f"/{client_id}"):
            return resource  # an Application ID URI api://{host}/{client id}, as registered
    raise OAuthError(
        "invalid_resource",
        500011,
        f"The resource principal named {resource} was not found in the tenant named"
        f" {tenant.domain}. This can happen if the application has not been installed by the"
        " administrator of the tenant or consented to by any user in the tenant. You might have"
        " sent your authentication request to the wrong tenant.",
    )


def require_consent(app: App, request_: ScopeRequest) -> None:
    """invalid_grant AADSTS65001 when a user flow asks for a permission nobody consented."""
    if request_.default:
        return
    missing_ones = [p for p in request_.permissions if p not in request_.consented()]
    if missing_ones:
        raise OAuthError(
            "invalid_grant",
            65001,
            f"The user or administrator has not consented to use the application with ID"
            f" '{app.client_id}' named '{app.display_name}'. Send an interactive authorization"
            " request for this user and resource.",
        )


def require_default_scope(request_: ScopeRequest, raw: str) -> None:
    """Client credentials take exactly `{resource}/.default` (no OIDC, no named permissions)."""
    if not request_.default or request_.oidc or not request_.resource:
        raise OAuthError(
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' isn't valid. The scope {raw}"
            " isn't valid.",
        )
