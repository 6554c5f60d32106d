"""Embedded sign-in: a Teams (or SharePoint) token in, a short-lived Plaza token out.

`sign_in(raw)` checks the host's token as Entra issued it (signature by the tenant's keys,
issuer, expiry, tenant, audience = Plaza's SSO resource `api://{host}/{client id}` or its other
API audiences, a delegated `scp`, and a client app Plaza trusts: its own, PLAZA_API_CLIENTS, or
Teams' documented clients), exchanges it on behalf of the person for their delegated Graph
token (kept in overlay.db for the live check, never sent back), and hands out a random Plaza
token (`plz1.` + 256 bits) valid `embedded_token_minutes`, stored by its hash and revocable.

`EmbeddedBearer` is what the auth layer asks about `Authorization: Bearer plz1.…` on /api/:
the token's person (re-read from the index, account checked live), or 401. `delegated_token`
gives the live check the Graph token of the request's caller: the stored one for a Plaza
token, or an on-behalf-of exchange of an Entra bearer token (MSAL caches it per assertion).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import requests
from flask import Flask, current_app, g, has_app_context

from connector.errors import ConnectorError
from connector.on_behalf_of import ConsentRequired, Exchanged, ExchangeRefused, OnBehalfOf
from connector.settings import CLOUDS
from overlay_app import access, db
from overlay_app.auth import views as auth
from overlay_app.auth.entra import client_of
from overlay_app.embedded import store
from overlay_app.errors import N_, Forbidden, PlazaError
from overlay_app.identity import Person

PREFIX = "plz1."
# Microsoft Teams' documented client ids (desktop and mobile, web): Teams' getAuthToken
# hands tabs tokens issued to them.
TEAMS_CLIENTS = frozenset(
    {"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"}
)
_obo_lock = threading.Lock()


class ConsentNeeded(Forbidden):
    """403: the person must consent (Entra's prompt), then the page signs in again."""

    code = "consentRequired"
    default_message = N_("Plaza needs your consent to read your files for you.")


class Unavailable(PlazaError):
    status, code, default_message = 503, "unavailable", N_("Sign-in is unavailable right now.")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> float:
    clock = current_app.extensions["plaza.settings"].extra.get("clock")
    return clock() if clock else time.time()


def graph_scopes(settings: Any) -> list[str]:
    root = next((c.graph for c in CLOUDS.values() if settings.graph_url.startswith(c.graph)),
                CLOUDS["global"].graph)  # fmt: skip
    return [f"{root}/.default"]


def exchanger() -> OnBehalfOf:
    """This process's on-behalf-of client (made on first use, after gunicorn forks)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _obo_lock:
        client = app.extensions.get("plaza.on_behalf_of")
        if client is None:
            settings = app.extensions["plaza.settings"]
            client = app.extensions["plaza.on_behalf_of"] = OnBehalfOf(
                settings.authority, settings.client_id, settings.client_secret,
                settings.ca_bundle,
            )  # fmt: skip
    return client


def check_host_token(raw: str) -> dict[str, Any]:
    """The claims of a Teams / SharePoint token for Plaza, or 401 (InvalidTokenError)."""
    settings = current_app.extensions["plaza.settings"]
    try:
        claims = auth.entra().decode(raw, sorted(settings.api_audiences))
    except requests.RequestException as exc:
        raise Unavailable("The tenant's signing keys cannot be fetched now.") from exc
    except jwt.ExpiredSignatureError as exc:
        raise auth.InvalidTokenError("The sign-in token has expired.") from exc
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise auth.InvalidTokenError(
            "The sign-in token is not valid (%(problem)s).", problem=str(exc)
        ) from exc
    if "scp" not in claims:
        raise auth.InvalidTokenError("Plaza takes delegated tokens (signed-in people) only.")
    if client_of(claims) not in settings.allowed_clients | TEAMS_CLIENTS:
        raise auth.InvalidTokenError("The token was issued to a client app Plaza does not accept.")
    return claims


def exchange(raw: str) -> Exchanged:
    """The person's delegated Graph token for the host's token, or ConsentNeeded / 401 / 503."""
    settings = current_app.extensions["plaza.settings"]
    try:
        return exchanger().exchange(raw, graph_scopes(settings))
    except ConsentRequired as exc:
        raise ConsentNeeded() from exc
    except ExchangeRefused as exc:
        raise auth.InvalidTokenError(
            "Entra refused the sign-in (%(problem)s).", problem=exc.error
        ) from exc
    except (requests.RequestException, ConnectorError, ValueError) as exc:
        raise Unavailable() from exc


def sign_in(raw: str) -> tuple[str, Person, int]:
    """(Plaza token, person, seconds it lasts) for a host's token."""
    claims = check_host_token(raw)
    person = auth.load_person(claims["oid"], claims.get("roles"))
    if person is None or not access.account_checks().enabled(person.id):
        raise auth.InvalidTokenError("The token's user cannot use Plaza (unknown or disabled).")
    graph = exchange(raw)
    settings = current_app.extensions["plaza.settings"]
    lifetime = settings.embedded_token_minutes * 60
    token = PREFIX + secrets.token_urlsafe(32)
    now = _now()
    with db.transaction() as conn:
        store.forget_expired(conn, now)
        store.insert(
            conn, _hash(token), person.id, list(claims.get("roles", [])), now, now + lifetime,
            graph.access_token, graph.expires_at,
        )  # fmt: skip
    return token, person, lifetime


def sign_out(token: str) -> None:
    with db.transaction() as conn:
        store.revoke(conn, _hash(token))


class EmbeddedBearer:
    """The auth layer's view of Plaza tokens (registered as "plaza.embedded_bearer")."""

    def owns(self, raw: str) -> bool:
        return raw.startswith(PREFIX)

    def person(self, raw: str) -> Person:
        found = store.live(db.social(), _hash(raw), _now())
        if found is None:
            raise auth.InvalidTokenError("The Plaza token has expired or was revoked.")
        person = auth.load_person(found.person_id, found.roles)
        if person is None or not access.account_checks().enabled(person.id):
            with db.transaction() as conn:
                store.revoke_person(conn, found.person_id)
            raise auth.InvalidTokenError("The token's user cannot use Plaza (unknown or disabled).")
        usable = found.graph_expires_at is not None and found.graph_expires_at > time.time()
        g.embedded_graph_token = found.graph_token if usable else None
        return person


def delegated_token(person: Person) -> str | None:
    """The caller's delegated Graph token for this request: a Plaza token's stored one, or
    an Entra bearer token exchanged on behalf of the person (None if it cannot be)."""
    if not has_app_context():
        return None
    method = g.get("auth_method")
    if method == "embedded":
        return g.get("embedded_graph_token")
    if method == "bearer" and g.get("bearer_token"):
        settings = current_app.extensions["plaza.settings"]
        try:
            return exchanger().exchange(g.bearer_token, graph_scopes(settings)).access_token
        except (ExchangeRefused, requests.RequestException, ConnectorError, ValueError):
            return None  # not exchangeable (consent, a client Entra refuses): app-only check
    return None


def init_app(app: Flask) -> None:
    app.extensions["plaza.embedded_bearer"] = EmbeddedBearer()
    previous: Callable[[Person], str | None] | None = app.extensions.get(access.DELEGATED_TOKEN)

    def provider(person: Person) -> str | None:
        token = delegated_token(person)
        if token:
            return token
        return previous(person) if previous is not None else None

    access.provide_delegated_tokens(app, provider)
