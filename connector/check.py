"""`plaza connector check`: can Plaza read what it needs from this tenant, and if not, why?

Runs the smallest real reads a sync makes (a token, one site, one drive page, one permission
set, one user, one group, and SharePoint comments when configured) and describes each
failure in words an administrator can act on.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connector.auth import TokenProvider
from connector.errors import (
    AuthError,
    ConnectorError,
    GraphError,
    NotFound,
    PermissionMissing,
    Throttled,
    TokenError,
)
from connector.graph import GraphSource
from connector.http import GraphHttp
from connector.models import DriveItem, Site
from connector.settings import ConnectorSettings
from connector.sharepoint import SharePointComments
from connector.sharepoint_fields import SharePointFields
from connector.subscriptions import Subscriptions

CONSENT = "an admin must consent in Entra ID -> App registrations -> API permissions"
# What Entra ID's AADSTS codes mean for whoever fixes the configuration.
TOKEN_ADVICE = {
    7000215: "the client secret is wrong or expired: create a new one in Entra ID -> App "
    "registrations -> Certificates & secrets and set PLAZA_CLIENT_SECRET",
    7000222: "the client secret has expired: create a new one in Entra ID -> App "
    "registrations -> Certificates & secrets and set PLAZA_CLIENT_SECRET",
    700016: "no application with this client id in the tenant: check PLAZA_CLIENT_ID and "
    "PLAZA_TENANT_ID",
    700027: "the certificate is not the one registered on the app: upload it in Entra ID -> "
    "App registrations -> Certificates & secrets, or fix PLAZA_CERT_*",
    90002: "the tenant does not exist: check PLAZA_TENANT_ID",
    70011: "the requested scope is invalid: check PLAZA_CLOUD / PLAZA_GRAPH_URL",
}


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "ok" | "fail" | "skip"
    detail: str

    def line(self) -> str:
        return f"{self.status.upper():<5} {self.name}: {self.detail}"


@dataclass(frozen=True)
class CheckReport:
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.status != "fail" for result in self.results)

    def lines(self) -> list[str]:
        verdict = "all checks passed" if self.ok else "some checks failed"
        return [result.line() for result in self.results] + [verdict]


def explain(error: ConnectorError) -> str:
    """One sentence for an admin about what went wrong and what to change."""
    if isinstance(error, TokenError):
        for code in error.error_codes:
            if code in TOKEN_ADVICE:
                return f"Entra ID refused a token: {TOKEN_ADVICE[code]} ({error.code})"
        return f"Entra ID refused a token: {error.description}"
    if isinstance(error, PermissionMissing):
        name = error.permission or "a Microsoft Graph permission"
        return f"{name} ({error.kind}) is not granted: {CONSENT}"
    if isinstance(error, Throttled):
        return "Microsoft is throttling this app right now; try again in a few minutes"
    if isinstance(error, AuthError):
        return error.message
    return str(error)


class _Checker:
    def __init__(self, settings: ConnectorSettings, source: GraphSource) -> None:
        self.settings = settings
        self.source = source
        self.results: list[CheckResult] = []

    def step(self, name: str, action: Callable[[], str | None]) -> bool:
        """Runs one check; its result is "ok" with the returned text, "skip" on None."""
        try:
            detail = action()
        except ConnectorError as exc:
            self.results.append(CheckResult(name, "fail", explain(exc)))
            return False
        self.results.append(
            CheckResult(name, "skip" if detail is None else "ok", detail or "nothing to check")
        )
        return detail is not None

    def skip(self, name: str, why: str) -> None:
        self.results.append(CheckResult(name, "skip", why))


def run_check(
    settings: ConnectorSettings, source: GraphSource | None = None, write_back: bool = False
) -> CheckReport:
    """Every check, in order; later checks that depend on a failed one are skipped.
    `write_back` (some job writes discussion counts into libraries) adds the write check."""
    source = source or GraphSource(GraphHttp(settings, TokenProvider(settings)))
    check = _Checker(settings, source)
    found: dict[str, object] = {}
    if not check.step("token", lambda: _token(source)):
        return CheckReport(tuple(check.results))
    if check.step("sites", lambda: _site(source, found)):
        if check.step("drive", lambda: _drive_page(source, found)):
            check.step("permissions", lambda: _permissions(source, found))
    else:
        check.skip("drive", "needs a readable site")
    check.step("users", lambda: _user(source))
    check.step("groups", lambda: _group(source))
    _sharepoint(check, settings, source, found)
    if write_back:
        _write_back(check, settings, source, found)
    _notifications(check, settings, source, found)
    return CheckReport(tuple(check.results))


def _token(source: GraphSource) -> str:
    source.http.tokens.token()
    return f"got an app-only token for Microsoft Graph ({source.http.settings.authority})"


def _site(source: GraphSource, found: dict) -> str:
    site = next(iter(source.sites()), None)
    if site is None:
        raise NotFound("the app sees no SharePoint site")
    found["site"] = site
    return f"Sites.Read.All works: read site '{site.display_name or site.name}' ({site.web_url})"


def _drive_page(source: GraphSource, found: dict) -> str | None:
    site: Site = found["site"]  # type: ignore[assignment]
    drives = source.drives(site.id or "")
    if not drives:
        return None
    page = next(iter(source.drive_changes(drives[0].id or "")))
    files = [item for item in page.items if item.is_file] or list(page.items)
    found["drive_id"] = drives[0].id
    found["item"] = files[0] if files else None
    return f"read {len(page.items)} items from library '{drives[0].name}'"


def _permissions(source: GraphSource, found: dict) -> str | None:
    item: DriveItem | None = found.get("item")  # type: ignore[assignment]
    if item is None or item.id is None:
        return None
    permissions = source.permissions(str(found["drive_id"]), item.id)
    return f"read {len(permissions)} permissions of '{item.name}'"


def _user(source: GraphSource) -> str:
    user = next(iter(source.users()), None)
    if user is None:
        raise NotFound("the directory lists no users")
    return f"User.Read.All works: read user '{user.display_name}'"


def _group(source: GraphSource) -> str:
    group = next(iter(source.groups()), None)
    if group is None:
        return "GroupMember.Read.All works (the directory has no groups)"
    members = source.group_members(group.id or "")
    return f"GroupMember.Read.All works: group '{group.display_name}' has {len(members)} members"


def _sharepoint(
    check: _Checker, settings: ConnectorSettings, source: GraphSource, found: dict
) -> None:
    name = "sharepoint comments"
    item: DriveItem | None = found.get("item")  # type: ignore[assignment]
    site: Site | None = found.get("site")  # type: ignore[assignment]
    if not settings.sharepoint_url:
        check.skip(name, "PLAZA_SHAREPOINT_URL is not set")
        return
    if not (item and site and site.web_url and item.list_id and item.list_item_id):
        check.skip(name, "needs a document with SharePoint ids from the drive check")
        return
    comments = SharePointComments(settings, source.http.tokens, source.http.transport)
    check.step(name, lambda: _comments(comments, site.web_url or "", item))


def _comments(comments: SharePointComments, site_url: str, item: DriveItem) -> str:
    found = comments.comments(site_url, item.list_id or "", item.list_item_id or 0)
    return f"SharePoint REST works: '{item.name}' has {len(found)} comments"


def _write_back(
    check: _Checker, settings: ConnectorSettings, source: GraphSource, found: dict
) -> None:
    """Adds Plaza's columns to the checked document's library if missing (write-back would
    on its first write: Sites.Manage.All), then sends a system update with no values, which
    changes nothing but needs the right to write items (Sites.ReadWrite.All)."""
    name = "sharepoint write-back"
    item: DriveItem | None = found.get("item")  # type: ignore[assignment]
    site: Site | None = found.get("site")  # type: ignore[assignment]
    if not (item and site and site.web_url and item.list_id and item.list_item_id):
        check.skip(name, "needs a document with SharePoint ids from the drive check")
        return
    fields = SharePointFields(settings, source.http.tokens, source.http.transport)
    check.step(name, lambda: _write(fields, site.web_url or "", item))


def _write(fields: SharePointFields, site_url: str, item: DriveItem) -> str:
    added = fields.ensure_columns(site_url, item.list_id or "")
    fields.system_update(site_url, item.list_id or "", item.list_item_id or 0, {})
    columns = f"added {len(added)} Plaza columns" if added else "Plaza's columns are there"
    return (
        f"Sites.Manage.All and Sites.ReadWrite.All work on SharePoint: {columns} in the "
        f"library of '{item.name}'"
    )


POLLING = "libraries are polled on each job's schedule"


def _notifications(
    check: _Checker, settings: ConnectorSettings, source: GraphSource, found: dict
) -> None:
    """Whether Graph can reach Plaza's webhook: a real subscription, deleted at once."""
    name = "change notifications"
    if not settings.webhook_url:
        check.skip(name, f"PLAZA_WEBHOOK_URL is not set: no change notifications; {POLLING}")
        return
    if not found.get("drive_id"):
        check.skip(name, "needs a library from the drive check")
        return
    check.step(name, lambda: _subscribe_once(source, settings.webhook_url or "", found))


def _subscribe_once(source: GraphSource, url: str, found: dict) -> str:
    subscriptions = Subscriptions(source.http)
    expires = datetime.now(UTC) + timedelta(minutes=10)
    try:
        made = subscriptions.create(str(found["drive_id"]), url, secrets.token_urlsafe(16), expires)
    except GraphError as exc:
        if exc.code != "ValidationError":
            raise
        raise GraphError(
            f"Graph could not reach {url} (the validation handshake failed: is Plaza running "
            f"there, reachable from Microsoft's servers?): no change notifications; {POLLING}",
            code=exc.code,
        ) from exc
    subscriptions.delete(made.id)
    return f"Graph reached {url}: libraries get change notifications"
