"""TokenProvider against the emulator's Entra ID over TLS: every credential kind and refusal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from connector.auth import TokenProvider
from connector.errors import TokenError
from connector.settings import ConnectorSettings


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_client_secret_token_is_cached(emulator, make_settings):
    tokens = TokenProvider(make_settings(emulator))
    first = tokens.token()
    assert claims(first)["appidacr"] == "1"
    assert claims(first)["aud"] == "https://graph.microsoft.com"
    assert tokens.token() == first  # MSAL's cache, no second request


@pytest.mark.parametrize("credential", ["thumbprint", "certificate"])
def test_certificate_tokens(emulator, make_settings, credential):
    """By thumbprint MSAL signs RS256 with x5t; with the public certificate PS256 with x5c."""
    tokens = TokenProvider(make_settings(emulator, credential))
    token = tokens.token()
    assert claims(token)["appidacr"] == "2"
    assert tokens.credential_kind == "certificate"
    sharepoint = tokens.token(emulator.base_url + "/sites/anything")
    assert claims(sharepoint)["aud"] == emulator.base_url


def test_pfx_with_password(emulator, make_env, tmp_path: Path):
    info = emulator.info
    key = serialization.load_pem_private_key(Path(info["cert_key_path"]).read_bytes(), None)
    cert = x509.load_pem_x509_certificate(Path(info["cert_path"]).read_bytes())
    pfx = tmp_path / "app.pfx"
    pfx.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"plaza", key, cert, None, serialization.BestAvailableEncryption(b"pfx-pass")
        )
    )
    env = make_env(emulator, PLAZA_CERT_PFX_PATH=str(pfx), PLAZA_CERT_PFX_PASSWORD="pfx-pass")
    tokens = TokenProvider(ConnectorSettings.from_env(env))
    assert tokens.credential_kind == "pfx"
    assert claims(tokens.token())["appidacr"] == "2"


def test_wrong_secret_is_a_token_error_with_entra_fields(emulator, make_env):
    env = make_env(emulator, PLAZA_CLIENT_SECRET="not-the-secret")
    with pytest.raises(TokenError) as caught:
        TokenProvider(ConnectorSettings.from_env(env)).token()
    error = caught.value
    assert (error.code, error.error_codes) == ("invalid_client", (7000215,))
    assert error.description.startswith("AADSTS7000215: Invalid client secret provided.")
    assert error.correlation_id


def test_unregistered_certificate_is_refused(emulator, make_env, tmp_path: Path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not registered")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    env = make_env(
        emulator,
        "certificate",
        PLAZA_CERT_KEY_PATH=str(tmp_path / "key.pem"),
        PLAZA_CERT_PATH=str(tmp_path / "cert.pem"),
    )
    with pytest.raises(TokenError) as caught:
        TokenProvider(ConnectorSettings.from_env(env)).token()
    assert (caught.value.code, caught.value.error_codes) == ("invalid_client", (700027,))


def test_unknown_client(emulator, make_env):
    env = make_env(emulator, PLAZA_CLIENT_ID="00000000-0000-0000-0000-0000000000ff")
    with pytest.raises(TokenError) as caught:
        TokenProvider(ConnectorSettings.from_env(env)).token()
    assert caught.value.error_codes == (700016,)


def test_ca_bundle_wins_over_requests_ca_bundle(emulator, make_settings, monkeypatch):
    """REQUESTS_CA_BUNDLE naming a bundle without the emulator's CA must not break TLS."""
    system_bundle = requests.certs.where()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", system_bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", system_bundle)
    naive = requests.Session()
    naive.verify = emulator.ca_file  # overridden by the environment: what MSAL would do
    with pytest.raises(requests.exceptions.SSLError):
        naive.get(emulator.base_url + "/v1.0/users", timeout=5)
    tokens = TokenProvider(make_settings(emulator))
    assert claims(tokens.token())["appid"] == emulator.info["client_id"]


def test_invalidate_forgets_the_rejected_token(emulator, make_settings):
    tokens = TokenProvider(make_settings(emulator))
    first = tokens.token()
    tokens.invalidate("graph", "some-other-token")  # not ours: the cache stays
    assert tokens.token() == first
    tokens.invalidate("graph", first)
    assert tokens.token() != first
