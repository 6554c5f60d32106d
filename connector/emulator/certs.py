"""The emulator's certificates: a local CA, the HTTPS server certificate, and the app certificate.

All three are made once per state directory and reused, so a CA bundle handed to a client
(or written into an env file) stays valid across restarts of the emulator.

- `ca.pem`: self-signed root that clients trust (`verify=`, `REQUESTS_CA_BUNDLE`).
- `server.pem` / `server-key.pem`: leaf for localhost, 127.0.0.1 and ::1, signed by the CA.
- `app-cert.pem` / `app-key.pem`: the certificate credential registered on the app
  registration (Entra identifies it by its SHA-1 thumbprint, `x5t` in client assertions).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"
APP_CERT_FILE = "app-cert.pem"
APP_KEY_FILE = "app-key.pem"


@dataclass(frozen=True)
class CertificateSet:
    """Paths of the emulator's PEM files plus the app certificate's thumbprint."""

    ca_file: Path
    server_cert: Path
    server_key: Path
    app_cert: Path
    app_key: Path
    app_thumbprint: str  # SHA-1 of the DER certificate, upper-case hex (as the Entra portal shows)

    @property
    def app_cert_pem(self) -> bytes:
        return self.app_cert.read_bytes()


def ensure_certificates(state_dir: str | Path) -> CertificateSet:
    """The certificate set in `state_dir`, made there first if any file is missing."""
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    names = (CA_FILE, CA_KEY_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE, APP_CERT_FILE, APP_KEY_FILE)
    if not all((state / name).is_file() for name in names):
        _make_all(state)
    app_cert = x509.load_pem_x509_certificate((state / APP_CERT_FILE).read_bytes())
    return CertificateSet(
        ca_file=state / CA_FILE,
        server_cert=state / SERVER_CERT_FILE,
        server_key=state / SERVER_KEY_FILE,
        app_cert=state / APP_CERT_FILE,
        app_key=state / APP_KEY_FILE,
        app_thumbprint=sha1_thumbprint(app_cert),
    )


def sha1_thumbprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # Entra names certificates by SHA-1


def _make_all(state: Path) -> None:
    ca_key = _new_key()
    ca_cert = _ca_certificate(ca_key)
    server_key = _new_key()
    server_cert = _server_certificate(server_key, ca_cert, ca_key)
    app_key = _new_key()
    app_cert = _app_certificate(app_key)
    # Keys first and the CA last: a half-written set is detected (missing file) and redone.
    _write(state / CA_KEY_FILE, _key_pem(ca_key), private=True)
    _write(state / SERVER_KEY_FILE, _key_pem(server_key), private=True)
    _write(state / SERVER_CERT_FILE, _cert_pem(server_cert))
    _write(state / APP_KEY_FILE, _key_pem(app_key), private=True)
    _write(state / APP_CERT_FILE, _cert_pem(app_cert))
    _write(state / CA_FILE, _cert_pem(ca_cert))


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _validity(builder: x509.CertificateBuilder, days: int) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return builder.not_valid_before(now - dt.timedelta(days=1)).not_valid_after(
        now + dt.timedelta(days=days)
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Plaza emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey
) -> x509.CertificateBuilder:
    """A certificate for `key`'s public half, named `subject` and issued by `issuer`, with a
    fresh random serial number; the caller adds extensions, validity and signs."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
    )


def _ca_certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = _name("Plaza emulator local CA")
    builder = (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return _validity(builder, 3650).sign(key, hashes.SHA256())


def _server_certificate(
    key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey
) -> x509.Certificate:
    # OpenSSL's strict mode (default from Python 3.13) wants SAN, AKI and CA:FALSE on a leaf.
    names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        _builder(_name("localhost"), ca_cert.subject, key)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )
    # 397 days: the longest validity that Apple and browsers accept for a TLS leaf.
    return _validity(builder, 397).sign(ca_key, hashes.SHA256())


def _app_certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    """Self-signed, as `New-SelfSignedCertificate` makes for an app registration."""
    name = _name("Plaza connector app")
    builder = (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
    )
    return _validity(builder, 730).sign(key, hashes.SHA256())


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, content: bytes, private: bool = False) -> None:
    """Write via a temporary file and rename, so a concurrent reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    if private:
        tmp.chmod(0o600)
    tmp.replace(path)
