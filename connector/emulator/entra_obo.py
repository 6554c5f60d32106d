"""Entra's on-behalf-of grant, the consent it depends on, and the tokens Teams asks for its apps.

On-behalf-of (learn.microsoft.com, "Microsoft identity platform and OAuth 2.0 On-Behalf-Of
flow"): a confidential client posts `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
`requested_token_use=on_behalf_of`, `assertion` (a user's access token whose audience is that
client's own API) and `scope`, and gets a delegated token for the downstream resource. Errors as
Entra answers them, all `invalid_grant` unless said:
- expired assertion: AADSTS500133 ("Assertion is not within its valid time range");
- bad signature or another tenant's key: AADSTS50013 ("Assertion failed signature validation");
- assertion for another app's API: AADSTS50013 ("Assertion audience does not match ...");
- an app-only assertion or a malformed one: AADSTS50027 ("JWT token is invalid or malformed");
- the user has not consented (or consent was revoked): AADSTS65001 with
  `suberror: consent_required`;
- a policy needs the user present (MFA): `interaction_required`, AADSTS50079, with `claims`.

Consent is per (client id, user): granted unless a test revoked it through the control API
(`POST /_emulator/consent`); an interactive sign-in on the authorize page grants it again, as
a consent prompt would.

Teams' single sign-on (`authentication.getAuthToken`) hands a tab a token issued to Teams'
own client (`azp`: one of TEAMS_CLIENTS, public client) for the app's `webApplicationInfo`
resource `api://{host}/{client id}`, with scope `access_as_user`: `teams_token` mints it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app

from connector.emulator import entra_token, tokens
from connector.emulator.entra_oauth import OAuthError, missing, parse_scope
from connector.emulator.model import App, User
from connector.emulator.tenant import Tenant

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Microsoft Teams' documented client ids (desktop/mobile, then web).
TEAMS_DESKTOP = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
TEAMS_WEB = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"
TEAMS_CLIENTS = {TEAMS_DESKTOP: "Microsoft Teams", TEAMS_WEB: "Microsoft Teams Web Client"}
GRANTED, REVOKED, MFA = "granted", "revoked", "mfa"
CONSENT_STATES = (GRANTED, REVOKED, MFA)
MFA_CLAIMS = {"access_token": {"capolids": {"essential": True, "values": ["mfa-required"]}}}


class GrantError(OAuthError):
    """An OAuthError whose body carries Entra's extra fields (suberror, claims)."""

    def __init__(self, error: str, aadsts: int, message: str, **extra: str) -> None:
        super().__init__(error, aadsts, message)
        self.extra = extra

    def body(self) -> dict:
        return super().body() | self.extra


@dataclass
class Consents:
    """(client id, user id) -> a state other than granted; granted is the default."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    states: dict[tuple[str, str], str] = field(default_factory=dict)

    def state(self, client_id: str, user_id: str) -> str:
        with self.lock:
            return self.states.get((client_id, user_id), GRANTED)

    def set(self, client_id: str, user_id: str, state: str) -> None:
        with self.lock:
            if state == GRANTED:
                self.states.pop((client_id, user_id), None)
            else:
                self.states[(client_id, user_id)] = state


def consents() -> Consents:
    return current_app.extensions.setdefault("entra_consents", Consents())


def on_behalf_of(tenant: Tenant, client: entra_token.ClientCall, form: Mapping[str, str]) -> dict:
    if form.get("requested_token_use") != "on_behalf_of":
        raise missing("requested_token_use")
    assertion = form.get("assertion")
    if not assertion:
        raise missing("assertion")
    raw_scope = form.get("scope")
    if not raw_scope:
        raise missing("scope")
    claims = _read_assertion(tenant, client.app, assertion)
    user = entra_token._active_user(tenant, claims["oid"])
    _require_consent(client.app, user)
    wanted = parse_scope(tenant, raw_scope)
    return entra_token.user_tokens(tenant, client, user, wanted, form)


def _read_assertion(tenant: Tenant, app: App, raw: str) -> dict:
    try:
        claims = tokens.read_token(tenant, raw, [_audience_claim(raw)])
    except tokens.TokenRejected as err:
        if err.expired:
            raise OAuthError(
                "invalid_grant",
                500133,
                "Assertion is not within its valid time range. Ensure that the access token is"
                " not expired before using it for user assertion, or request a new token."
                f" Current time: {time.strftime('%Y-%m-%dT%H:%M:%S')}.",
            ) from err
        if err.reason == tokens.MALFORMED:
            raise _malformed() from err
        raise OAuthError("invalid_grant", 50013, "Assertion failed signature validation.") from err
    if not own_api_audience(claims.get("aud", ""), app.client_id):
        raise OAuthError(
            "invalid_grant",
            50013,
            "Assertion audience does not match the Client app presenting the assertion. The"
            f" audience in the assertion was '{claims.get('aud')}' and the expected audience is"
            f" '{app.client_id}' or one of the Application Id URIs of this application.",
        )
    if claims.get("idtyp") != "user" or not claims.get("oid"):
        raise _malformed()
    return claims


def _audience_claim(raw: str) -> str:
    """The token's own `aud` (checked against the app afterwards, with Entra's wording)."""
    try:
        payload = raw.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(decoded.get("aud", ""))
    except (IndexError, ValueError, AttributeError):
        return ""


def _malformed() -> OAuthError:
    return OAuthError("invalid_grant", 50027, "JWT token is invalid or malformed.")


def own_api_audience(audience: str, client_id: str) -> bool:
    """`aud` names the app's own API: its client id, api://{client id} or api://{host}/{id}."""
    return audience == client_id or (
        audience.startswith("api://") and audience.rstrip("/").rsplit("/", 1)[-1] == client_id
    )


def _require_consent(app: App, user: User) -> None:
    state = consents().state(app.client_id, user.id)
    if state == REVOKED:
        raise GrantError(
            "invalid_grant",
            65001,
            f"The user or administrator has not consented to use the application with ID"
            f" '{app.client_id}' named '{app.display_name}'. Send an interactive authorization"
            " request for this user and resource.",
            suberror="consent_required",
        )
    if state == MFA:
        raise GrantError(
            "interaction_required",
            50079,
            "Due to a configuration change made by your administrator, or because you moved to"
            " a new location, you must enroll in multi-factor authentication to access"
            f" '{app.client_id}'.",
            claims=json.dumps(MFA_CLAIMS, separators=(",", ":")),
        )


GRANTS = {JWT_BEARER: on_behalf_of}


# -- Teams single sign-on ------------------------------------------------------------------


def resource_app(tenant: Tenant, resource: str) -> App | None:
    """The registered app whose API `resource` (api://{host}/{client id}) names."""
    if not resource.startswith("api://"):
        return None
    client_id = resource.rstrip("/").rsplit("/", 1)[-1]
    return tenant.apps.get(client_id)


def teams_token(tenant: Tenant, user: User, resource: str, client_id: str = TEAMS_WEB) -> str:
    """What getAuthToken returns in Teams: aud = the resource, azp = Teams' public client."""
    name = TEAMS_CLIENTS.get(client_id, "SharePoint Online Client Extensibility Web Application")
    teams = App(client_id=client_id, display_name=name, secret="", roles=set())
    return tokens.issue_user_token(
        tenant,
        teams,
        user,
        resource,
        ("access_as_user",),
        tokens.current_lifetime(),
        credential=tokens.APP_CREDENTIAL_PUBLIC,
    )
