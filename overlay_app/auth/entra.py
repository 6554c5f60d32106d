"""Plaza's side of Entra ID: the MSAL app, the tenant's signing keys, and token validation.

One `Entra` per process (made lazily in each gunicorn worker, after the fork), holding:
- one MSAL ConfidentialClientApplication, which discovers the authority once. MSAL keeps one
  token cache per app object, so each person's cache (kept in auth.db) is loaded into it for
  one call under a lock, and saved back when MSAL changed it (MSAL's per-user cache recipe);
- the authority's OpenID configuration and JWKS, cached; an unknown `kid` refetches the keys
  (at most every KEYS_REFETCH_SECONDS), so a key rollover is picked up without a restart.

MSAL does not validate the id token (PROTOCOL.md 5.3: 1.38+ checks only state and nonce), so
`check_id_token` does: signature by the tenant's keys, issuer, audience = client id, expiry,
nonce. Bearer tokens for Plaza's API get the same treatment in `check_access_token`, which also
wants a delegated token (`scp`) issued to an allowed client app (settings.allowed_clients):
another app of the tenant holding a token for Plaza's API is not Plaza, nor a client it trusts.

Errors: SignInFailed (the sign-in could not complete: what to tell the person) and
InvalidToken (a bearer token was refused: the reason, for WWW-Authenticate).
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import jwt
import msal
import requests

from connector.session import PERSON_WAITING_MAX_WAIT, PERSON_WAITING_RETRIES, token_client
from connector.settings import MICROSOFT_LOGIN_HOSTS
from overlay_app.settings import OverlaySettings

# Delegated Graph permissions asked at sign-in: the live access check reads items as the
# person (Files.Read.All); MSAL adds openid, profile and offline_access (refresh token).
GRAPH_SCOPES = ["User.Read", "Files.Read.All", "Sites.Read.All"]
HTTP_TIMEOUT = 10
DISCOVERY_TTL_SECONDS = 24 * 3600  # as MSAL caches it
KEYS_REFETCH_SECONDS = 30
LEEWAY_SECONDS = 30  # clock skew allowed on exp / nbf / iat


class SignInFailed(Exception):
    """The sign-in did not complete; the message is for the person signing in."""


class InvalidToken(Exception):
    """A bearer token was refused; the message goes into WWW-Authenticate's error_description."""


def nonce_hash(secret: str) -> str:
    """What MSAL sends as `nonce` for the flow's secret (msal/oauth2cli/oidc.py)."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def client_of(claims: dict[str, Any]) -> str | None:
    """The client app a token was issued to: `azp` in v2.0 tokens, `appid` in v1.0 ones."""
    return claims.get("appid") if claims.get("ver") == "1.0" else claims.get("azp")


class Entra:
    def __init__(self, settings: OverlaySettings) -> None:
        self.settings = settings
        # Trusts exactly PLAZA_CA_BUNDLE when set; the connector's retry decision, briefly.
        self.http = token_client(
            settings.ca_bundle, HTTP_TIMEOUT, PERSON_WAITING_RETRIES, PERSON_WAITING_MAX_WAIT
        )
        self._lock = threading.RLock()
        self._msal: msal.ConfidentialClientApplication | None = None
        self._cache = msal.SerializableTokenCache()
        self._discovery: dict[str, Any] | None = None
        self._discovered_at = 0.0
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_fetched_at = 0.0

    # -- discovery and keys ----------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The authority's OpenID configuration (v2.0 endpoints), cached for a day."""
        with self._lock:
            if self._discovery is None or time.time() - self._discovered_at > DISCOVERY_TTL_SECONDS:
                url = f"{self.settings.authority}/v2.0/.well-known/openid-configuration"
                response = self.http.get(url)
                response.raise_for_status()
                self._discovery = response.json()
                self._discovered_at = time.time()
            return self._discovery

    def issuer(self) -> str:
        """The tenant's v2.0 issuer, e.g. https://login.microsoftonline.com/{tid}/v2.0."""
        return self.discovery()["issuer"]

    def end_session_endpoint(self) -> str | None:
        return self.discovery().get("end_session_endpoint")

    def signing_key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            key = self._keys.get(kid)
            if key is None and time.time() - self._keys_fetched_at >= KEYS_REFETCH_SECONDS:
                self._fetch_keys()
                key = self._keys.get(kid)
        if key is None:
            raise jwt.InvalidTokenError("the token is not signed by a key of the tenant")
        return key

    def _fetch_keys(self) -> None:
        response = self.http.get(self.discovery()["jwks_uri"])
        response.raise_for_status()
        self._keys_fetched_at = time.time()
        self._keys = {
            key["kid"]: jwt.PyJWK(key, algorithm="RS256")
            for key in response.json().get("keys", [])
            if key.get("kty") == "RSA" and key.get("kid")
        }

    # -- token validation ------------------------------------------------------------------

    def _decode(self, raw: str, audiences: list[str]) -> dict[str, Any]:
        """Claims of a token signed by the tenant for one of `audiences`, not expired."""
        header = jwt.get_unverified_header(raw)
        if header.get("alg") != "RS256":
            raise jwt.InvalidTokenError("the token is not signed with RS256")
        key = self.signing_key(str(header.get("kid", "")))
        claims = jwt.decode(
            raw,
            key,
            algorithms=["RS256"],
            audience=audiences,
            issuer=self.issuer(),
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "tid", "oid"]},
        )
        if claims["tid"] != self.tenant_id():
            raise jwt.InvalidTokenError("the token is for another tenant")
        return claims

    def decode(self, raw: str, audiences: list[str]) -> dict[str, Any]:
        """Claims of a token of the tenant for `audiences` (signature, issuer, expiry, tenant
        checked); jwt.PyJWTError or requests' exceptions otherwise. For embedded sign-in."""
        return self._decode(raw, audiences)

    def tenant_id(self) -> str:
        """The tenant id named by the issuer (the settings may name the tenant by domain)."""
        return urlsplit(self.issuer()).path.strip("/").split("/")[0]

    def check_id_token(self, raw: str, nonce_secret: str) -> dict[str, Any]:
        try:
            claims = self._decode(raw, [self.settings.client_id])
        except (jwt.PyJWTError, requests.RequestException, KeyError) as exc:
            raise SignInFailed(f"the sign-in answer could not be trusted ({exc})") from exc
        if claims.get("nonce") != nonce_hash(nonce_secret):
            raise SignInFailed("the sign-in answer does not belong to this sign-in (nonce)")
        return claims

    def check_access_token(self, raw: str) -> dict[str, Any]:
        """Claims of a delegated access token for Plaza's API, or InvalidToken."""
        try:
            claims = self._decode(raw, sorted(self.settings.api_audiences))
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The access token has expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("The access token is not for Plaza's API (audience).") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("The access token is not from Plaza's tenant (issuer).") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("The access token's signature is not valid.") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken("The access token is not valid.") from exc
        if "scp" not in claims:
            raise InvalidToken("Plaza's API takes delegated tokens (signed-in people) only.")
        if client_of(claims) not in self.settings.allowed_clients:
            raise InvalidToken("The access token was issued to a client app Plaza does not accept.")
        return claims

    # -- MSAL --------------------------------------------------------------------------------

    def _app(self) -> msal.ConfidentialClientApplication:
        """The one MSAL app of this process (discovers the authority when first made)."""
        if self._msal is None:
            host = urlsplit(self.settings.authority).hostname or ""
            self._msal = msal.ConfidentialClientApplication(
                self.settings.client_id,
                client_credential=self.settings.client_secret,
                authority=self.settings.authority,
                http_client=self.http,
                token_cache=self._cache,
                # Instance discovery asks login.microsoftonline.com about the authority:
                # right for Microsoft's hosts, impossible for the emulator (PROTOCOL.md 5.2).
                instance_discovery=None if host in MICROSOFT_LOGIN_HOSTS else False,
            )
        return self._msal

    def begin_sign_in(self) -> dict[str, Any]:
        """A new auth-code flow with PKCE; `auth_uri` is where the browser goes."""
        with self._lock:
            # response_mode stays "query": a form_post back to Plaza is a cross-site POST,
            # which would not carry the SameSite=Lax session cookie holding this flow.
            return self._app().initiate_auth_code_flow(
                GRAPH_SCOPES, redirect_uri=self.settings.redirect_uri
            )

    def finish_sign_in(
        self, flow: dict[str, Any], answer: dict[str, str]
    ) -> tuple[dict[str, Any], str]:
        """Redeems the code: the validated id-token claims and the person's token cache."""
        if "error" in answer:
            raise SignInFailed(answer.get("error_description") or answer["error"])
        with self._lock:
            self._cache.deserialize(None)
            try:
                result = self._app().acquire_token_by_auth_code_flow(flow, answer)
            except (ValueError, RuntimeError) as exc:  # state or nonce mismatch
                raise SignInFailed("the sign-in answer does not match this sign-in") from exc
            except requests.RequestException as exc:
                raise SignInFailed("the sign-in service cannot be reached") from exc
            state = self._cache.serialize()
            self._cache.deserialize(None)
        if "error" in result or "id_token" not in result:
            raise SignInFailed(result.get("error_description") or "no id token came back")
        return self.check_id_token(result["id_token"], flow["nonce"]), state

    def graph_token(self, person_id: str, cache_state: str) -> tuple[str | None, str | None]:
        """The person's delegated Graph token from their cache (refreshed if needed), and the
        cache's new state when MSAL changed it."""
        with self._lock:
            self._cache.deserialize(cache_state)
            try:
                app = self._app()
                account = next(
                    (a for a in app.get_accounts() if a["home_account_id"].startswith(person_id)),
                    None,
                )
                result = app.acquire_token_silent(GRAPH_SCOPES, account) if account else None
            except requests.RequestException:
                result = None
            changed = self._cache.serialize() if self._cache.has_state_changed else None
            self._cache.deserialize(None)
        token = (result or {}).get("access_token")
        return token, changed
