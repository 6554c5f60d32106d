"""Calls to the emulator's Entra ID token endpoint that its tests share: an MSAL confidential
client, raw token requests, and reading a token's claims."""

from __future__ import annotations

import jwt
import msal

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]


def confidential(emulator, credential=None, client_id=None) -> msal.ConfidentialClientApplication:
    """A new MSAL app each time: MSAL caches tokens and replays 400 answers for 60 s."""
    return msal.ConfidentialClientApplication(
        client_id or emulator.info["client_id"],
        client_credential=credential or emulator.info["client_secret"],
        authority=emulator.info["authority"],
        instance_discovery=False,
        http_client=emulator.session(),
    )


def claims_of(token: str) -> dict:
    """A JWT's claims, unverified (tests that check signatures do so themselves)."""
    return jwt.decode(token, options={"verify_signature": False})


def post_token(emulator, **form) -> tuple[int, dict]:
    """POSTs `form` to the token endpoint as it is: (status, JSON body)."""
    with emulator.session() as session:
        response = session.post(emulator.info["token_endpoint"], data=form, timeout=10)
    return response.status_code, response.json()


def post_token_as_app(emulator, **form) -> tuple[int, dict]:
    """`post_token` with the main app's client id and secret added to `form`."""
    return post_token(
        emulator,
        client_id=emulator.info["client_id"],
        client_secret=emulator.info["client_secret"],
        **form,
    )
