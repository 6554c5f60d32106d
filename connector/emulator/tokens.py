"""Access tokens: minted by the emulator's Entra ID, checked by its Graph and SharePoint.

Tokens are RS256 JWTs signed by a key made per tenant object when the emulator starts (its
`kid` is in every header and in the JWKS document), shaped like Entra's v2.0 access tokens:
`aud`, `iss` (`{base}/{tenant}/v2.0`), `tid`, `oid`, `azp`/`appid`, `azpacr`/`appidacr`
("1" secret, "2" certificate, "0" public client), `roles` for app-only tokens, `scp` for
delegated ones.

Audiences:
- Graph: "https://graph.microsoft.com" (what Entra puts in Graph tokens);
- SharePoint: the emulator's base URL (at Microsoft: "https://{tenant}.sharepoint.com");
- the app's own API: "api://{client_id}".

Checking mirrors what the resource servers answer: Graph renders 401 InvalidAuthenticationToken
(with Graph's `WWW-Authenticate` header) through GraphHTTPError; SharePoint gets a
TokenRejected(reason) to render in its own error shape.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app, has_app_context, request

from connector.emulator.odata import GraphHTTPError

if TYPE_CHECKING:
    from connector.emulator.model import App, User
    from connector.emulator.tenant import Tenant

GRAPH_AUDIENCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
SHAREPOINT_APP_ID = "00000003-0000-0ff1-ce00-000000000000"
DEFAULT_LIFETIME = 3599

# Graph's header on every 401 (captured from the real service, PROTOCOL.md section 4).
GRAPH_WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize",'
    f' client_id="{GRAPH_APP_ID}"'
)
EXPIRED = "Access token has expired or is not yet valid."
EMPTY = "Access token is empty."
INVALID = "Access token validation failure."
INVALID_AUDIENCE = "Access token validation failure. Invalid audience."
MALFORMED = "CompactToken parsing failed with error code: 80049217"

APP_CREDENTIAL_PUBLIC, APP_CREDENTIAL_SECRET, APP_CREDENTIAL_CERTIFICATE = "0", "1", "2"


class TokenRejected(Exception):
    """A bearer token the resource refuses; `reason` is the resource's own wording."""

    def __init__(self, reason: str, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


@dataclass(frozen=True)
class Caller:
    """Who is calling a resource, as read from a valid access token."""

    app_id: str
    user_id: str | None  # None for an app-only token
    roles: frozenset[str]  # application permissions
    scopes: frozenset[str]  # delegated permissions
    certificate: bool  # the app authenticated with a certificate (appidacr "2")

    @property
    def app_only(self) -> bool:
        return self.user_id is None


# -- signing keys --------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    def jwk(self) -> dict[str, Any]:
        """The public half as a JWKS entry, like those at Entra's `discovery/v2.0/keys`."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64_uint(numbers.n),
            "e": _b64_uint(numbers.e),
            "alg": "RS256",
        }


_keys: weakref.WeakKeyDictionary[Tenant, SigningKey] = weakref.WeakKeyDictionary()
_keys_lock = threading.Lock()


def signing_key(tenant: Tenant) -> SigningKey:
    """The tenant's token-signing key, made on first use (the server asks for it at start)."""
    with _keys_lock:
        key = _keys.get(tenant)
        if key is None:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            kid = b64url(hashlib.sha1(uuid.uuid4().bytes).digest())  # Entra's kids look like x5t
            key = SigningKey(kid=kid, private_key=private)
            _keys[tenant] = key
        return key


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64_uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


# -- audiences and identities --------------------------------------------------------------


def resolve_audience(tenant: Tenant, audience: str, client_id: str = "") -> str:
    """An `aud` value from a short name ("graph", "sharepoint", "api") or an `aud` as is."""
    if audience == "graph":
        return GRAPH_AUDIENCE
    if audience == "sharepoint":
        return tenant.base_url
    if audience == "api":
        return f"api://{client_id}"
    return audience


def issuer(tenant: Tenant) -> str:
    return f"{tenant.base_url}/{tenant.tenant_id}/v2.0"


def service_principal_id(app: App) -> str:
    """A stable object id for the app's service principal (Entra's `oid` in app-only tokens)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"plaza-emulator:sp:{app.client_id}"))


def pairwise_subject(user_id: str, client_id: str) -> str:
    """`sub`: unique per user *and* app in Entra, so that apps cannot correlate users."""
    return b64url(hashlib.sha256(f"{user_id}|{client_id}".encode()).digest())


def current_lifetime(default: int = DEFAULT_LIFETIME) -> int:
    """Lifetime of the next token: the default unless a `token_lifetime` fault shortens it."""
    if not has_app_context():
        return default
    board = current_app.extensions.get("faults")
    shorten = getattr(board, "token_lifetime", None)
    return int(shorten(default)) if shorten else default


# -- minting -------------------------------------------------------------------------------


def _base_claims(tenant: Tenant, app: App, audience: str, lifetime: int, credential: str) -> dict:
    now = int(time.time())
    return {
        "aud": resolve_audience(tenant, audience, app.client_id),
        "iss": issuer(tenant),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "app_displayname": app.display_name,
        "appid": app.client_id,
        "appidacr": credential,
        "azp": app.client_id,
        "azpacr": credential,
        "tid": tenant.tenant_id,
        "uti": b64url(uuid.uuid4().bytes),
        "ver": "2.0",
    }


def sign(tenant: Tenant, claims: dict[str, Any]) -> str:
    key = signing_key(tenant)
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def issue_app_token(
    tenant: Tenant, app: App, audience: str, certificate: bool, lifetime: int = DEFAULT_LIFETIME
) -> str:
    """An app-only token; `roles` are the app's consented application permissions right now."""
    credential = APP_CREDENTIAL_CERTIFICATE if certificate else APP_CREDENTIAL_SECRET
    claims = _base_claims(tenant, app, audience, lifetime, credential)
    oid = service_principal_id(app)
    claims.update(idtyp="app", oid=oid, sub=oid)
    # Roles belong to resources with app roles (Graph, SharePoint); the app's own API has none.
    if not claims["aud"].startswith("api://") and app.roles:
        claims["roles"] = sorted(app.roles)
    return sign(tenant, claims)


def issue_user_token(
    tenant: Tenant,
    app: App,
    user: User,
    audience: str,
    scopes: Iterable[str],
    lifetime: int = DEFAULT_LIFETIME,
    *,
    credential: str = APP_CREDENTIAL_SECRET,
) -> str:
    """A delegated token for `user` through `app`, carrying `scopes` in `scp`."""
    claims = _base_claims(tenant, app, audience, lifetime, credential)
    claims.update(
        idtyp="user",
        oid=user.id,
        sub=pairwise_subject(user.id, app.client_id),
        scp=" ".join(scopes),
        name=user.display_name,
        given_name=user.given_name,
        family_name=user.surname,
        preferred_username=user.user_principal_name,
        upn=user.user_principal_name,
    )
    return sign(tenant, claims)


# -- checking ------------------------------------------------------------------------------


def graph_audiences() -> frozenset[str]:
    return frozenset({GRAPH_AUDIENCE, GRAPH_AUDIENCE + "/", GRAPH_APP_ID})


def sharepoint_audiences(tenant: Tenant) -> frozenset[str]:
    return frozenset({tenant.base_url, tenant.base_url + "/", SHAREPOINT_APP_ID})


def read_token(tenant: Tenant, raw: str, audiences: Iterable[str]) -> dict[str, Any]:
    """The claims of a valid token for one of `audiences`; TokenRejected (Graph wording) if not."""
    if not raw:
        raise TokenRejected(EMPTY)
    if raw.count(".") != 2:
        raise TokenRejected(MALFORMED)
    key = signing_key(tenant)
    try:
        header = jwt.get_unverified_header(raw)
        if header.get("kid") != key.kid:
            raise TokenRejected(INVALID)
        claims = jwt.decode(
            raw,
            key.private_key.public_key(),
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as err:
        raise TokenRejected(INVALID) from err
    now = time.time()
    if not (claims.get("nbf", 0) <= now < claims.get("exp", 0)):
        raise TokenRejected(EXPIRED, expired=True)
    if claims.get("aud") not in set(audiences):
        raise TokenRejected(INVALID_AUDIENCE)
    if claims.get("tid") != tenant.tenant_id or claims.get("iss") != issuer(tenant):
        raise TokenRejected(INVALID)
    return claims


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    delegated = claims.get("idtyp") == "user"
    return Caller(
        app_id=claims["azp"],
        user_id=claims["oid"] if delegated else None,
        roles=frozenset(claims.get("roles", ())),
        scopes=frozenset(claims.get("scp", "").split()),
        certificate=claims.get("azpacr") == APP_CREDENTIAL_CERTIFICATE,
    )


def bearer_token() -> str:
    """The token in this request's `Authorization: Bearer` header ("" if there is none)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _tenant() -> Tenant:
    return current_app.extensions["tenant"]


def graph_caller() -> Caller:
    """The caller of this Graph request; 401 InvalidAuthenticationToken unless the token is good."""
    try:
        claims = read_token(_tenant(), bearer_token(), graph_audiences())
    except TokenRejected as err:
        raise GraphHTTPError(
            401,
            "InvalidAuthenticationToken",
            err.reason,
            headers={"WWW-Authenticate": GRAPH_WWW_AUTHENTICATE},
        ) from err
    return caller_from_claims(claims)


def sharepoint_caller() -> Caller:
    """The caller of a SharePoint REST request; TokenRejected(reason) for SharePoint to render."""
    tenant = _tenant()
    try:
        claims = read_token(tenant, bearer_token(), sharepoint_audiences(tenant))
    except TokenRejected as err:
        # SharePoint words these its own way (sp-dev-docs issues #5889, #7152).
        if err.expired:
            raise TokenRejected("Invalid JWT token. The token is expired.", expired=True) from err
        if err.reason == EMPTY:
            raise
        raise TokenRejected("Invalid issuer or signature.") from err
    return caller_from_claims(claims)


def require_permission(
    caller: Caller, app_roles: Iterable[str], delegated: Iterable[str], directory: bool
) -> None:
    """403 unless the caller holds one of the permissions (roles if app-only, else scopes)."""
    held = caller.roles if caller.app_only else caller.scopes
    wanted = set(app_roles) if caller.app_only else set(delegated)
    if held & wanted:
        return
    if directory:
        raise GraphHTTPError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )
    if not held:
        # Graph's words for an app with no consented permission at all on the resource.
        raise GraphHTTPError(
            403, "accessDenied", "Either scp or roles claim need to be present in the token."
        )
    raise GraphHTTPError(403, "accessDenied", "Access denied")
