"""The web app's settings, from PLAZA_* environment variables and an optional TOML file.

The file (`PLAZA_CONFIG`) holds a `[web]` table whose keys are the variable names without
`PLAZA_`, in lower case; the tenant's keys (authority, tenant_id, client_id, graph_url,
ca_bundle, cloud) may instead come from its `[connector]` table, so one file serves both. The
environment wins over the file. Secrets (PLAZA_CLIENT_SECRET, PLAZA_SECRET_KEY) come from the
environment only, so that a config file can be committed; they never appear in repr().

Validated at start with every problem reported at once (SettingsError lists them all).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.settings import CLOUDS, config_table, gather_settings, read_config_file

SECRET_NAMES = ("client_secret", "secret_key", "smtp_password", "database_url")
SHARED_WITH_CONNECTOR = ("authority", "tenant_id", "client_id", "graph_url", "ca_bundle", "cloud")
# name -> (smallest, largest) allowed
NUMBERS = {
    "session_idle_minutes": (1, 7 * 24 * 60),
    "session_max_hours": (1, 30 * 24),
    "writes_per_minute": (1, 10_000),
    "searches_per_minute": (1, 10_000),
    "people_lookups_per_minute": (1, 10_000),
    "tag_suggestions_per_minute": (1, 10_000),
    "live_check_seconds": (0, 60),  # the issue caps the live access cache at 60 s
    "embedded_token_minutes": (1, 60),  # Plaza tokens of pages embedded in Teams / SharePoint
    "insights_min_group": (5, 10_000),  # k-anonymity of insights: never below 5 people
    "smtp_port": (1, 65535),
    "mail_mention_delay_seconds": (0, 24 * 3600),
}
BOOLEANS = {"channels_open", "smtp_starttls"}
DATABASE_SCHEMES = ("postgresql", "postgres")
ERASE_MODES = ("anonymise", "remove")
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY = 32
HOST_NAME = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
ORIGIN = re.compile(r"https://[A-Za-z0-9.*-]+(:[0-9]{1,5})?")
GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class SettingsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("Plaza cannot start:\n" + "\n".join(f"- {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class OverlaySettings:
    data_dir: Path
    secret_key: str = field(repr=False)
    public_url: str = "http://localhost:5000"  # where people reach Plaza (redirect URI base)
    authority: str = ""
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    ca_bundle: str = ""
    graph_url: str = "https://graph.microsoft.com/v1.0"
    api_audience: str = ""  # accepted `aud` of bearer tokens; default api://{client_id}
    api_clients: str = ""  # other apps (client ids) whose bearer tokens the API accepts
    admin_group_id: str = ""
    admin_role: str = "Plaza.Admin"
    moderator_group_id: str = ""  # moderators: members of this Entra group, or holders of
    moderator_role: str = "Plaza.Moderator"  # this app role (admin/: the moderation queue)
    erase_mode: str = "anonymise"  # a person's erased words: "anonymise" (kept) or "remove"
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    writes_per_minute: int = 30
    # Reads that answer from what a person may see, limited so that none can be asked in bulk
    # (security.check_read_rate): document and chat searches, people directory searches and
    # mention suggestions, tag suggestions.
    searches_per_minute: int = 60
    people_lookups_per_minute: int = 120
    tag_suggestions_per_minute: int = 60
    live_check_seconds: int = 60
    realtime_url: str = ""  # where pages open the event stream (`plaza realtime`); "" = same origin
    channels_open: bool = True  # anyone signed in (not guests) may create chat channels
    # Embedded pages (Teams tabs, the SharePoint panel: overlay_app/embedded): the tenant's
    # SharePoint host (e.g. contoso.sharepoint.com) may frame them, with Microsoft's Teams and
    # Microsoft 365 hosts; embed_ancestors adds origins (the emulator's host in the demo).
    sharepoint_host: str = ""
    embed_ancestors: str = ""
    embedded_token_minutes: int = 15
    # Insights: a figure about a group of people is shown only for groups this large (>= 5);
    # members of the ethical-walls groups (Entra group ids) never appear in cross-unit analytics.
    insights_min_group: int = 5
    insights_ethical_walls: str = ""
    # Mail (overlay_app/mail): the SMTP server that `plaza mail send-due` and the scheduler
    # send through; no host, no mail (the queue waits).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "Plaza <plaza@localhost>"
    smtp_starttls: bool = False
    mail_mention_delay_seconds: int = 120  # a mention is mailed this late, unless read
    demo_mail_dir: str = ""  # the demo's SMTP server writes here; /_demo/mail shows it
    # The social store's engine: "" = SQLite (overlay.db in data_dir); postgresql://... =
    # PostgreSQL (overlay_app/pg). From the environment only: the URL may hold a password.
    database_url: str = field(default="", repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def social_path(self) -> Path:
        return self.data_dir / "overlay.db"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index.db"

    @property
    def auth_path(self) -> Path:
        """Sign-in sessions and each person's MSAL token cache (never in the cookie)."""
        return self.data_dir / "auth.db"

    @property
    def anyone_can_create_channels(self) -> bool:
        return self.channels_open

    @property
    def ethical_wall_groups(self) -> list[str]:
        return _listed(self.insights_ethical_walls)

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/auth/callback"

    @property
    def api_audiences(self) -> frozenset[str]:
        """`aud` values a bearer token for Plaza's API may carry (v2 tokens use the client id)."""
        named = {self.api_audience} if self.api_audience else set()
        return frozenset(named | {f"api://{self.client_id}", self.client_id, self.sso_resource})

    @property
    def sso_resource(self) -> str:
        """The Application ID URI Teams' single sign-on asks tokens for: api://{host}/{id}."""
        return f"api://{urlsplit(self.public_url).netloc}/{self.client_id}"

    @property
    def allowed_clients(self) -> frozenset[str]:
        """Client ids (`azp` / `appid`) whose tokens the API accepts: Plaza's own, and any in
        PLAZA_API_CLIENTS (e.g. Teams' clients, once Plaza is exposed to them)."""
        return frozenset({self.client_id, *_listed(self.api_clients)} - {""})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> OverlaySettings:
        """Settings from a dict of field names (tests); unknown names are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError([f"unknown setting {name}" for name in unknown])
        values = dict(values)
        values["data_dir"] = Path(values.get("data_dir") or "plaza-data").resolve()
        values["public_url"] = str(values.get("public_url") or cls.public_url).rstrip("/")
        values["realtime_url"] = str(values.get("realtime_url") or "").rstrip("/")
        return cls(**values)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, config_file: str | Path | None = None
    ) -> OverlaySettings:
        """Settings from the environment over the optional config file, or SettingsError."""
        names = (*_plain_names(), *SECRET_NAMES)
        raw, problems = gather_settings(environ, config_file, _read_config_file, names)
        values = _convert(raw, problems)
        if not values.get("secret_key"):
            values["secret_key"] = _stored_secret_key(Path(values["data_dir"]), problems)
        settings = cls.from_mapping(values)
        reported = {problem.split(" ")[0] for problem in problems}
        problems += [p for p in settings.problems() if p.split(" ")[0] not in reported]
        if problems:
            raise SettingsError(problems)
        return settings

    def problems(self) -> list[str]:
        """Every reason these settings cannot run Plaza, as sentences saying what to do."""
        found: list[str] = []
        if self.data_dir.exists() and not self.data_dir.is_dir():
            found.append(f"PLAZA_DATA_DIR {self.data_dir} is a file, not a directory")
        if len(self.secret_key) < MIN_SECRET_KEY:
            found.append(
                f"PLAZA_SECRET_KEY must be at least {MIN_SECRET_KEY} characters (make one with"
                " `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        found += _url_problems("PLAZA_PUBLIC_URL", self.public_url, ("http", "https"), path=False)
        if self.realtime_url:
            found += _url_problems(
                "PLAZA_REALTIME_URL", self.realtime_url, ("http", "https"), path=False
            )
        if self.authority:  # else the tenant id is missing too, and said so below
            found += _url_problems("PLAZA_AUTHORITY", self.authority, ("https",), path=True)
        found += _url_problems("PLAZA_GRAPH_URL", self.graph_url, ("https",), path=True)
        if not self.tenant_id:
            found.append(
                "PLAZA_TENANT_ID is required (the directory (tenant) id of your Entra ID),"
                " or PLAZA_AUTHORITY naming it"
            )
        if not self.client_id:
            found.append(
                "PLAZA_CLIENT_ID is required (the application (client) id of Plaza's app"
                " registration)"
            )
        if not self.client_secret:
            found.append(
                "PLAZA_CLIENT_SECRET is required (a client secret of Plaza's app registration;"
                " sign-in uses the authorization-code flow of a confidential client)"
            )
        if self.ca_bundle and not Path(self.ca_bundle).is_file():
            found.append(f"PLAZA_CA_BUNDLE names a file that does not exist: {self.ca_bundle}")
        found += [
            f"PLAZA_API_CLIENTS must list client ids (GUIDs), separated by commas; got '{entry}'"
            for entry in _listed(self.api_clients)
            if not GUID.fullmatch(entry)
        ]
        if self.database_url and urlsplit(self.database_url).scheme not in DATABASE_SCHEMES:
            found.append("PLAZA_DATABASE_URL must start with postgresql:// (or be unset: SQLite)")
        if self.erase_mode not in ERASE_MODES:
            found.append(f"PLAZA_ERASE_MODE must be one of {', '.join(ERASE_MODES)}")
        if self.sharepoint_host and not HOST_NAME.fullmatch(self.sharepoint_host):
            found.append(
                "PLAZA_SHAREPOINT_HOST must be a host name like contoso.sharepoint.com, got"
                f" '{self.sharepoint_host}'"
            )
        found += [
            "PLAZA_EMBED_ANCESTORS must list https:// origins, separated by commas or spaces;"
            f" got '{entry}'"
            for entry in _listed(self.embed_ancestors)
            if not ORIGIN.fullmatch(entry)
        ]
        found += [
            f"PLAZA_INSIGHTS_ETHICAL_WALLS must list group ids (GUIDs), separated by commas;"
            f" got '{entry}'"
            for entry in _listed(self.insights_ethical_walls)
            if not GUID.fullmatch(entry)
        ]
        for name, (low, high) in NUMBERS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or not low <= value <= high:
                found.append(f"PLAZA_{name.upper()} must be a whole number from {low} to {high}")
        return found


def _listed(text: str) -> list[str]:
    return [entry for entry in re.split(r"[\s,]+", text) if entry]


def _plain_names() -> list[str]:
    skip = {"extra", *SECRET_NAMES}
    return [f.name for f in fields(OverlaySettings) if f.name not in skip] + ["cloud"]


def _read_config_file(path: str | Path | None, problems: list[str]) -> dict[str, Any]:
    """The [web] table over the tenant keys of the [connector] table."""
    document = read_config_file(path, problems)
    connector = document.get("connector", {})
    values = {k: connector[k] for k in SHARED_WITH_CONNECTOR if k in connector}
    web = config_table(
        document, "web", path, _plain_names(), SECRET_NAMES, problems, name_table=True
    )
    return values | web


def _convert(raw: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """Field values from text: numbers parsed, URLs trimmed, defaults filled from the cloud."""
    if isinstance(raw.get("api_clients"), list):  # the TOML file may hold a list
        raw = raw | {"api_clients": ",".join(map(str, raw["api_clients"]))}
    values = {
        k: v if k in NUMBERS or k in BOOLEANS else str(v) for k, v in raw.items() if k != "cloud"
    }
    cloud_name = str(raw.get("cloud", "global")).lower()
    cloud = CLOUDS.get(cloud_name)
    if cloud is None:
        problems.append(f"PLAZA_CLOUD '{cloud_name}' is not one of {', '.join(CLOUDS)}")
        cloud = CLOUDS["global"]
    for name in NUMBERS:
        if name in values:
            number = _whole_number(name, values.pop(name), problems)
            if number is not None:
                values[name] = number
    for name in BOOLEANS & set(values):
        values[name] = _yes_or_no(name, values[name], problems)
    authority = str(values.get("authority", "")).rstrip("/")
    tenant_id = str(values.get("tenant_id", "")) or _tenant_from_authority(authority)
    values["tenant_id"] = tenant_id
    values["authority"] = authority or (f"{cloud.login}/{tenant_id}" if tenant_id else "")
    graph_url = str(values.get("graph_url") or cloud.graph).rstrip("/")
    values["graph_url"] = (
        graph_url if re.search(r"/(v1\.0|beta)$", graph_url) else graph_url + "/v1.0"
    )
    values["data_dir"] = values.get("data_dir") or "plaza-data"
    return values


def _whole_number(name: str, value: Any, problems: list[str]) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        low, high = NUMBERS[name]
        problems.append(
            f"PLAZA_{name.upper()} must be a whole number from {low} to {high}, got '{value}'"
        )
        return None


def _yes_or_no(name: str, value: Any, problems: list[str]) -> bool:
    if isinstance(value, bool):  # from the TOML file
        return value
    word = str(value).strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        problems.append(f"PLAZA_{name.upper()} must be true or false, got '{value}'")
    return word in TRUE_WORDS


def _stored_secret_key(data_dir: Path, problems: list[str]) -> str:
    """Without PLAZA_SECRET_KEY, one made once and kept in the data directory (mode 0600).

    Every worker of one installation reads the same file, so sessions survive restarts.
    """
    path = data_dir / SECRET_KEY_FILE
    try:
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
    except FileExistsError:  # another worker made it first
        return path.read_text().strip()
    except OSError as exc:
        problems.append(
            f"PLAZA_SECRET_KEY is not set and {path} cannot be made ({exc.strerror}):"
            " set PLAZA_SECRET_KEY or make PLAZA_DATA_DIR writable"
        )
        return ""


def _url_problems(name: str, url: str, schemes: tuple[str, ...], path: bool) -> list[str]:
    parts = urlsplit(url)
    kinds = " or ".join(f"{s}://" for s in schemes)
    if parts.scheme not in schemes or not parts.hostname:
        return [f"{name} must be an {kinds} URL with a host, got '{url}'"]
    if path and not parts.path.strip("/"):
        return [f"{name} must name a path after the host, got '{url}'"]
    if not path and (parts.path.strip("/") or parts.query or parts.fragment):
        return [f"{name} must be the site's root URL (no path, query or fragment), got '{url}'"]
    return []


def _tenant_from_authority(authority: str) -> str:
    path = urlsplit(authority).path.strip("/")
    return path.split("/")[0] if path else ""
