"""Entra ID of the emulator for apps (no person signed in), driven by MSAL and requests over
real TLS: discovery and signing keys, client credentials with a secret or a certificate and
their errors, and app tokens presented to Graph. People signing in: test_entra_sign_in.py."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.emulator import generator, tokens
from tests.connector.emulator.entra_calls import (
    GRAPH_SCOPE,
    claims_of,
    confidential,
    post_token,
    post_token_as_app,
)

WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize",'
    ' client_id="00000003-0000-0000-c000-000000000000"'
)


# -- discovery -----------------------------------------------------------------------------


def test_discovery_document_names_the_tenant_endpoints(emulator):
    base, tenant_id = emulator.base_url, emulator.info["tenant_id"]
    with emulator.session() as session:
        v2 = session.get(f"{emulator.info['authority']}/v2.0/.well-known/openid-configuration")
        v1 = session.get(f"{emulator.info['authority']}/.well-known/openid-configuration")
        by_domain = session.get(
            f"{base}/{emulator.tenant.domain}/v2.0/.well-known/openid-configuration"
        )
        common = session.get(f"{base}/common/v2.0/.well-known/openid-configuration")
    doc = v2.json()
    assert v2.status_code == 200
    assert doc["issuer"] == f"{base}/{tenant_id}/v2.0"
    assert doc["token_endpoint"] == f"{base}/{tenant_id}/oauth2/v2.0/token"
    assert doc["authorization_endpoint"] == f"{base}/{tenant_id}/oauth2/v2.0/authorize"
    assert doc["end_session_endpoint"] == f"{base}/{tenant_id}/oauth2/v2.0/logout"
    assert doc["jwks_uri"] == f"{base}/{tenant_id}/discovery/v2.0/keys"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"client_secret_post", "private_key_jwt"} <= set(
        doc["token_endpoint_auth_methods_supported"]
    )
    assert v1.json() == doc
    assert by_domain.json() == doc
    assert common.json()["issuer"] == f"{base}/{{tenantid}}/v2.0"
    assert common.json()["token_endpoint"] == f"{base}/common/oauth2/v2.0/token"


def test_unknown_tenant_is_aadsts90002(emulator):
    with emulator.session() as session:
        response = session.get(
            f"{emulator.base_url}/nobody.example/v2.0/.well-known/openid-configuration"
        )
    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "invalid_tenant"
    assert body["error_codes"] == [90002]
    assert body["error_description"].startswith("AADSTS90002: Tenant 'nobody.example' not found.")


def test_tokens_verify_against_the_published_keys(emulator):
    token = emulator.token()
    with emulator.session() as session:
        keys = session.get(f"{emulator.info['authority']}/discovery/v2.0/keys").json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK(k) for k in keys if k["kid"] == kid)
    claims = jwt.decode(
        token, key.key, algorithms=["RS256"], audience="https://graph.microsoft.com"
    )
    app = emulator.tenant.apps[emulator.info["client_id"]]
    assert claims["iss"] == f"{emulator.info['authority']}/v2.0"
    assert claims["tid"] == emulator.info["tenant_id"]
    assert claims["roles"] == sorted(generator.ALL_ROLES)
    assert claims["oid"] == claims["sub"] == tokens.service_principal_id(app)
    assert (claims["appid"], claims["azp"], claims["appidacr"]) == (
        app.client_id,
        app.client_id,
        "1",
    )
    assert (claims["idtyp"], claims["ver"]) == ("app", "2.0")
    assert claims["exp"] - claims["iat"] == 3599
    assert "scp" not in claims


# -- client credentials --------------------------------------------------------------------


def test_client_credentials_with_secret(emulator):
    result = confidential(emulator).acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert result["token_type"] == "Bearer"
    assert 3590 <= result["expires_in"] <= 3599
    assert claims_of(result["access_token"])["appidacr"] == "1"


def test_client_secret_in_basic_auth(emulator):
    app = emulator.tenant.apps[emulator.info["client_id"]]
    with emulator.session() as session:
        response = session.post(
            emulator.info["token_endpoint"],
            data={"grant_type": "client_credentials", "scope": GRAPH_SCOPE[0]},
            auth=(app.client_id, app.secret),
        )
    assert response.status_code == 200
    assert response.json()["ext_expires_in"] == 3599
    assert response.headers["Cache-Control"] == "no-store, no-cache"


def test_client_credentials_with_certificate_thumbprint_rs256(emulator):
    credential = {
        "private_key": Path(emulator.info["cert_key_path"]).read_text(),
        "thumbprint": emulator.info["cert_thumbprint"],
    }
    result = confidential(emulator, credential).acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert claims_of(result["access_token"])["appidacr"] == "2"


def test_client_credentials_with_public_certificate_ps256(emulator):
    credential = {
        "private_key": Path(emulator.info["cert_key_path"]).read_text(),
        "public_certificate": Path(emulator.info["cert_path"]).read_text(),
    }
    base = emulator.info["authority"]
    result = confidential(emulator, credential).acquire_token_for_client(
        scopes=[f"{emulator.base_url}/.default"]
    )
    claims = claims_of(result["access_token"])
    assert (claims["aud"], claims["appidacr"]) == (emulator.base_url, "2")
    assert claims["iss"] == f"{base}/v2.0"


def test_wrong_secret_is_invalid_client_7000215(emulator):
    result = confidential(emulator, "not-the-secret").acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    status, body = post_token(
        emulator,
        grant_type="client_credentials",
        client_id=emulator.info["client_id"],
        client_secret="nope",
        scope=GRAPH_SCOPE[0],
    )
    assert status == 401
    assert set(body) == {
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    }
    assert "\r\nTrace ID: " in body["error_description"]
    assert body["error_uri"] == "https://login.microsoftonline.com/error?code=7000215"


def test_unknown_client_is_700016(emulator):
    status, body = post_token(
        emulator,
        grant_type="client_credentials",
        client_id="11111111-2222-3333-4444-555555555555",
        client_secret="x",
        scope=GRAPH_SCOPE[0],
    )
    assert (status, body["error"], body["error_codes"]) == (400, "unauthorized_client", [700016])


@pytest.mark.parametrize(
    ("scope", "error", "code"),
    [
        ("https://graph.microsoft.com/User.Read.All", "invalid_scope", 70011),
        ("https://example.com/.default", "invalid_resource", 500011),
        ("https://graph.microsoft.com/.default api://x/.default", "invalid_scope", 28000),
    ],
)
def test_client_credentials_scope_errors(emulator, scope, error, code):
    status, body = post_token_as_app(
        emulator,
        grant_type="client_credentials",
        scope=scope,
    )
    assert (status, body["error"], body["error_codes"]) == (400, error, [code])


def _assertion(emulator, key_pem: bytes | None = None, **changes) -> str:
    """A client assertion like MSAL's, optionally signed by another key or with other claims."""
    thumbprint = tokens.b64url(bytes.fromhex(emulator.info["cert_thumbprint"]))
    now = time.time()
    claims = {
        "aud": emulator.info["token_endpoint"],
        "iss": emulator.info["client_id"],
        "sub": emulator.info["client_id"],
        "jti": "j",
        "iat": now,
        "exp": now + 600,
        **changes,
    }
    key = serialization.load_pem_private_key(
        key_pem or Path(emulator.info["cert_key_path"]).read_bytes(), password=None
    )
    return jwt.encode(claims, key, algorithm="RS256", headers={"x5t": thumbprint})


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"exp": time.time() - 60}, 700024),
        ({"aud": "https://login.microsoftonline.com/x/oauth2/v2.0/token"}, 700023),
        ({"iss": "someone-else"}, 700021),
        ({"other_key": True}, 700027),
    ],
)
def test_bad_client_assertions_are_invalid_client(emulator, changes, code):
    other_key = None
    if changes.pop("other_key", False):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        other_key = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    status, body = post_token(
        emulator,
        grant_type="client_credentials",
        client_id=emulator.info["client_id"],
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion=_assertion(emulator, other_key, **changes),
        scope=GRAPH_SCOPE[0],
    )
    assert (status, body["error"], body["error_codes"]) == (401, "invalid_client", [code])


def test_v1_style_assertion_audience_is_accepted(emulator):
    v1_url = f"{emulator.info['authority']}/oauth2/token"
    status, body = post_token(
        emulator,
        grant_type="client_credentials",
        client_id=emulator.info["client_id"],
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion=_assertion(emulator, aud=v1_url),
        scope=GRAPH_SCOPE[0],
    )
    assert status == 200, body


def test_limited_app_has_only_its_roles_and_certificate_belongs_to_main_app(emulator):
    limited = list(emulator.tenant.apps.values())[1]
    claims = claims_of(emulator.token(client_id=limited.client_id))
    assert claims["roles"] == ["User.Read.All"]
    assert limited.cert_pem == b""


def test_api_audience_token(emulator):
    result = confidential(emulator).acquire_token_for_client(scopes=[emulator.info["api_scope"]])
    claims = claims_of(result["access_token"])
    assert claims["aud"] == f"api://{emulator.info['client_id']}"
    assert "roles" not in claims


# -- tokens at Graph -----------------------------------------------------------------------


def _graph_get(emulator, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    with emulator.session() as session:
        return session.get(f"{emulator.info['graph_url']}/users", headers=headers)


def test_expired_token_is_401_with_graph_header(emulator):
    app = emulator.tenant.apps[emulator.info["client_id"]]
    token = tokens.issue_app_token(emulator.tenant, app, "graph", False, lifetime=-5)
    response = _graph_get(emulator, token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == WWW_AUTHENTICATE
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert error["message"] == "Access token has expired or is not yet valid."
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("sharepoint", "Access token validation failure. Invalid audience."),
        ("garbage", "CompactToken parsing failed with error code: 80049217"),
        (None, "Access token is empty."),
    ],
)
def test_bad_tokens_are_401(emulator, token, message):
    if token == "sharepoint":
        token = emulator.token("sharepoint", certificate=True)
    response = _graph_get(emulator, token)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == message
    assert response.headers["WWW-Authenticate"] == WWW_AUTHENTICATE


def test_token_lifetime_fault_shortens_tokens(fresh_emulator):
    with fresh_emulator.session() as session:
        rule = {"kind": "token_lifetime", "seconds": 1}
        assert session.post(
            f"{fresh_emulator.base_url}/_emulator/faults", json={"rules": [rule]}
        ).ok
    result = confidential(fresh_emulator).acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert result["expires_in"] <= 1
    time.sleep(1.1)
    response = _graph_get(fresh_emulator, result["access_token"])
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Access token has expired or is not yet valid."
