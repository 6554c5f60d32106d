"""Entra ID (Microsoft identity platform v2.0) endpoints of the emulator.

Under `/{tenant}/` where tenant is the tenant id, its domain, "organizations" or "common":
- `v2.0/.well-known/openid-configuration` (also `.well-known/openid-configuration`, which
  `identity` reads at sign-out) and `discovery/v2.0/keys` (JWKS);
- `oauth2/v2.0/token` (grants in entra_token.py);
- `oauth2/v2.0/authorize`: a sign-in page, then the code sent back to the app;
- `oauth2/v2.0/logout`: back to `post_logout_redirect_uri`.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, request

from connector.emulator import entra_obo, entra_pages, entra_token, tokens
from connector.emulator.entra_oauth import (
    ALIASES,
    OAuthError,
    error_response,
    main_app,
    missing,
    parse_scope,
    require_consent,
    resolve_tenant,
    unknown_client,
)
from connector.emulator.model import App
from connector.emulator.tenant import Tenant

bp = Blueprint("entra", __name__)
bp.register_error_handler(OAuthError, error_response)

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# fmt: off
CLAIMS_SUPPORTED = [
    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
    "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
    "name", "tid", "ver", "at_hash", "c_hash", "email",
]
# fmt: on


def _tenant(segment: str) -> Tenant:
    return resolve_tenant(current_app.extensions["tenant"], segment)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store, no-cache"
    response.headers["Pragma"] = "no-cache"
    return response


# -- discovery -----------------------------------------------------------------------------


@bp.get("/<segment>/v2.0/.well-known/openid-configuration")
@bp.get("/<segment>/.well-known/openid-configuration")
def openid_configuration(segment: str):
    tenant = _tenant(segment)
    # Entra names the tenant id in the endpoints, except for the multi-tenant aliases whose
    # issuer is the literal template "{tenantid}".
    alias = segment.lower() if segment.lower() in ALIASES else tenant.tenant_id
    issuer_tenant = "{tenantid}" if alias in ALIASES else tenant.tenant_id
    base = f"{tenant.base_url}/{alias}"
    return jsonify(
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{tenant.base_url}/{issuer_tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": CLAIMS_SUPPORTED,
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        }
    )


@bp.get("/<segment>/discovery/v2.0/keys")
@bp.get("/<segment>/discovery/keys")
def jwks(segment: str):
    tenant = _tenant(segment)
    key = tokens.signing_key(tenant).jwk()
    key["issuer"] = tokens.issuer(tenant)
    return jsonify({"keys": [key]})


# -- token ---------------------------------------------------------------------------------


@bp.post("/<segment>/oauth2/v2.0/token")
def token(segment: str):
    tenant = _tenant(segment)
    form = request.form
    grant_type = form.get("grant_type")
    if not grant_type:
        raise missing("grant_type")
    basic = None
    if request.authorization and request.authorization.type == "basic":
        basic = (request.authorization.username or "", request.authorization.password or "")
    client = entra_token.authenticate_client(tenant, form, basic, _token_urls(tenant, segment))
    grant = entra_token.GRANTS.get(grant_type) or entra_obo.GRANTS.get(grant_type)
    if grant is None:
        raise OAuthError(
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )
    return _no_store(jsonify(grant(tenant, client, form)))


def _token_urls(tenant: Tenant, segment: str) -> frozenset[str]:
    """Audiences a client assertion may name: this token endpoint, also in its v1 form."""
    bases = {tenant.base_url, request.host_url.rstrip("/")}
    names = {segment, tenant.tenant_id, tenant.domain}
    return frozenset(
        f"{base}/{name}/oauth2/{version}token"
        for base in bases
        for name in names
        for version in ("v2.0/", "")
    )


# -- sign-in -------------------------------------------------------------------------------


@bp.route("/<segment>/oauth2/v2.0/authorize", methods=["GET", "POST"])
def authorize(segment: str):
    try:
        tenant = _tenant(segment)
    except OAuthError as err:
        return entra_pages.error(err.aadsts, err.message)
    params = request.args
    app, problem = _client_and_redirect(tenant, params)
    if problem is not None:
        return problem
    redirect_uri = params["redirect_uri"]
    try:
        _check_authorize_request(tenant, app, params)
    except OAuthError as err:
        return _answer(params, redirect_uri, _error_fields(err, params))
    if request.method == "POST" and "login" in request.form:
        return _sign_in(tenant, app, params)
    return _sign_in_page(tenant, app, login_hint=params.get("login_hint", ""))


def _client_and_redirect(tenant: Tenant, params) -> tuple[App | None, Response | None]:
    """The app and a registered redirect URI, or the error page Entra shows instead."""
    client_id = params.get("client_id")
    if not client_id:
        err = missing("client_id")
        return None, entra_pages.error(err.aadsts, err.message)
    app = tenant.apps.get(client_id)
    if app is None:
        err = unknown_client(tenant, client_id)
        return None, entra_pages.error(err.aadsts, err.message)
    uri = params.get("redirect_uri", "")
    if not redirect_allowed(tenant, app, uri):
        return app, entra_pages.error(
            50011,
            f"The redirect URI '{uri}' specified in the request does not match the redirect URIs"
            f" configured for the application '{client_id}'. Make sure the redirect URI sent in"
            " the request matches one added to your application in the Azure portal. Navigate"
            " to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
        )
    return app, None


def redirect_allowed(tenant: Tenant, app: App, uri: str) -> bool:
    """Registered URIs; the main app also takes any localhost URI, as a dev registration would."""
    if uri and uri in app.redirect_uris:
        return True
    parts = urlsplit(uri)
    return (
        app is main_app(tenant)
        and parts.scheme in ("http", "https")
        and parts.hostname in LOCAL_HOSTS
    )


def _check_authorize_request(tenant: Tenant, app: App, params) -> None:
    response_type = params.get("response_type", "")
    if response_type != "code":
        raise OAuthError(
            "unsupported_response_type",
            700054,
            f"response_type '{response_type}' is not enabled for the application.",
        )
    if params.get("code_challenge") and params.get("code_challenge_method", "plain") not in (
        "S256",
        "plain",
    ):
        raise OAuthError("invalid_request", 501491, "Invalid code_challenge_method.")
    require_consent(app, parse_scope(tenant, params.get("scope", "openid")))
    if params.get("prompt") == "none":
        raise OAuthError(
            "login_required", 50058, "A silent sign-in request was sent but no user is signed in."
        )


# The page lists a few people to pick; anyone else signs in by name (a large tenant has thousands).
LISTED_MEMBERS, LISTED_GUESTS = 24, 3


def _sign_in_page(tenant: Tenant, app: App, login_hint: str = "", error: str = "") -> Response:
    enabled = [u for u in tenant.users.values() if u.account_enabled and not u.deleted]
    members = [u for u in enabled if u.user_type != "Guest"][:LISTED_MEMBERS]
    people = members + [u for u in enabled if u.user_type == "Guest"][:LISTED_GUESTS]
    return entra_pages.sign_in(
        request.full_path, app.display_name, people, tenant.password, login_hint, error
    )


def _sign_in(tenant: Tenant, app: App, params) -> Response:
    """Checks the posted credentials, then sends a code back to the app."""
    login = request.form.get("login", "")
    try:
        user = entra_token.check_credentials(tenant, login, request.form.get("password", ""))
    except OAuthError as err:
        return _sign_in_page(tenant, app, login, f"AADSTS{err.aadsts}: {err.message}")
    entra_obo.consents().set(app.client_id, user.id, entra_obo.GRANTED)  # consent prompt
    code = entra_token.new_code(
        entra_token.AuthorizationCode(
            client_id=app.client_id,
            redirect_uri=params["redirect_uri"],
            user_id=user.id,
            scope=params.get("scope", "openid"),
            nonce=params.get("nonce"),
            code_challenge=params.get("code_challenge"),
            challenge_method=params.get("code_challenge_method", "plain"),
            issued_at=time.time(),
        )
    )
    fields = {"code": code}
    if "state" in params:
        fields["state"] = params["state"]
    fields["session_state"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{user.id}|{tenant.tenant_id}"))
    return _answer(params, params["redirect_uri"], fields)


def _error_fields(err: OAuthError, params) -> dict[str, str]:
    body = err.body()
    fields = {"error": err.error, "error_description": body["error_description"]}
    if "state" in params:
        fields["state"] = params["state"]
    return fields


def _answer(params, redirect_uri: str, fields: dict[str, str]) -> Response:
    """Sends `fields` to the app as response_mode asks: query (default), fragment or form_post."""
    mode = params.get("response_mode", "query")
    if mode == "form_post":
        return entra_pages.form_post(redirect_uri, fields)
    if mode == "fragment":
        return redirect(f"{redirect_uri}#{urlencode(fields)}", code=302)
    joiner = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{joiner}{urlencode(fields)}", code=302)


@bp.route("/<segment>/oauth2/v2.0/logout", methods=["GET", "POST"])
def logout(segment: str):
    tenant = _tenant(segment)
    target = request.values.get("post_logout_redirect_uri", "")
    if target and any(redirect_allowed(tenant, app, target) for app in tenant.apps.values()):
        if "state" in request.values:
            target += ("&" if "?" in target else "?") + urlencode(
                {"state": request.values["state"]}
            )
        return redirect(target, code=302)
    return entra_pages.signed_out()
