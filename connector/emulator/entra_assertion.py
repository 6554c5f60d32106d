"""Checks a certificate client assertion (RFC 7523 `private_key_jwt`) the way Entra does.

Entra finds the registered certificate by the assertion header's `x5t` (SHA-1, base64url) or
`x5t#S256` (SHA-256), verifies the RS256 or PS256 signature with it, then the claims:
`iss` = `sub` = client id, `aud` = its token endpoint, `exp` in the future (`nbf` optional).
MSAL writes `exp`/`iat` as floats and no `nbf` (PROTOCOL.md 5.1); all of that is accepted.
All failures are `invalid_client` (401).
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from connector.emulator.entra_oauth import OAuthError
from connector.emulator.model import App

ALGORITHMS = ("RS256", "PS256")
CLOCK_SKEW = 300  # seconds of leeway on `nbf`
DOC = "https://learn.microsoft.com/entra/identity-platform/certificate-credentials"


def verify(app: App, assertion: str, audiences: frozenset[str]) -> None:
    """Returns if `assertion` proves `app`'s certificate; OAuthError invalid_client if not."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError as err:
        raise _invalid(50027, "JWT token is invalid or malformed.") from err
    if header.get("alg") not in ALGORITHMS:
        raise _invalid(
            5002738,
            f"Invalid JWT token. '{header.get('alg')}' is not a supported signature algorithm.",
        )
    cert = _registered_certificate(app, header)
    try:
        claims = jwt.decode(
            assertion,
            cert.public_key(),  # type: ignore[arg-type]
            algorithms=[header["alg"]],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidSignatureError as err:
        raise _invalid(
            700027,
            "Client assertion contains an invalid signature. [Reason - The provided signature"
            " value did not match the expected signature value., Thumbprint of key used by client:"
            f" '{app.cert_sha1_thumbprint}']",
        ) from err
    except jwt.PyJWTError as err:
        raise _invalid(50027, "JWT token is invalid or malformed.") from err
    _check_claims(app, claims, audiences)


def _registered_certificate(app: App, header: dict) -> x509.Certificate:
    """The app's registered certificate if the header names it (and any `x5c` is that one)."""
    named = _thumbprint_hex(header)
    if not app.cert_pem:
        raise _not_registered(app, named)
    cert = x509.load_pem_x509_certificate(app.cert_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    if "x5t#S256" in header:
        expected = cert.fingerprint(hashes.SHA256()).hex().upper()
    else:
        expected = app.cert_sha1_thumbprint.upper()
    if named != expected:
        raise _not_registered(app, named)
    chain = header.get("x5c")
    if chain and _der(chain[0]) != der:
        raise _not_registered(app, named)
    return cert


def _thumbprint_hex(header: dict) -> str:
    # Thumbprints are base64url; MSAL pads them, the RFC does not: accept both.
    raw = header.get("x5t#S256") or header.get("x5t") or ""
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).hex().upper()
    except (binascii.Error, ValueError):
        return ""


def _der(b64_der: str) -> bytes:
    try:
        return base64.b64decode(b64_der)
    except (binascii.Error, ValueError):
        return b""


def _check_claims(app: App, claims: dict, audiences: frozenset[str]) -> None:
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        raise _invalid(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review"
            f" the documentation at {DOC} .",
        )
    if claims.get("aud") not in audiences:
        raise _invalid(
            700023,
            f"Client assertion audience claim does not match Realm issuer. Review the"
            f" documentation at {DOC} .",
        )
    now = time.time()
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat", now))
    if not isinstance(exp, int | float) or not isinstance(nbf, int | float):
        raise _invalid(50027, "JWT token is invalid or malformed.")
    if now >= exp or nbf > now + CLOCK_SKEW:
        raise _invalid(
            700024,
            f"Client assertion is not within its valid time range. Current time: {_iso(now)},"
            f" assertion valid from {_iso(nbf)}, expiry time of assertion {_iso(exp)}. Review the"
            f" documentation at {DOC} .",
        )


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _invalid(aadsts: int, message: str) -> OAuthError:
    return OAuthError("invalid_client", aadsts, message)


def _not_registered(app: App, thumbprint: str) -> OAuthError:
    return _invalid(
        700027,
        "The certificate with identifier used to sign the client assertion is not registered on"
        f" application. [Reason - The key was not found., Thumbprint of key used by client:"
        f" '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph"
        f" to see configured keys for app Id '{app.client_id}'.]",
    )
