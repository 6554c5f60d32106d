"""App-only access tokens from Entra ID through one long-lived MSAL confidential client.

One `TokenProvider` per process: MSAL keeps its token cache in the app object and refreshes
a token before it expires, so building an app per call would re-discover the authority and
fetch a token every time. Audiences: Microsoft Graph (`token("graph")`) and SharePoint
(`token("https://contoso.sharepoint.com")`, i.e. the resource's origin).
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlsplit

import msal
import requests

from connector.errors import AuthError, TokenError
from connector.session import SessionClient, token_client
from connector.settings import ConnectorSettings

GRAPH = "graph"


class TokenProvider:
    """Tokens for the configured app; thread-safe; the MSAL app is built on first use."""

    def __init__(self, settings: ConnectorSettings, http_client: SessionClient | None = None):
        self.settings = settings
        self._http_client = http_client or token_client(
            settings.ca_bundle, settings.http_timeout, settings.max_retries
        )
        self._lock = threading.Lock()
        self._app: msal.ConfidentialClientApplication | None = None

    @property
    def credential_kind(self) -> str:
        """ "secret", "certificate" or "pfx" (SharePoint REST needs one of the last two)."""
        return self.settings.credential_kind

    @property
    def app_only(self) -> bool:
        return True

    def token(self, audience: str = GRAPH) -> str:
        """An access token for Graph ("graph") or a SharePoint origin; TokenError if refused."""
        scope = self.scope_for(audience)
        with self._lock:
            app = self._msal_app()
            try:
                result = app.acquire_token_for_client(scopes=[scope])
            except requests.RequestException as exc:
                raise AuthError(
                    f"cannot reach the sign-in service {self.settings.authority}: {exc}"
                ) from exc
        if "access_token" not in result:
            raise _token_error(result)
        return result["access_token"]

    def invalidate(self, audience: str, rejected_token: str) -> None:
        """Forget cached tokens after a 401, so the next `token()` asks Entra ID again.

        Only acts if the cache still holds the rejected token: when several workers hit the
        same 401, the first one refreshes and the others reuse its new token.
        """
        scope = self.scope_for(audience)
        with self._lock:
            app = self._msal_app()
            cached = app.token_cache.search(
                msal.TokenCache.CredentialType.ACCESS_TOKEN,
                query={"client_id": self.settings.client_id, "secret": rejected_token},
            )
            if any(scope.lower() in entry.get("target", "").lower() for entry in cached):
                app.remove_tokens_for_client()

    def scope_for(self, audience: str) -> str:
        if audience == GRAPH:
            return self.settings.graph_scope
        parts = urlsplit(audience)
        return f"{parts.scheme}://{parts.netloc}/.default"

    def _msal_app(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.settings.client_id,
                    client_credential=_credential(self.settings),
                    authority=self.settings.authority,
                    # Non-Microsoft authorities (the emulator) must skip instance discovery,
                    # which would call login.microsoftonline.com (PROTOCOL.md 5.2).
                    instance_discovery=None if self.settings.authority_is_microsoft else False,
                    http_client=self._http_client,
                )
            except (ValueError, requests.RequestException) as exc:
                raise AuthError(
                    f"cannot use the authority {self.settings.authority}: {exc}"
                ) from exc
        return self._app


def _credential(settings: ConnectorSettings) -> str | dict[str, object]:
    kind = settings.credential_kind
    if kind == "pfx":
        credential: dict[str, object] = {"private_key_pfx_path": settings.cert_pfx_path}
        if settings.cert_pfx_password:
            credential["passphrase"] = settings.cert_pfx_password
        return credential
    if kind == "certificate":
        assert settings.cert_key_path
        credential = {"private_key": Path(settings.cert_key_path).read_text()}
        if settings.cert_key_password:
            credential["passphrase"] = settings.cert_key_password
        if settings.cert_thumbprint:
            credential["thumbprint"] = settings.cert_thumbprint
        if settings.cert_path:
            credential["public_certificate"] = Path(settings.cert_path).read_text()
        return credential
    assert settings.client_secret is not None
    return settings.client_secret


def _token_error(result: dict) -> TokenError:
    return TokenError(
        result.get("error", "unknown_error"),
        result.get("error_description", "no description"),
        correlation_id=result.get("correlation_id"),
        error_codes=tuple(result.get("error_codes") or ()),
    )
