"""Runs the emulator over real HTTPS in a background thread, and tells clients how to connect.

`start()` returns an EmulatorHandle: the live Tenant, the Flask app, the connection facts
(`info`, also written as JSON or as a shell env file), and helpers for tests: a requests
session that trusts the emulator's CA, and real tokens fetched from its token endpoint.
"""

from __future__ import annotations

import json
import shlex
import socket
import ssl
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connector.emulator import certs, tokens
from connector.emulator.app import create_app
from connector.emulator.budget import DEFAULT_PER_MINUTE
from connector.emulator.entra_oauth import main_app
from connector.emulator.model import App
from connector.emulator.tenant import Tenant

ENV_KEYS = {
    "PLAZA_AUTHORITY": "authority",
    "PLAZA_TENANT_ID": "tenant_id",
    "PLAZA_CLIENT_ID": "client_id",
    "PLAZA_CLIENT_SECRET": "client_secret",
    "PLAZA_CERT_PATH": "cert_path",
    "PLAZA_CERT_KEY_PATH": "cert_key_path",
    "PLAZA_CERT_THUMBPRINT": "cert_thumbprint",
    "PLAZA_GRAPH_URL": "graph_url",
    "PLAZA_SHAREPOINT_URL": "sharepoint_url",
    "PLAZA_CA_BUNDLE": "ca_file",
    "PLAZA_API_SCOPE": "api_scope",
}
SCOPE_OF_AUDIENCE = {
    "graph": "https://graph.microsoft.com/.default",
    "sharepoint": "{base}/.default",
    "api": "api://{client_id}/.default",
}
# What MSAL adds to every user sign-in; the token endpoint answers with id and refresh tokens.
OIDC_SCOPES = "openid profile offline_access"


class _QuietRequestHandler(WSGIRequestHandler):
    """Leaves out the per-request access log line (tests make thousands); errors still log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class EmulatorHandle:
    """A running emulator: its tenant, app, addresses and credentials."""

    def __init__(
        self,
        tenant: Tenant,
        app: Flask,
        server: BaseWSGIServer,
        certificates: certs.CertificateSet,
        scratch: tempfile.TemporaryDirectory | None = None,
    ) -> None:
        self.tenant = tenant
        self.app = app
        self.certificates = certificates
        self.ca_file = str(certificates.ca_file)
        self.base_url = tenant.base_url
        self._server = server
        self._scratch = scratch
        # A short poll keeps stop() fast (tests start and stop many emulators).
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"emulator:{server.port}",
            daemon=True,
        )
        self.info = connection_info(tenant, certificates)

    @property
    def port(self) -> int:
        return self._server.port

    def serve_in_background(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stops serving and frees the port (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def write_info(self, path: str | Path) -> None:
        _write_atomically(Path(path), json.dumps(self.info, indent=2) + "\n")

    def write_env(self, path: str | Path) -> None:
        """PLAZA_* settings, shell-quoted, for `set -a; . file; set +a`."""
        lines = [f"{name}={shlex.quote(str(self.info[key]))}" for name, key in ENV_KEYS.items()]
        lines.append("PLAZA_EMULATOR=1")
        _write_atomically(Path(path), "\n".join(lines) + "\n")

    def session(self) -> requests.Session:
        """A requests session that trusts the emulator's CA whatever REQUESTS_CA_BUNDLE says."""
        session = requests.Session()
        session.verify = self.ca_file
        session.trust_env = False
        return session

    def token(
        self,
        audience: str = "graph",
        user: str | None = None,
        certificate: bool = False,
        client_id: str | None = None,
    ) -> str:
        """A real access token from the token endpoint: client credentials, or ROPC for `user`."""
        app = self.tenant.apps[client_id or self.info["client_id"]]
        scope = SCOPE_OF_AUDIENCE[audience].format(base=self.base_url, client_id=app.client_id)
        form = {"client_id": app.client_id, "scope": scope}
        if user:
            form.update(
                grant_type="password",
                username=user,
                password=self.tenant.password,
                scope=f"{scope} {OIDC_SCOPES}",
            )
        else:
            form["grant_type"] = "client_credentials"
        form.update(self._client_credential(app, certificate))
        with self.session() as session:
            response = session.post(self.info["token_endpoint"], data=form, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"token request failed ({response.status_code}): {response.text}")
        return response.json()["access_token"]

    def _client_credential(self, app: App, certificate: bool) -> dict[str, str]:
        if not certificate:
            return {"client_secret": app.secret}
        assertion = client_assertion(
            app.client_id,
            self.info["token_endpoint"],
            self.certificates.app_key.read_bytes(),
            self.certificates.app_thumbprint,
        )
        return {
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }


def _write_atomically(path: Path, text: str) -> None:
    """Readers polling for the file (scripts, tests) never see it half written."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def client_assertion(client_id: str, audience: str, key_pem: bytes, sha1_hex: str) -> str:
    """A client assertion as MSAL signs it for a certificate given by thumbprint (RS256 + x5t)."""
    now = time.time()
    x5t = tokens.b64url(bytes.fromhex(sha1_hex))
    claims = {
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
    }
    key = serialization.load_pem_private_key(key_pem, password=None)
    return jwt.encode(claims, key, algorithm="RS256", headers={"x5t": x5t})  # type: ignore[arg-type]


def sign_in_users(tenant: Tenant) -> list[str]:
    """UPNs the sign-in page offers: enabled members, then guests, as generated."""
    people = [u for u in tenant.users.values() if u.account_enabled and not u.deleted]
    people.sort(key=lambda u: u.user_type == "Guest")
    return [u.user_principal_name for u in people]


def connection_info(tenant: Tenant, certificates: certs.CertificateSet) -> dict[str, Any]:
    """What a client needs to reach this emulator (the `--info-file` JSON)."""
    base = tenant.base_url
    app = main_app(tenant)
    return {
        "authority": f"{base}/{tenant.tenant_id}",
        "tenant_id": tenant.tenant_id,
        "graph_url": f"{base}/v1.0",
        "sharepoint_url": base,
        "login_url": base,
        "token_endpoint": f"{base}/{tenant.tenant_id}/oauth2/v2.0/token",
        "client_id": app.client_id,
        "client_secret": app.secret,
        "cert_client_id": app.client_id,
        "cert_key_path": str(certificates.app_key),
        "cert_path": str(certificates.app_cert),
        "cert_thumbprint": certificates.app_thumbprint,
        "ca_file": str(certificates.ca_file),
        "api_scope": f"api://{app.client_id}/.default",
        "users": sign_in_users(tenant),
        "password": tenant.password,
    }


def register_certificate(app: App, certificates: certs.CertificateSet) -> None:
    """Uploads the app certificate to the registration, as done in the Entra portal."""
    pem = certificates.app_cert_pem
    app.cert_pem = pem
    app.cert_sha1_thumbprint = certs.sha1_thumbprint(x509.load_pem_x509_certificate(pem))


def _tls_context(certificates: certs.CertificateSet) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(certificates.server_cert), str(certificates.server_key))
    return context


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket; OSError (e.g. address in use) reaches the caller.

    werkzeug binds by itself only to print and exit on failure, which a library must not do.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


def start(
    seed: int = 1,
    size: int | str = "small",
    port: int = 0,
    state_dir: str | Path | None = None,
    fault_profile: str = "none",
    host: str = "127.0.0.1",
    quiet: bool = True,
    budget_per_minute: int | None = DEFAULT_PER_MINUTE,
) -> EmulatorHandle:
    """Builds a tenant and serves it over HTTPS on `port` (0 = any free port) in a daemon thread."""
    scratch = None
    if state_dir is None:
        scratch = tempfile.TemporaryDirectory(prefix="plaza-emulator-")
        state_dir = scratch.name
    certificates = certs.ensure_certificates(state_dir)
    tenant = Tenant(seed, size)
    register_certificate(main_app(tenant), certificates)
    tokens.signing_key(tenant)  # made now, so the first token request is not the slow one
    app = create_app(tenant, fault_profile, budget_per_minute)
    # Notifications to a Plaza on loopback are checked against this CA (it signs test servers).
    app.extensions["subscriptions"].ca_file = str(certificates.ca_file)
    handler = _QuietRequestHandler if quiet else WSGIRequestHandler
    tls = _tls_context(certificates)
    listener = _listen(host, port)
    try:
        server = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=handler,
            ssl_context=tls,
            fd=listener.fileno(),
        )
    finally:
        listener.close()  # the server holds its own duplicate of the descriptor
    tenant.base_url = f"https://localhost:{server.port}"
    handle = EmulatorHandle(tenant, app, server, certificates, scratch)
    handle.serve_in_background()
    return handle
