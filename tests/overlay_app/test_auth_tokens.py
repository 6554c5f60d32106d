"""The tokens Plaza checks itself: bearer tokens on the API (a valid one, and each way one is
refused, with the WWW-Authenticate header saying why) and the id token of a sign-in, which MSAL
does not validate (audience, expiry, issuer, nonce, signing key). Sign-in itself is in
test_auth.py."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from connector.emulator import entra_token
from connector.emulator import tokens as emulator_tokens
from overlay_app.auth import views as auth
from overlay_app.auth.entra import SignInFailed, nonce_hash
from tests.overlay_app.api_calls import profile

UNTRUSTED = "the sign-in answer could not be trusted"

# -- bearer tokens -------------------------------------------------------------------------


def test_bearer_token_valid(app, api, people, plaza_env):
    answer = api(people["author"]).get("/api/v1/me")
    assert answer.status_code == 200
    assert answer.get_json() == profile(plaza_env, people["author"], ["member"])
    assert "Set-Cookie" not in answer.headers


def _forged(plaza_env, upn: str, **changes) -> str:
    raw = plaza_env.handle.token("api", user=upn)
    claims = jwt.decode(raw, options={"verify_signature": False})
    return emulator_tokens.sign(plaza_env.tenant, {**claims, **changes})


def _tampered(plaza_env, upn: str, other_oid: str) -> str:
    header, payload, signature = plaza_env.handle.token("api", user=upn).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["oid"] = other_oid
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("case", "description"),
    [
        ("expired", "The access token has expired."),
        ("graph audience", "The access token is not for Plaza's API (audience)."),
        ("wrong issuer", "The access token is not from Plaza's tenant (issuer)."),
        ("other tenant", "The access token is not valid."),
        ("tampered", "The access token's signature is not valid."),
        ("app only", "Plaza's API takes delegated tokens (signed-in people) only."),
        ("garbage", "The access token is not valid."),
    ],
)
def test_bearer_token_refused(app, people, plaza_env, case, description):
    upn = people["author"]
    tenant = plaza_env.tenant
    token = {
        "expired": lambda: _forged(plaza_env, upn, exp=1_600_000_000, iat=1_599_990_000),
        "graph audience": lambda: plaza_env.handle.token("graph", user=upn),
        "wrong issuer": lambda: _forged(
            plaza_env, upn, iss=f"https://login.microsoftonline.com/{tenant.tenant_id}/v2.0"
        ),
        "other tenant": lambda: _forged(plaza_env, upn, tid="00000000-0000-0000-0000-000000000001"),
        "tampered": lambda: _tampered(plaza_env, upn, tenant.user(people["reader"]).id),
        "app only": lambda: plaza_env.handle.token("api"),
        "garbage": lambda: "not-a-jwt",
    }[case]()
    answer = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.get_json() == {"error": {"code": "unauthenticated", "message": description}}
    assert answer.headers["WWW-Authenticate"] == (
        f'Bearer error="invalid_token", error_description="{description.replace(chr(34), chr(39))}"'
    )


OTHER_CLIENT = "The access token was issued to a client app Plaza does not accept."


def _other_clients_token(plaza_env, upn: str) -> tuple[str, str]:
    """A real delegated token for Plaza's API, issued by the emulator to the tenant's other
    registered app (the "users only" one): (its client id, the token)."""
    plaza_id = plaza_env.info["client_id"]
    other = next(app for app in plaza_env.tenant.apps.values() if app.client_id != plaza_id)
    form = {
        "grant_type": "password",
        "client_id": other.client_id,
        "client_secret": other.secret,
        "username": upn,
        "password": plaza_env.tenant.password,
        "scope": f"api://{plaza_id}/.default openid profile offline_access",
    }
    with plaza_env.handle.session() as session:
        answer = session.post(plaza_env.info["token_endpoint"], data=form, timeout=30)
    token = answer.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["aud"], claims["azp"]) == (f"api://{plaza_id}", other.client_id)
    return other.client_id, token


def test_bearer_token_of_another_client_app_refused(app, people, plaza_env):
    _, token = _other_clients_token(plaza_env, people["author"])
    answer = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.get_json() == {"error": {"code": "unauthenticated", "message": OTHER_CLIENT}}
    assert answer.headers["WWW-Authenticate"] == (
        f'Bearer error="invalid_token", error_description="{OTHER_CLIENT}"'
    )


def test_bearer_token_of_a_client_app_named_in_the_settings_accepted(make_app, people, plaza_env):
    client_id, token = _other_clients_token(plaza_env, people["author"])
    app = make_app(api_clients=f"00000000-0000-0000-0000-0000000000aa, {client_id}")
    answer = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.get_json() == profile(plaza_env, people["author"], ["member"])


def test_a_v1_token_names_its_client_app_in_appid(app, people, plaza_env):
    _, token = _other_clients_token(plaza_env, people["author"])
    claims = jwt.decode(token, options={"verify_signature": False})
    # v1.0 tokens name the client in `appid`: an `azp` claiming Plaza's own does not count.
    v1 = {**claims, "ver": "1.0", "azp": plaza_env.info["client_id"]}
    forged = emulator_tokens.sign(plaza_env.tenant, v1)
    answer = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    assert answer.get_json() == {"error": {"code": "unauthenticated", "message": OTHER_CLIENT}}


# -- the id token, which MSAL does not validate ----------------------------------------------


def _id_token(plaza_env, upn: str, sent_nonce: str, **changes) -> str:
    tenant = plaza_env.tenant
    app = tenant.apps[plaza_env.info["client_id"]]
    raw = entra_token.id_token(tenant, app, tenant.user(upn), frozenset(), sent_nonce)
    claims = jwt.decode(raw, options={"verify_signature": False})
    return emulator_tokens.sign(tenant, {**claims, **changes})


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"aud": "someone-else"}, f"{UNTRUSTED} (Audience doesn't match)"),
        ({"exp": 1_600_000_000}, f"{UNTRUSTED} (Signature has expired)"),
        ({"iss": "https://login.microsoftonline.com/x/v2.0"}, f"{UNTRUSTED} (Invalid issuer)"),
        ({"nonce": nonce_hash("another sign-in")},
         "the sign-in answer does not belong to this sign-in (nonce)"),
    ],
)  # fmt: skip
def test_id_token_is_validated(app, plaza_env, people, changes, problem):
    with app.test_request_context("/"):
        checker = auth.entra()
        good = _id_token(plaza_env, people["author"], nonce_hash("secret"))
        claims = checker.check_id_token(good, "secret")
        assert claims["oid"] == plaza_env.tenant.user(people["author"]).id
        bad = _id_token(plaza_env, people["author"], nonce_hash("secret"), **changes)
        with pytest.raises(SignInFailed) as refused:
            checker.check_id_token(bad, "secret")
    assert str(refused.value) == problem


def test_id_token_signed_by_another_key_is_refused(app, plaza_env, people):
    from cryptography.hazmat.primitives.asymmetric import rsa

    good = _id_token(plaza_env, people["author"], nonce_hash("secret"))
    claims = jwt.decode(good, options={"verify_signature": False})
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(good)["kid"]
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": kid})
    with app.test_request_context("/"), pytest.raises(SignInFailed) as refused:
        auth.entra().check_id_token(forged, "secret")
    assert str(refused.value) == (
        "the sign-in answer could not be trusted (Signature verification failed)"
    )
