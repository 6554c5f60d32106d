"""Connector settings: which tenant, which app, which cloud, how patient to be.

Built from PLAZA_* environment variables, over an optional TOML file (`PLAZA_CONFIG`, table
`[connector]`, keys = the variable names without `PLAZA_`, lower case). The environment wins.
Secrets (client secret, key and PFX passwords) are read from the environment only, so a
config file can be committed, and they never appear in repr() or logs.

Validation collects every problem and raises one `SettingsError` listing them all.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.errors import SettingsError

PREFIX = "PLAZA_"
SECRET_KEYS = ("client_secret", "cert_key_password", "cert_pfx_password")
PLAIN_KEYS = (
    "tenant_id", "client_id", "cert_path", "cert_key_path", "cert_thumbprint", "cert_pfx_path",
    "cloud", "authority", "graph_url", "sharepoint_url", "ca_bundle", "http_timeout",
    "max_retries", "max_requests_per_minute", "user_agent_company",
    "graph_budget_per_minute", "graph_budget_share", "webhook_url",
)  # fmt: skip


@dataclass(frozen=True)
class Cloud:
    """Where a Microsoft cloud signs in and serves Graph (learn.microsoft.com/graph/deployments)."""

    login: str
    graph: str


CLOUDS = {
    "global": Cloud("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": Cloud("https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "usgov-dod": Cloud("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": Cloud("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}
# MSAL knows these hosts; any other authority (the emulator) needs instance_discovery=False.
MICROSOFT_LOGIN_HOSTS = frozenset(
    {"login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net",
     "login.microsoftonline.us", "login.chinacloudapi.cn", "login.microsoftonline.de"}
)  # fmt: skip


@dataclass(frozen=True)
class ConnectorSettings:
    """Everything the connector needs to reach one tenant; build with `from_env()`."""

    tenant_id: str
    client_id: str
    authority: str  # e.g. https://login.microsoftonline.com/{tenant}
    graph_url: str  # service root incl. version, e.g. https://graph.microsoft.com/v1.0
    graph_scope: str  # e.g. https://graph.microsoft.com/.default
    cloud: str = "global"
    client_secret: str | None = field(default=None, repr=False)
    cert_path: str | None = None
    cert_key_path: str | None = None
    cert_key_password: str | None = field(default=None, repr=False)
    cert_thumbprint: str | None = None
    cert_pfx_path: str | None = None
    cert_pfx_password: str | None = field(default=None, repr=False)
    sharepoint_url: str | None = None  # e.g. https://contoso.sharepoint.com
    ca_bundle: str | None = None
    http_timeout: float = 30.0
    max_retries: int = 6
    max_requests_per_minute: int | None = None
    user_agent_company: str = "Plaza"
    # SharePoint's resource units per minute for this app, and the share to pace under.
    graph_budget_per_minute: int = 1_200
    graph_budget_share: float = 0.8
    # Where Graph can POST change notifications (Plaza's /api/v1/webhooks/graph); None = poll.
    webhook_url: str | None = None

    @property
    def credential_kind(self) -> str:
        """ "pfx", "certificate" or "secret": a certificate wins when several are configured
        (SharePoint REST only accepts app-only tokens obtained with a certificate)."""
        if self.cert_pfx_path:
            return "pfx"
        if self.cert_key_path:
            return "certificate"
        return "secret"

    @property
    def authority_is_microsoft(self) -> bool:
        return (urlsplit(self.authority).hostname or "") in MICROSOFT_LOGIN_HOSTS

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, config_file: str | Path | None = None
    ) -> ConnectorSettings:
        """Settings from the environment over the optional config file, or SettingsError."""
        names = PLAIN_KEYS + SECRET_KEYS
        raw, problems = gather_settings(environ, config_file, _read_config_file, names)
        settings = _build(raw, problems)
        if problems:
            raise SettingsError(problems)
        assert settings is not None
        return settings


def _read_config_file(path: str | Path | None, problems: list[str]) -> dict[str, str]:
    document = read_config_file(path, problems)
    table = config_table(document, "connector", path, PLAIN_KEYS, SECRET_KEYS, problems)
    return {key: str(value) for key, value in table.items()}


def gather_settings(
    environ: Mapping[str, str] | None,
    config_file: str | Path | None,
    read_config: Callable[[str | Path | None, list[str]], dict[str, Any]],
    names: Iterable[str],
) -> tuple[dict[str, Any], list[str]]:
    """A package's raw settings, before conversion, and the problems found reading them.

    The PLAZA_* variables of `names` (from `environ`, else os.environ) win over what
    `read_config` takes from the config file: `config_file`, else the one PLAZA_CONFIG names.
    """
    env = os.environ if environ is None else environ
    problems: list[str] = []
    raw = read_config(config_file or env.get(PREFIX + "CONFIG"), problems)
    raw.update(environment_values(env, names))
    return raw, problems


def read_config_file(path: str | Path | None, problems: list[str]) -> dict[str, Any]:
    """The parsed TOML config file ({} when none is named). A file that cannot be read or
    parsed counts as empty and is one problem, so the other settings are still checked."""
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        problems.append(f"config file {path} cannot be read: {exc.strerror}")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"config file {path} is not valid TOML: {exc}")
    return {}


def config_table(
    document: Mapping[str, Any],
    table: str,
    path: str | Path | None,
    plain: Iterable[str],
    secret: Iterable[str],
    problems: list[str],
    *,
    name_table: bool = False,
) -> dict[str, Any]:
    """The `plain` settings of one table of the config file, values as TOML gave them.

    A `secret` there is a problem (secrets come from the environment only, so that the file
    can be committed), and so is an unknown key; `name_table` says which table it was in.
    """
    plain, secret = set(plain), set(secret)
    where = f" in [{table}]" if name_table else ""
    values: dict[str, Any] = {}
    for key, value in document.get(table, {}).items():
        if key in secret:
            problems.append(
                f"{key} must come from the environment (PLAZA_{key.upper()}), "
                "not from the config file"
            )
        elif key not in plain:
            problems.append(f"config file {path}: unknown setting '{key}'{where}")
        else:
            values[key] = value
    return values


def environment_values(environ: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The PLAZA_* variables of these setting names that are set and not blank, stripped."""
    values = {}
    for name in names:
        value = environ.get(PREFIX + name.upper())
        if value is not None and value.strip():
            values[name] = value.strip()
    return values


def _build(raw: dict[str, str], problems: list[str]) -> ConnectorSettings | None:
    cloud_name = raw.get("cloud", "global").lower()
    cloud = CLOUDS.get(cloud_name)
    if cloud is None:
        problems.append(f"PLAZA_CLOUD '{cloud_name}' is not one of {', '.join(CLOUDS)}")
        cloud = CLOUDS["global"]
    authority = raw.get("authority", "").rstrip("/")
    tenant_id = raw.get("tenant_id") or _tenant_from_authority(authority)
    if not tenant_id:
        problems.append("PLAZA_TENANT_ID is required (the directory (tenant) id of your Entra ID)")
    if not raw.get("client_id"):
        problems.append(
            "PLAZA_CLIENT_ID is required (the application (client) id of the app registration)"
        )
    authority = authority or f"{cloud.login}/{tenant_id}"
    graph_url = _graph_root(raw.get("graph_url") or cloud.graph)
    sharepoint_url = raw.get("sharepoint_url", "").rstrip("/") or None
    for name, url in (
        ("PLAZA_AUTHORITY", authority),
        ("PLAZA_GRAPH_URL", graph_url),
        ("PLAZA_SHAREPOINT_URL", sharepoint_url),
    ):
        if url and not _is_https(url):
            problems.append(f"{name} must be an https:// URL with a host, got '{url}'")
    _check_credentials(raw, problems)
    for key in ("ca_bundle", "cert_path", "cert_key_path", "cert_pfx_path"):
        if raw.get(key) and not Path(raw[key]).is_file():
            problems.append(f"PLAZA_{key.upper()} names a file that does not exist: {raw[key]}")
    timeout = _number(raw, "http_timeout", 30.0, float, problems)
    retries = _number(raw, "max_retries", 6, int, problems, minimum=0)
    budget = _number(raw, "max_requests_per_minute", None, int, problems)
    units = _number(raw, "graph_budget_per_minute", 1_200, int, problems, minimum=0)
    share = _number(raw, "graph_budget_share", 0.8, float, problems, minimum=0.01)
    if share > 1:
        problems.append(f"PLAZA_GRAPH_BUDGET_SHARE must be at most 1, got '{share}'")
    if problems:
        return None
    return ConnectorSettings(
        tenant_id=tenant_id or "",
        client_id=raw["client_id"],
        authority=authority,
        graph_url=graph_url,
        graph_scope=f"{cloud.graph}/.default",
        cloud=cloud_name,
        client_secret=raw.get("client_secret"),
        cert_path=raw.get("cert_path"),
        cert_key_path=raw.get("cert_key_path"),
        cert_key_password=raw.get("cert_key_password"),
        cert_thumbprint=_clean_thumbprint(raw.get("cert_thumbprint")),
        cert_pfx_path=raw.get("cert_pfx_path"),
        cert_pfx_password=raw.get("cert_pfx_password"),
        sharepoint_url=sharepoint_url,
        ca_bundle=raw.get("ca_bundle"),
        http_timeout=timeout,
        max_retries=retries,
        max_requests_per_minute=budget,
        graph_budget_per_minute=units,
        graph_budget_share=share,
        webhook_url=raw.get("webhook_url"),
        user_agent_company=raw.get("user_agent_company", "Plaza"),
    )


def _check_credentials(raw: dict[str, str], problems: list[str]) -> None:
    has_pem = bool(raw.get("cert_key_path"))
    if not (raw.get("client_secret") or has_pem or raw.get("cert_pfx_path")):
        problems.append(
            "no credential: set PLAZA_CLIENT_SECRET, or PLAZA_CERT_KEY_PATH with "
            "PLAZA_CERT_THUMBPRINT or PLAZA_CERT_PATH, or PLAZA_CERT_PFX_PATH"
        )
    if has_pem and not (raw.get("cert_thumbprint") or raw.get("cert_path")):
        problems.append(
            "PLAZA_CERT_KEY_PATH needs PLAZA_CERT_THUMBPRINT (SHA-1) or "
            "PLAZA_CERT_PATH (the public certificate, PEM)"
        )
    cert_named = raw.get("cert_path") or raw.get("cert_thumbprint")
    if cert_named and not has_pem and not raw.get("cert_pfx_path"):
        problems.append(
            "PLAZA_CERT_PATH / PLAZA_CERT_THUMBPRINT need PLAZA_CERT_KEY_PATH "
            "(the private key, PEM)"
        )
    thumbprint = _clean_thumbprint(raw.get("cert_thumbprint"))
    if thumbprint and not re.fullmatch(r"[0-9A-F]{40}", thumbprint):
        problems.append(
            "PLAZA_CERT_THUMBPRINT must be the certificate's SHA-1 thumbprint (40 hex digits)"
        )


def _number(raw, key, default, kind, problems, minimum=1):
    text = raw.get(key)
    if text is None:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        problems.append(f"PLAZA_{key.upper()} must be a number >= {minimum}, got '{text}'")
        return default
    return value


def _graph_root(url: str) -> str:
    """The Graph service root with its version: a bare host gets /v1.0."""
    url = url.rstrip("/")
    return url if re.search(r"/(v1\.0|beta)$", url) else url + "/v1.0"


def _tenant_from_authority(authority: str) -> str:
    path = urlsplit(authority).path.strip("/")
    return path.split("/")[0] if path else ""


def _clean_thumbprint(value: str | None) -> str | None:
    return re.sub(r"[\s:]", "", value).upper() if value else None


def _is_https(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)
