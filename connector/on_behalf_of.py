"""The on-behalf-of exchange: a user's token for our API, traded for their delegated Graph token.

MSAL's `acquire_token_on_behalf_of` posts the jwt-bearer grant (PROTOCOL: Entra's OBO flow)
through the connector's one session factory (`token_client`), and keeps the answers in its
cache keyed by the assertion, so the same assertion is exchanged once while its token lasts.
Entra's refusals come back as typed exceptions:
- ConsentRequired: `invalid_grant` with suberror `consent_required` / AADSTS65001, or
  `interaction_required` (a policy wants the user present): the person must see a consent or
  sign-in prompt, then the caller retries with a fresh assertion;
- ExchangeRefused: any other error (an expired or foreign assertion, a disabled user).
A network failure raises requests' exception, for the caller to tell "could not ask" apart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import msal

from connector.session import PERSON_WAITING_MAX_WAIT, PERSON_WAITING_RETRIES, token_client
from connector.settings import MICROSOFT_LOGIN_HOSTS

CONSENT_CODES = frozenset({65001, 65004, 50079, 50076})


class ExchangeRefused(Exception):
    """Entra refused the exchange; `error` and `codes` as Entra sent them."""

    def __init__(self, error: str, description: str, codes: tuple[int, ...] = ()) -> None:
        super().__init__(description or error)
        self.error = error
        self.codes = codes


class ConsentRequired(ExchangeRefused):
    """The user must consent (or sign in interactively) before the exchange can succeed."""

    def __init__(self, error: str, description: str, codes: tuple[int, ...], claims: str) -> None:
        super().__init__(error, description, codes)
        self.claims = claims


@dataclass(frozen=True)
class Exchanged:
    access_token: str
    expires_at: float  # unix seconds


class OnBehalfOf:
    """One MSAL confidential client per process, for OBO exchanges only."""

    def __init__(
        self, authority: str, client_id: str, client_secret: str, ca_bundle: str = "",
        timeout: float = 10.0,
    ) -> None:  # fmt: skip
        host = urlsplit(authority).hostname or ""
        self._lock = threading.Lock()
        self._app = msal.ConfidentialClientApplication(
            client_id,
            client_credential=client_secret,
            authority=authority,
            http_client=token_client(
                ca_bundle, timeout, PERSON_WAITING_RETRIES, PERSON_WAITING_MAX_WAIT
            ),
            # The emulator cannot answer instance discovery (as in overlay_app/auth/entra.py).
            instance_discovery=None if host in MICROSOFT_LOGIN_HOSTS else False,
        )

    def exchange(self, assertion: str, scopes: list[str]) -> Exchanged:
        """The delegated token for `scopes`; ConsentRequired / ExchangeRefused if refused."""
        with self._lock:  # MSAL's cache is not made for concurrent writers
            result = self._app.acquire_token_on_behalf_of(assertion, scopes)
        if "access_token" in result:
            lifetime = float(result.get("expires_in") or 0)
            return Exchanged(result["access_token"], time.time() + lifetime)
        error = str(result.get("error", "unknown"))
        description = str(result.get("error_description", ""))
        codes = tuple(int(c) for c in result.get("error_codes") or () if str(c).isdigit())
        if (
            error == "interaction_required"
            or result.get("suberror") == "consent_required"
            or set(codes) & CONSENT_CODES
        ):
            raise ConsentRequired(error, description, codes, str(result.get("claims") or ""))
        raise ExchangeRefused(error, description, codes)
