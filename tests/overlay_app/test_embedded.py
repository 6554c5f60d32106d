"""Embedded mode: Teams single sign-on, Plaza tokens, the on-behalf-of exchange, frame-ancestors.

Tokens come from the emulator's Teams host over HTTPS (signed in as the person, then
`POST /_emulator/teams/token`, which is what the host page's getAuthToken calls), and are traded
at Plaza's real `POST /api/v1/embedded/session`, which validates them and exchanges them with
MSAL's on-behalf-of call against the emulator's token endpoint.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from overlay_app.headers import MICROSOFT_TAB_HOSTS

TEAMS_WEB = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"
TEAMS_JS = Path(__file__).parents[2] / "overlay_app/static/vendor/teams-js/MicrosoftTeams.min.js"
TEAMS_JS_SHA256 = "1737ae2e319c8ab56d71d2218fd5a49d96a8ad70eb01ff2e9ab7e35093b93379"


def host_session(env: Any, upn: str) -> requests.Session:
    """A requests session signed in to the emulator's Teams host as `upn`."""
    session = env.handle.session()
    signed = session.post(
        f"{env.handle.base_url}/_emulator/host/signin",
        data={"login": upn, "password": env.info["password"], "next": "/_emulator/teams/"},
        allow_redirects=False,
        timeout=30,
    )
    assert signed.status_code == 303, signed.text
    return session


def teams_token(env: Any, upn: str, resource: str) -> str:
    with host_session(env, upn) as session:
        answer = session.post(
            f"{env.handle.base_url}/_emulator/teams/token", json={"resource": resource}, timeout=30
        )
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def other_app(env: Any) -> str:
    """Another app registered in the tenant (its API is not Plaza's)."""
    return next(client for client in env.tenant.apps if client != env.info["client_id"])


def resource_of(app: Flask) -> str:
    return app.extensions["plaza.settings"].sso_resource


def start(app: Flask, token: str):
    return app.test_client().post("/api/v1/embedded/session", json={"token": token})


def plaza_token(app: Flask, upn: str) -> str:
    answer = start(app, teams_token(app.extensions["plaza.test_env"], upn, resource_of(app)))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["token"]


def call(app: Flask, token: str, method: str, path: str, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} | kwargs.pop("headers", {})
    return app.test_client().open(path, method=method, headers=headers, **kwargs)


def set_consent(env: Any, upn: str, state: str) -> None:
    env.control("POST", "/consent", {"user": upn, "state": state})


@pytest.fixture
def doc_path(document: tuple[str, str]) -> str:
    return f"/api/v1/documents/{document[0]}/{document[1]}"


# -- the emulator's Teams tokens and on-behalf-of grant ---------------------------------------


def test_teams_hands_a_token_for_the_sso_resource_issued_to_teams(app: Flask, people) -> None:
    env = app.extensions["plaza.test_env"]
    import jwt

    token = teams_token(env, people["author"], resource_of(app))
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == f"api://localhost/{env.info['client_id']}"
    assert (claims["azp"], claims["scp"], claims["azpacr"]) == (TEAMS_WEB, "access_as_user", "0")
    assert claims["upn"] == people["author"]


def obo(env: Any, assertion: str, scope: str = "https://graph.microsoft.com/.default") -> dict:
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "requested_token_use": "on_behalf_of",
        "assertion": assertion,
        "scope": scope,
        "client_id": env.info["client_id"],
        "client_secret": env.info["client_secret"],
    }
    with env.handle.session() as session:
        return session.post(env.info["token_endpoint"], data=form, timeout=30).json()


def test_the_obo_grant_answers_as_entra_does(app: Flask, people) -> None:
    env = app.extensions["plaza.test_env"]
    good = teams_token(env, people["author"], resource_of(app))
    granted = obo(env, good)
    assert granted["token_type"] == "Bearer" and granted["access_token"]
    other_api = teams_token(env, people["author"], f"api://localhost/{other_app(env)}")
    assert obo(env, other_api)["error_codes"] == [50013]
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    assert (obo(env, tampered)["error"], obo(env, tampered)["error_codes"]) == (
        "invalid_grant",
        [50013],
    )
    set_consent(env, people["author"], "revoked")
    try:
        refused = obo(env, good)
        assert (refused["error"], refused["suberror"], refused["error_codes"]) == (
            "invalid_grant",
            "consent_required",
            [65001],
        )
        set_consent(env, people["author"], "mfa")
        mfa = obo(env, good)
        assert (mfa["error"], mfa["error_codes"]) == ("interaction_required", [50079])
        assert "claims" in mfa
    finally:
        set_consent(env, people["author"], "granted")


# -- Plaza's embedded session -----------------------------------------------------------------


def test_a_teams_token_becomes_a_plaza_token_that_reads_what_the_person_may(
    app: Flask, people, doc_path: str
) -> None:
    author = plaza_token(app, people["author"])
    outsider = plaza_token(app, people["outsider"])
    assert author.startswith("plz1.")
    posted = call(app, author, "POST", doc_path + "/comments", json={"body": "From Teams"})
    assert posted.status_code == 201, posted.get_json()
    listed = call(app, author, "GET", doc_path + "/comments").get_json()
    assert [c["body"] for c in listed["comments"]] == ["From Teams"]
    hidden = call(app, outsider, "GET", doc_path + "/comments")
    missing = call(app, outsider, "GET", "/api/v1/documents/b!nothere/01NOTHERE/comments")
    assert (hidden.status_code, hidden.get_json()) == (missing.status_code, missing.get_json())
    assert hidden.status_code == 404


def test_the_session_answer_carries_no_graph_token(app: Flask, people) -> None:
    env = app.extensions["plaza.test_env"]
    answer = start(app, teams_token(env, people["reader"], resource_of(app)))
    body = answer.get_json()
    assert sorted(body) == ["expiresIn", "person", "token", "tokenType"]
    assert body["expiresIn"] == 15 * 60 and answer.headers["Cache-Control"] == "no-store"


def test_tokens_for_other_audiences_and_garbage_are_refused(app: Flask, people) -> None:
    env = app.extensions["plaza.test_env"]
    other = teams_token(env, people["author"], f"api://localhost/{other_app(env)}")
    assert start(app, other).status_code == 401
    assert start(app, "not-a-token").status_code == 401
    assert app.test_client().post("/api/v1/embedded/session", json={}).status_code == 400
    assert call(app, "plz1.forged", "GET", "/api/v1/me").status_code == 401


def test_consent_required_is_a_403_the_page_can_act_on(app: Flask, people) -> None:
    env = app.extensions["plaza.test_env"]
    set_consent(env, people["reader"], "revoked")
    try:
        answer = start(app, teams_token(env, people["reader"], resource_of(app)))
    finally:
        set_consent(env, people["reader"], "granted")
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "consentRequired"
    assert start(app, teams_token(env, people["reader"], resource_of(app))).status_code == 200


def test_sign_out_and_expiry_leave_nothing_usable(app: Flask, people, clock) -> None:
    token = plaza_token(app, people["author"])
    assert call(app, token, "GET", "/api/v1/me").status_code == 200
    assert call(app, token, "DELETE", "/api/v1/embedded/session").status_code == 204
    assert call(app, token, "GET", "/api/v1/me").status_code == 401
    later = plaza_token(app, people["author"])
    clock.advance(15 * 60 + 1)
    assert call(app, later, "GET", "/api/v1/me").status_code == 401


def test_a_bearer_call_uses_the_token_not_the_cookie_and_needs_no_csrf(
    app: Flask, people, sign_in
) -> None:
    client = app.test_client()
    sign_in(client, people["reader"])
    token = plaza_token(app, people["author"])
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    env = app.extensions["plaza.test_env"]
    assert me["upn"] == people["author"] == env.tenant.user(me["id"]).user_principal_name
    cookie_write = client.put("/api/v1/documents/x/y/like")  # the cookie alone: CSRF applies
    assert cookie_write.status_code == 400


def test_the_live_check_of_an_embedded_caller_asks_graph_as_them(
    make_app, fresh_plaza_env, people, document
) -> None:
    app = make_app(env=fresh_plaza_env, live_check_seconds=0)
    token = plaza_token(app, people["reader"])
    path = f"/api/v1/documents/{document[0]}/{document[1]}/comments"
    assert call(app, token, "GET", path).status_code == 200
    fresh_plaza_env.revoke_everyone_but(*document, people["author"])  # no sync since
    assert call(app, token, "GET", path).status_code == 404


# -- frames -----------------------------------------------------------------------------------


def frame_ancestors(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    directive = next(d for d in policy.split("; ") if d.startswith("frame-ancestors "))
    return directive.split()[1:]


def test_embedded_pages_may_be_framed_by_microsoft_and_the_tenant_only(make_app) -> None:
    app = make_app(sharepoint_host="contoso.sharepoint.com")
    client = app.test_client()
    expected = [*MICROSOFT_TAB_HOSTS, "https://contoso.sharepoint.com"]
    for path in ("/teams/tab/home", "/teams/config", "/embed/documents/b!x/01Y"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert frame_ancestors(page) == expected
        assert "Set-Cookie" not in page.headers
    assert frame_ancestors(client.get("/signout")) == ["'self'"]
    assert client.get("/teams/tab/pin?target=evil").status_code == 400


def test_the_teams_library_is_the_pinned_npm_build() -> None:
    assert hashlib.sha256(TEAMS_JS.read_bytes()).hexdigest() == TEAMS_JS_SHA256


def test_an_entra_bearer_callers_live_check_is_exchanged_on_their_behalf(
    make_app, fresh_plaza_env, people, document
) -> None:
    """The app itself may read nothing (no roles), so only the on-behalf-of token can see the
    revocation: while consent is withheld the check falls back and cannot tell."""
    env = fresh_plaza_env
    env.control("PUT", f"/apps/{env.info['client_id']}/roles", {"roles": []})
    app = make_app(env=env, live_check_seconds=0)
    token = env.handle.token("api", user=people["reader"])
    path = f"/api/v1/documents/{document[0]}/{document[1]}/comments"
    assert call(app, token, "GET", path).status_code == 200
    env.revoke_everyone_but(*document, people["author"])  # no sync since
    set_consent(env, people["reader"], "revoked")
    assert call(app, token, "GET", path).status_code == 200  # app-only check: not answered
    set_consent(env, people["reader"], "granted")
    # A new token, as a client gets after the consent prompt (MSAL answers a refused
    # assertion from its own memory for a while, as Entra would throttle it).
    token = env.handle.token("api", user=people["reader"])
    assert call(app, token, "GET", path).status_code == 404
