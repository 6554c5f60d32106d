"""Sign-in through the emulator's real Entra pages, sessions, sign-out, roles, people who lose
access and the delegated Graph token; the tokens Plaza checks itself (bearer tokens, the id
token) are in test_auth_tokens.py."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt

from connector.emulator import tokens as emulator_tokens
from overlay_app import db
from overlay_app.auth import sessions
from overlay_app.auth import views as auth
from sync.db import open_index, transaction
from tests.overlay_app.api_calls import profile

SIGNED_OUT = {"error": {"code": "unauthenticated", "message": "Sign in to continue."}}


def session_rows(app) -> list[tuple]:
    """Who holds a session, read from the app's sessions store (auth.db, or PostgreSQL)."""
    with app.app_context():
        signed_in = (
            f"SELECT person_id FROM {sessions.table('sessions')}"
            " WHERE person_id IS NOT NULL ORDER BY 1"
        )
        return [tuple(row) for row in sessions.store().execute(signed_in).fetchall()]


def token_cache_blobs(app) -> list[tuple]:
    with app.app_context():
        kept = f"SELECT person_id, cache FROM {sessions.table('token_caches')}"
        return [(person, bytes(blob)) for person, blob in sessions.store().execute(kept)]


def cookie_value(response) -> str:
    return response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]


# -- sign-in -------------------------------------------------------------------------------


def test_signin_sends_the_browser_to_the_authority_with_pkce(client, plaza_env):
    answer = client.get("/signin")
    assert answer.status_code == 302
    url = urlsplit(answer.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == (
        f"{plaza_env.info['authority']}/oauth2/v2.0/authorize"
    )
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == plaza_env.info["client_id"]
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == "http://localhost/auth/callback"
    assert sorted(query["scope"].split()) == [
        "Files.Read.All", "Sites.Read.All", "User.Read", "offline_access", "openid", "profile",
    ]  # fmt: skip
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["nonce"]) == 64 and query["state"]


def test_sign_in_through_the_emulator_page(client, sign_in, people, plaza_env, app):
    answer = sign_in(client, people["author"])
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    session_id = cookie_value(answer)
    assert answer.headers["Set-Cookie"] == f"plaza={session_id}; HttpOnly; Path=/; SameSite=Lax"
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.get_json() == profile(plaza_env, people["author"], ["member"])
    author_id = plaza_env.tenant.user(people["author"]).id
    assert session_rows(app) == [(author_id,)]
    # The token cache (with the refresh token) is kept server-side, encrypted.
    [(person_id, blob)] = token_cache_blobs(app)
    assert person_id == author_id
    assert b"refresh" not in blob.lower() and b"RefreshToken" not in blob


def test_https_cookie_has_the_host_prefix_and_secure(make_app, sign_in, people, csrf_token):
    app = make_app(public_url="https://localhost")
    client = app.test_client()
    answer = sign_in(client, people["reader"])
    session_id = cookie_value(answer)
    assert answer.headers["Set-Cookie"] == (
        f"__Host-plaza={session_id}; Secure; HttpOnly; Path=/; SameSite=Lax"
    )
    assert client.get("/api/v1/me").status_code == 200
    token = csrf_token(client)
    ended = client.post("/signout", data={"csrf_token": token} if token else {})
    assert ended.headers["Set-Cookie"] == (
        "__Host-plaza=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly;"
        " Path=/; SameSite=Lax"
    )


def test_a_new_session_id_at_sign_in(client, sign_in, people):
    started = client.get("/signin")
    before = cookie_value(started)
    after = cookie_value(sign_in(client, people["author"]))
    assert before != after
    client.set_cookie("plaza", before)
    assert client.get("/api/v1/me").status_code == 401


def test_sign_in_returns_to_local_next_only(make_app, sign_in, people):
    app = make_app()
    cases = {
        "/people?q=ana": "/people?q=ana",
        "https://evil.example/": "/",
        "//evil.example/x": "/",
        "/\\evil.example": "/",
        "javascript:alert(1)": "/",
    }
    for asked, landed in cases.items():
        answer = sign_in(app.test_client(), people["author"], next_url=asked)
        assert answer.headers["Location"] == landed, asked


def test_callback_with_unknown_state_or_replayed_is_refused(client, sign_in, people):
    stale = client.get("/auth/callback?code=abc&state=nope")
    assert stale.status_code == 400
    assert "This sign-in has expired or was already used" in stale.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_signed_out_pages_redirect_and_api_answers_401(client):
    page = client.get("/people?q=x")
    assert page.status_code == 302
    assert page.headers["Location"] == "/signin?next=%2Fpeople%3Fq%3Dx"
    assert client.get("/nowhere").headers["Location"] == "/signin?next=%2Fnowhere"
    api = client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.get_json() == SIGNED_OUT
    assert api.headers["WWW-Authenticate"] == "Bearer"


# -- timeouts and sign-out -----------------------------------------------------------------


def test_idle_timeout(make_app, clock, sign_in, people, app):
    app = make_app(session_idle_minutes=1)
    client = app.test_client()
    sign_in(client, people["author"])
    for _ in range(3):  # activity keeps the session alive past one idle period
        clock.advance(50)
        assert client.get("/api/v1/me").status_code == 200
    clock.advance(61)
    assert client.get("/api/v1/me").status_code == 401
    assert session_rows(app) == []
    assert client.get("/").headers["Location"] == "/signin?next=%2F"


def test_absolute_timeout(make_app, clock, sign_in, people):
    app = make_app(session_idle_minutes=60, session_max_hours=1)
    client = app.test_client()
    sign_in(client, people["author"])
    clock.advance(59 * 60)
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(2 * 60)
    assert client.get("/api/v1/me").status_code == 401
    assert session_rows(app) == []


def test_sign_out(client, sign_in, people, plaza_env, app, csrf_token):
    sign_in(client, people["author"])
    session_id = client.get_cookie("plaza").value
    token = csrf_token(client)
    answer = client.post("/signout", data={"csrf_token": token} if token else {})
    assert answer.status_code == 302
    back = "http://localhost/signout"
    assert answer.headers["Location"] == (
        f"{plaza_env.info['authority']}/oauth2/v2.0/logout?post_logout_redirect_uri="
        "http%3A%2F%2Flocalhost%2Fsignout"
    )
    assert answer.headers["Set-Cookie"] == (
        "plaza=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/; SameSite=Lax"
    )
    with plaza_env.handle.session() as browser:
        logout = browser.get(answer.headers["Location"], allow_redirects=False, timeout=10)
    assert logout.headers["Location"] == back
    page = client.get("/signout")
    assert "You have signed out" in page.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401
    client.set_cookie("plaza", session_id)  # a copied cookie is dead too
    assert client.get("/api/v1/me").status_code == 401
    assert session_rows(app) == [] and token_cache_blobs(app) == []


def test_delegated_graph_token_is_the_persons_own(client, sign_in, people, plaza_env, app):
    sign_in(client, people["reader"])
    person_id = plaza_env.tenant.user(people["reader"]).id
    with app.test_request_context("/"):
        person = auth.load_person(person_id)
        token = auth.delegated_graph_token(person)
        other = auth.load_person(plaza_env.tenant.user(people["outsider"]).id)
        assert auth.delegated_graph_token(other) is None  # never signed in here
    with plaza_env.handle.session() as graph:
        me = graph.get(
            f"{plaza_env.info['graph_url']}/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    assert me.status_code == 200
    assert me.json()["id"] == person_id


def test_delegated_graph_token_is_refreshed_when_near_expiry(
    fresh_plaza_env, make_app, sign_in, people
):
    app = make_app(env=fresh_plaza_env)
    client = app.test_client()
    handle = fresh_plaza_env.handle
    rule = {"kind": "token_lifetime", "seconds": 60, "count": 1}  # the sign-in's tokens: 1 min
    fresh_plaza_env.control("POST", "/faults", {"rules": [rule]})
    sign_in(client, people["reader"])
    [(_, signed_in_cache)] = token_cache_blobs(app)
    with app.test_request_context("/"):
        person = auth.load_person(handle.tenant.user(people["reader"]).id)
        token = auth.delegated_graph_token(person)  # MSAL refreshes tokens this close to expiry
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3599
    [(_, refreshed_cache)] = token_cache_blobs(app)
    assert refreshed_cache != signed_in_cache


# -- people who lose access, or were never synced ------------------------------------------


def test_disabled_or_deleted_in_entra_loses_access_after_people_sync(
    fresh_plaza_env, make_app, sign_in, people, api, resync
):
    app = make_app(env=fresh_plaza_env)
    author, reader = app.test_client(), app.test_client()
    sign_in(author, people["author"])
    sign_in(reader, people["reader"])
    bearer = api(people["author"], app)
    assert bearer.get("/api/v1/me").status_code == 200
    fresh_plaza_env.control("PATCH", f"/users/{people['author']}", {"account_enabled": False})
    fresh_plaza_env.control("PATCH", f"/users/{people['reader']}", {"deleted": True})
    # Plaza learns it from the next people sync, not before.
    assert author.get("/api/v1/me").status_code == 200
    resync(app, people=True)
    assert author.get("/api/v1/me").status_code == 401
    assert reader.get("/").headers["Location"] == "/signin?next=%2F"
    assert session_rows(app) == [] and token_cache_blobs(app) == []
    refused = bearer.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="The token\'s user cannot use'
        ' Plaza (unknown or disabled)."'
    )


def test_sign_in_refused_to_someone_not_yet_synced(app, client, sign_in, people):
    index = open_index(db.index_location(app.extensions["plaza.settings"]))
    with transaction(index) as conn:  # as if they joined after the last people sync
        conn.execute("DELETE FROM people WHERE upn = ?", [people["author"]])
    index.close()
    answer = sign_in(client, people["author"])
    assert answer.status_code == 403
    assert "Your account cannot use Plaza" in answer.get_data(as_text=True)
    assert session_rows(app) == [] and token_cache_blobs(app) == []
    assert client.get("/api/v1/me").status_code == 401


# -- roles ---------------------------------------------------------------------------------


def test_roles(make_app, sign_in, people, plaza_env, api):
    app = make_app()
    expected = {"admin": ["admin", "member"], "guest": ["guest"], "outsider": ["member"]}
    for who, roles in expected.items():
        client = app.test_client()
        sign_in(client, people[who])
        assert client.get("/api/v1/me").get_json()["roles"] == roles, who
        assert api(people[who], app).get("/api/v1/me").get_json()["roles"] == roles, who


def test_admin_app_role_in_the_token(make_app, people, plaza_env, api):
    app = make_app(admin_group_id="")
    raw = plaza_env.handle.token("api", user=people["reader"])
    claims = jwt.decode(raw, options={"verify_signature": False})
    with_role = emulator_tokens.sign(plaza_env.tenant, {**claims, "roles": ["Plaza.Admin"]})
    caller = api(people["reader"], app)
    assert caller.get("/api/v1/me").get_json()["roles"] == ["member"]
    caller.token = with_role
    assert caller.get("/api/v1/me").get_json()["roles"] == ["admin", "member"]
