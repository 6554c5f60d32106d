"""Entra ID of the emulator for people signing in, driven by MSAL and requests over real TLS:
the authorize page, the authorization code flow with PKCE and refresh, form_post, the password
grant (ROPC), logout and client_info. Apps without a person: test_entra_apps.py."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import msal
import pytest

from connector.emulator import server
from connector.emulator.entra_oauth import CONSENTED_GRAPH
from tests.connector.emulator.entra_calls import claims_of, confidential, post_token_as_app

REDIRECT_URI = "http://localhost:5000/getAToken"


class Forms(HTMLParser):
    """The forms of a page: (action, {input name: value}) in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append((attributes.get("action") or "", {}))
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1][1][attributes["name"]] = attributes.get("value") or ""


def forms_of(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def sign_in(emulator, auth_uri: str, upn: str, password: str | None = None):
    """GETs the sign-in page, posts the credentials form; returns the (unfollowed) answer."""
    with emulator.session() as session:
        page = session.get(auth_uri, timeout=10)
        assert page.status_code == 200
        action, fields = forms_of(page.text)[0]
        fields.update(login=upn, password=password or emulator.info["password"])
        return session.post(urljoin(auth_uri, action), data=fields, allow_redirects=False)


# -- sign-in: authorization code, refresh, ROPC ---------------------------------------------


def test_auth_code_flow_with_pkce_then_refresh(emulator):
    app = confidential(emulator)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT_URI)
    upn = emulator.info["users"][0]
    answer = sign_in(emulator, flow["auth_uri"], upn)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    auth_response = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert auth_response["state"] == flow["state"]

    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    user = emulator.tenant.user(upn)
    assert result["id_token_claims"]["oid"] == user.id
    assert result["id_token_claims"]["preferred_username"] == upn
    assert result["id_token_claims"]["aud"] == emulator.info["client_id"]
    assert claims_of(result["access_token"])["scp"] == " ".join(CONSENTED_GRAPH)
    account = app.get_accounts()[0]
    assert account["home_account_id"] == f"{user.id}.{emulator.info['tenant_id']}"

    refreshed = app.acquire_token_silent(["User.Read"], account=account, force_refresh=True)
    assert refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != result["access_token"]
    assert claims_of(refreshed["access_token"])["oid"] == user.id

    # A code is single use (Entra: AADSTS54005).
    status, body = post_token_as_app(
        emulator,
        grant_type="authorization_code",
        code=auth_response["code"],
        redirect_uri=REDIRECT_URI,
        code_verifier=flow["code_verifier"],
    )
    assert (status, body["error"], body["error_codes"]) == (400, "invalid_grant", [54005])


def test_pkce_verifier_must_match(emulator):
    app = confidential(emulator)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT_URI)
    answer = sign_in(emulator, flow["auth_uri"], emulator.info["users"][1])
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    status, body = post_token_as_app(
        emulator,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier="x" * 43,
    )
    assert (status, body["error"], body["error_codes"]) == (400, "invalid_grant", [501481])


def test_form_post_response_mode(emulator):
    app = confidential(emulator)
    flow = app.initiate_auth_code_flow(
        ["User.Read"], redirect_uri=REDIRECT_URI, response_mode="form_post"
    )
    answer = sign_in(emulator, flow["auth_uri"], emulator.info["users"][2])
    assert answer.status_code == 200
    action, fields = forms_of(answer.text)[0]
    assert action == REDIRECT_URI
    assert set(fields) == {"code", "state", "session_state"}
    result = app.acquire_token_by_auth_code_flow(flow, fields)
    assert result["id_token_claims"]["preferred_username"] == emulator.info["users"][2]


def test_sign_in_page_lists_people_and_rejects_a_wrong_password(emulator):
    app = confidential(emulator)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT_URI)
    with emulator.session() as session:
        page = session.get(flow["auth_uri"])
    people = [fields["login"] for _, fields in forms_of(page.text)[1:]]
    listed = emulator.info["users"]
    members = [u for u in listed if "#EXT#" not in u]
    guests = [u for u in listed if "#EXT#" in u]
    assert people == members[:24] + guests[:3]
    answer = sign_in(emulator, flow["auth_uri"], emulator.info["users"][0], password="wrong")
    assert answer.status_code == 200
    assert "AADSTS50126: Error validating credentials due to invalid username or password." in (
        answer.text
    )


def test_unregistered_redirect_uri_is_refused_on_the_page(emulator):
    limited = list(emulator.tenant.apps.values())[1]
    app = confidential(emulator, limited.secret, limited.client_id)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT_URI)
    with emulator.session() as session:
        page = session.get(flow["auth_uri"], allow_redirects=False)
    assert page.status_code == 400
    assert "AADSTS50011: The redirect URI &#x27;http://localhost:5000/getAToken&#x27;" in page.text


@pytest.fixture
def no_user_realm_discovery(monkeypatch):
    """MSAL's ROPC first asks `https://{hostname}/common/userrealm/...` with the port dropped
    (msal/authority.py uses the bare hostname), i.e. localhost:443 here. MSAL skips hosts it
    has seen answer 404; mark localhost as such."""
    monkeypatch.setattr(
        msal.authority.Authority, "_domains_without_user_realm_discovery", {"localhost"}
    )


def test_password_grant(emulator, no_user_realm_discovery):
    guest = emulator.info["users"][-1]
    assert "#EXT#" in guest
    for upn in (emulator.info["users"][0], guest):
        result = confidential(emulator).acquire_token_by_username_password(
            upn, emulator.info["password"], scopes=["User.Read"]
        )
        assert result["id_token_claims"]["preferred_username"] == upn
        assert claims_of(result["access_token"])["upn"] == upn


def test_password_grant_errors(emulator, no_user_realm_discovery):
    disabled = next(u for u in emulator.tenant.users.values() if not u.account_enabled)
    app = confidential(emulator)
    wrong = app.acquire_token_by_username_password(
        emulator.info["users"][0], "wrong", scopes=["User.Read"]
    )
    off = app.acquire_token_by_username_password(
        disabled.user_principal_name, emulator.info["password"], scopes=["User.Read"]
    )
    assert (wrong["error"], wrong["error_codes"]) == ("invalid_grant", [50126])
    assert (off["error"], off["error_codes"]) == ("invalid_grant", [50057])


def test_logout_goes_back_to_the_app(emulator):
    with emulator.session() as session:
        answer = session.get(
            f"{emulator.info['authority']}/oauth2/v2.0/logout",
            params={"post_logout_redirect_uri": "http://localhost:5000/"},
            allow_redirects=False,
        )
    assert (answer.status_code, answer.headers["Location"]) == (302, "http://localhost:5000/")


def test_client_info_is_base64url_json(emulator):
    status, body = post_token_as_app(
        emulator,
        grant_type="password",
        username=emulator.info["users"][0],
        password=emulator.info["password"],
        scope="User.Read openid profile offline_access",
        client_info="1",
    )
    assert status == 200
    padded = body["client_info"] + "=" * (-len(body["client_info"]) % 4)
    info = json.loads(base64.urlsafe_b64decode(padded))
    user = emulator.tenant.user(emulator.info["users"][0])
    assert info == {"uid": user.id, "utid": emulator.info["tenant_id"]}
    assert set(body) >= {"access_token", "id_token", "refresh_token", "scope", "expires_in"}
    assert server.OIDC_SCOPES.split() == ["openid", "profile", "offline_access"]
