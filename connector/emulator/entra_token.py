"""Entra ID's token endpoint: client authentication and the four grants the project uses.

- client_credentials (secret in the form or HTTP Basic, or a certificate's client assertion);
- authorization_code (PKCE checked, single use, 10 minutes), from the sign-in page;
- refresh_token (refresh tokens are rotated; older ones stay valid, as in Entra);
- password (ROPC).

Apps are read from `tenant.apps` on every request, so role changes made through the control
API show in the next token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app

from connector.emulator import entra_assertion, tokens
from connector.emulator.entra_oauth import (
    OAuthError,
    ScopeRequest,
    missing,
    parse_scope,
    require_consent,
    require_default_scope,
    unknown_client,
)
from connector.emulator.model import App, User
from connector.emulator.tenant import Tenant

CODE_LIFETIME = 600  # seconds an authorization code stays redeemable
ID_TOKEN_LIFETIME = 3600
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    user_id: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    challenge_method: str
    issued_at: float


@dataclass(frozen=True)
class RefreshGrant:
    client_id: str
    user_id: str
    oidc: frozenset[str]


@dataclass
class Ledger:
    """Codes and refresh tokens handed out by this emulator (in memory, per app)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    redeemed: set[str] = field(default_factory=set)
    refresh: dict[str, RefreshGrant] = field(default_factory=dict)


def ledger() -> Ledger:
    return current_app.extensions.setdefault("entra_ledger", Ledger())


def new_code(grant: AuthorizationCode) -> str:
    code = "1.A" + secrets.token_urlsafe(96)
    with ledger().lock:
        ledger().codes[code] = grant
    return code


# -- client authentication -----------------------------------------------------------------


@dataclass(frozen=True)
class ClientCall:
    """The app making a token request and how it proved itself (appidacr)."""

    app: App
    credential: str


def authenticate_client(
    tenant: Tenant,
    form: Mapping[str, str],
    basic: tuple[str, str] | None,
    token_urls: frozenset[str],
) -> ClientCall:
    """The calling app, after checking its secret or client assertion."""
    client_id = form.get("client_id") or (basic[0] if basic else "")
    if not client_id:
        raise missing("client_id")
    app = tenant.apps.get(client_id)
    if app is None:
        raise unknown_client(tenant, client_id)
    secret = form.get("client_secret") or (basic[1] if basic else None)
    if secret is not None:
        if not hmac.compare_digest(secret.encode(), app.secret.encode()):
            raise OAuthError(
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is"
                " the client secret value, not the client secret ID, for a secret added to app"
                f" '{app.client_id}'.",
            )
        return ClientCall(app, tokens.APP_CREDENTIAL_SECRET)
    assertion = form.get("client_assertion")
    if assertion:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError(
                "invalid_request",
                50027,
                "JWT token is invalid or malformed. client_assertion_type must be"
                f" '{ASSERTION_TYPE}'.",
            )
        entra_assertion.verify(app, assertion, token_urls)
        return ClientCall(app, tokens.APP_CREDENTIAL_CERTIFICATE)
    raise OAuthError(
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or"
        " 'client_secret'.",
    )


# -- grants --------------------------------------------------------------------------------


def client_credentials(tenant: Tenant, client: ClientCall, form: Mapping[str, str]) -> dict:
    raw = form.get("scope")
    if not raw:
        raise missing("scope")
    wanted = parse_scope(tenant, raw)
    require_default_scope(wanted, raw)
    lifetime = tokens.current_lifetime()
    certificate = client.credential == tokens.APP_CREDENTIAL_CERTIFICATE
    access = tokens.issue_app_token(tenant, client.app, wanted.audience, certificate, lifetime)
    return {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    }


def password(tenant: Tenant, client: ClientCall, form: Mapping[str, str]) -> dict:
    for name in ("username", "password"):
        if not form.get(name):
            raise missing(name)
    user = check_credentials(tenant, form["username"], form["password"])
    wanted = parse_scope(tenant, form.get("scope", "openid profile offline_access"))
    require_consent(client.app, wanted)
    return user_tokens(tenant, client, user, wanted, form)


def authorization_code(tenant: Tenant, client: ClientCall, form: Mapping[str, str]) -> dict:
    code = form.get("code")
    if not code:
        raise missing("code")
    grant = _redeem(code)
    if grant.client_id != client.app.client_id:
        raise OAuthError("invalid_grant", 70000, "Provided grant is invalid or malformed.")
    if form.get("redirect_uri", "") != grant.redirect_uri:
        raise OAuthError(
            "invalid_grant",
            500112,
            f"The reply address '{form.get('redirect_uri', '')}' does not match the reply address"
            f" '{grant.redirect_uri}' provided when requesting Authorization code.",
        )
    _check_pkce(grant, form.get("code_verifier"))
    user = _active_user(tenant, grant.user_id)
    wanted = parse_scope(tenant, form.get("scope") or grant.scope)
    return user_tokens(tenant, client, user, wanted, form, nonce=grant.nonce)


def refresh_token(tenant: Tenant, client: ClientCall, form: Mapping[str, str]) -> dict:
    token = form.get("refresh_token")
    if not token:
        raise missing("refresh_token")
    grant = ledger().refresh.get(token)
    if grant is None:
        raise OAuthError(
            "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
        )
    if grant.client_id != client.app.client_id:
        raise OAuthError("invalid_grant", 70000, "Provided grant is invalid or malformed.")
    user = _active_user(tenant, grant.user_id)
    wanted = parse_scope(tenant, form.get("scope", ""))
    require_consent(client.app, wanted)
    if not wanted.oidc:  # a bare refresh keeps the OIDC scopes of the original sign-in
        wanted = ScopeRequest(wanted.audience, wanted.resource, wanted.permissions, grant.oidc)
    return user_tokens(tenant, client, user, wanted, form)


GRANTS = {
    "client_credentials": client_credentials,
    "password": password,
    "authorization_code": authorization_code,
    "refresh_token": refresh_token,
}


def _redeem(code: str) -> AuthorizationCode:
    """The code's grant, marked used; Entra's errors for unknown, reused and stale codes."""
    book = ledger()
    with book.lock:
        grant = book.codes.get(code)
        if grant is None:
            raise OAuthError(
                "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if code in book.redeemed:
            raise OAuthError(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid"
                " code or use an existing refresh token.",
            )
        book.redeemed.add(code)
    if time.time() - grant.issued_at > CODE_LIFETIME:
        raise OAuthError(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity."
            " Send a new interactive authorization request for this user and resource.",
        )
    return grant


def _check_pkce(grant: AuthorizationCode, verifier: str | None) -> None:
    if grant.code_challenge is None:
        return
    if grant.challenge_method == "S256" and verifier:
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        computed = verifier or ""
    if not hmac.compare_digest(computed, grant.code_challenge):
        raise OAuthError(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization"
            " request.",
        )


def check_credentials(tenant: Tenant, username: str, secret: str) -> User:
    """The user signing in with `username` + `secret` (ROPC and the sign-in page share this)."""
    user = tenant.user(username)
    if user is None:
        raise OAuthError(
            "invalid_grant",
            50034,
            f"The user account {{EUII Hidden}} does not exist in the {tenant.tenant_id} directory."
            " To sign into this application, the account must be added to the directory.",
        )
    if not hmac.compare_digest(secret.encode(), tenant.password.encode()):
        raise OAuthError(
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
        )
    return _active_user(tenant, user.id)


def _active_user(tenant: Tenant, user_id: str) -> User:
    user = tenant.user(user_id)
    if user is None:
        raise OAuthError("invalid_grant", 50034, "The user account does not exist.")
    if not user.account_enabled:
        raise OAuthError("invalid_grant", 50057, "The user account is disabled.")
    return user


# -- user token responses ------------------------------------------------------------------


def user_tokens(
    tenant: Tenant,
    client: ClientCall,
    user: User,
    wanted: ScopeRequest,
    form: Mapping[str, str],
    nonce: str | None = None,
) -> dict:
    """Access token, and the id token / refresh token / client_info that the scopes call for."""
    lifetime = tokens.current_lifetime()
    access = tokens.issue_user_token(
        tenant,
        client.app,
        user,
        wanted.audience,
        wanted.consented(),
        lifetime,
        credential=client.credential,
    )
    body: dict = {
        "token_type": "Bearer",
        "scope": wanted.granted(),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    }
    if "offline_access" in wanted.oidc:
        body["refresh_token"] = _new_refresh_token(client.app, user, wanted.oidc)
    if "openid" in wanted.oidc:
        body["id_token"] = id_token(tenant, client.app, user, wanted.oidc, nonce)
    if form.get("client_info") == "1":
        info = json.dumps({"uid": user.id, "utid": tenant.tenant_id}).encode()
        body["client_info"] = tokens.b64url(info)
    return body


def _new_refresh_token(app: App, user: User, oidc: frozenset[str]) -> str:
    token = "1.A" + secrets.token_urlsafe(160)
    book = ledger()
    with book.lock:
        book.refresh[token] = RefreshGrant(app.client_id, user.id, oidc)
    return token


def id_token(tenant: Tenant, app: App, user: User, oidc: frozenset[str], nonce: str | None) -> str:
    """An OpenID Connect id token (v2.0 claims) for the signed-in user, addressed to the app."""
    now = int(time.time())
    claims = {
        "aud": app.client_id,
        "iss": tokens.issuer(tenant),
        "iat": now,
        "nbf": now,
        "exp": now + ID_TOKEN_LIFETIME,
        "name": user.display_name,
        "oid": user.id,
        "preferred_username": user.user_principal_name,
        "sub": tokens.pairwise_subject(user.id, app.client_id),
        "tid": tenant.tenant_id,
        "uti": tokens.b64url(secrets.token_bytes(16)),
        "ver": "2.0",
    }
    if nonce:
        claims["nonce"] = nonce
    if "email" in oidc and user.mail:
        claims["email"] = user.mail
    return tokens.sign(tenant, claims)
