"""What a manifests build needs, from command-line options over Plaza's settings.

The client id and tenant come from the same places as the connector's and web app's settings
(PLAZA_* variables over the `[connector]` / `[web]` tables of the PLAZA_CONFIG file), so an
admin who has configured Plaza types only the public URL. Secrets are never read here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.settings import CLOUDS, gather_settings, read_config_file

GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# A tenant is named by its GUID or by one of its domains (contoso.onmicrosoft.com).
TENANT_DOMAIN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)+")
SETTING_NAMES = ("client_id", "tenant_id", "authority", "cloud", "public_url", "data_dir")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class ManifestError(Exception):
    """A build that cannot go ahead; the message is one line saying what to fix."""


@dataclass(frozen=True)
class BuildInputs:
    public_url: str  # https://plaza.contoso.com, no trailing slash
    client_id: str  # the app registration's application (client) id, lower case
    tenant_id: str
    login_url: str  # where admin consent is given, e.g. https://login.microsoftonline.com

    @property
    def host(self) -> str:
        """The public URL's host (with its port when one is named): Teams' valid domain and
        the host part of the application ID URI."""
        return urlsplit(self.public_url).netloc.lower()

    @property
    def app_id_uri(self) -> str:
        """`api://{host}/{client id}`: the form Teams single sign-on requires."""
        return f"api://{self.host}/{self.client_id}"

    @property
    def redirect_uri(self) -> str:
        """Where Entra sends a person back after sign-in (overlay_app/auth: /auth/callback)."""
        return f"{self.public_url}/auth/callback"


def build_inputs(
    public_url: str | None,
    client_id: str | None,
    tenant_id: str | None,
    environ: Mapping[str, str] | None = None,
) -> BuildInputs:
    """The checked inputs: each option given wins over the setting; ManifestError names the
    first thing missing or wrong."""
    settings = _settings(environ)
    url = check_public_url(public_url or settings.get("public_url") or "")
    client = (client_id or settings.get("client_id") or "").strip()
    if not client:
        raise ManifestError(
            "no client id: set PLAZA_CLIENT_ID (or client_id in the config file) "
            "or pass --client-id"
        )
    if not GUID.fullmatch(client):
        raise ManifestError(
            f"client id must be a GUID (the application (client) id), got '{client}'"
        )
    tenant = (tenant_id or settings.get("tenant_id") or _tenant_of(settings) or "").strip()
    if not tenant:
        raise ManifestError(
            "no tenant: set PLAZA_TENANT_ID (or tenant_id in the config file) or pass --tenant-id"
        )
    if not (GUID.fullmatch(tenant) or TENANT_DOMAIN.fullmatch(tenant)):
        raise ManifestError(f"tenant must be a GUID or a domain name, got '{tenant}'")
    return BuildInputs(url, client.lower(), tenant.lower(), _login_url(settings))


def out_dir_for(out: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """Where the build writes: `out`, else `manifests/` in Plaza's data folder
    (PLAZA_DATA_DIR, default plaza-data). ManifestError if that is a file."""
    target = out or Path(_settings(environ).get("data_dir") or "plaza-data") / "manifests"
    if target.exists() and not target.is_dir():
        raise ManifestError(f"output folder {target} is a file")
    return target


def check_public_url(url: str) -> str:
    """The public URL without a trailing slash, or ManifestError: https (http only for a
    local test), a host, and nothing after it, since Teams and Entra match on the origin."""
    url = url.strip().rstrip("/")
    if not url:
        raise ManifestError("no public URL: pass --public-url https://plaza.example.com")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ManifestError(f"public URL '{url}' is not a valid URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ManifestError(f"public URL must be https://host, got '{url}'")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise ManifestError(f"public URL must use https (http only for localhost), got '{url}'")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ManifestError(f"public URL must be the origin only (scheme and host), got '{url}'")
    return url


def _settings(environ: Mapping[str, str] | None) -> dict[str, Any]:
    raw, problems = gather_settings(environ, None, _read_tables, SETTING_NAMES)
    if problems:
        raise ManifestError(problems[0])
    return raw


def _read_tables(path: str | Path | None, problems: list[str]) -> dict[str, Any]:
    """The names we need from the config file's [connector] table, then [web] over it (the two
    share these keys); other keys belong to those packages and are not checked here."""
    document = read_config_file(path, problems)
    values: dict[str, Any] = {}
    for table in ("connector", "web"):
        section = document.get(table, {})
        values.update({k: str(v) for k, v in section.items() if k in SETTING_NAMES})
    return values


def _login_url(settings: Mapping[str, Any]) -> str:
    """The sign-in origin: the configured authority's (an emulator, a national cloud), else the
    cloud's."""
    authority = urlsplit(str(settings.get("authority", "")))
    if authority.scheme and authority.netloc:
        return f"{authority.scheme}://{authority.netloc}"
    return CLOUDS.get(str(settings.get("cloud", "global")).lower(), CLOUDS["global"]).login


def _tenant_of(settings: Mapping[str, Any]) -> str:
    """The tenant named in an authority URL such as https://login.microsoftonline.com/{tenant}."""
    path = urlsplit(str(settings.get("authority", ""))).path.strip("/")
    return path.split("/")[0] if path else ""
