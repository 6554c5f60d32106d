"""SharePoint site groups and who is in them, through SharePoint REST.

Graph names a site group on a permission only by its number within the site
(`grantedToV2.siteGroup.id`); its members are known to SharePoint REST alone:
`{site}/_api/web/sitegroups` and `{site}/_api/web/sitegroups/GetById(n)/users`. Members come
as claims (`LoginName`): `i:0#.f|membership|{upn}` (a person), `c:0t.c|tenant|{id}` (a security
group), `c:0o.c|federateddirectoryclaimprovider|{id}` (a Microsoft 365 group),
`c:0-.f|rolemanager|spo-grid-all-users/{tenant}` (everyone except external users).

Requests go through GraphHttp (the one HTTP choke point: tokens, throttling, errors) with a
token for the site's origin. SharePoint refuses app-only tokens obtained with a client secret
("Unsupported app only token."), so this reader says so before asking.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from connector._parse import Json, as_int, first
from connector.errors import AuthError
from connector.http import GraphHttp
from connector.models_sharepoint import collection, unwrap
from connector.sharepoint import CERTIFICATE_NEEDED, NOMETADATA

# What a 403 from SharePoint REST means: the app's SharePoint application permission.
SHAREPOINT_SITES_READ = "Sites.Read.All (SharePoint)"


@dataclass(frozen=True)
class SiteGroup:
    """A SharePoint group of one site, e.g. 3 "Tax Owners"."""

    id: int
    title: str | None
    login_name: str | None

    @classmethod
    def from_sharepoint(cls, raw: Json) -> SiteGroup | None:
        number = as_int(first(raw, "Id", "id"))
        if number is None:
            return None
        return cls(number, first(raw, "Title", "title"), first(raw, "LoginName", "loginName"))


@dataclass(frozen=True)
class SitePrincipal:
    """A member of a site group: a person, an Entra group, or a tenant-wide claim."""

    id: int | None
    login_name: str | None
    title: str | None
    principal_type: int | None  # SP.Utilities.PrincipalType: 1 user, 4 security group, 8 SP group
    email: str | None
    user_principal_name: str | None

    @classmethod
    def from_sharepoint(cls, raw: Json) -> SitePrincipal:
        return cls(
            id=as_int(first(raw, "Id", "id")),
            login_name=first(raw, "LoginName", "loginName"),
            title=first(raw, "Title", "title"),
            principal_type=as_int(first(raw, "PrincipalType", "principalType")),
            email=first(raw, "Email", "email") or None,
            user_principal_name=first(raw, "UserPrincipalName", "userPrincipalName"),
        )


class SiteGroupReader:
    """Reads site groups and their members; thread-safe (GraphHttp is)."""

    def __init__(self, http: GraphHttp) -> None:
        self.http = http

    def site_groups(self, site_url: str) -> list[SiteGroup]:
        found = (SiteGroup.from_sharepoint(raw) for raw in self._rows(site_url, "web/sitegroups"))
        return [group for group in found if group is not None]

    def members(self, site_url: str, group_id: int) -> list[SitePrincipal]:
        path = f"web/sitegroups/GetById({int(group_id)})/users"
        return [SitePrincipal.from_sharepoint(raw) for raw in self._rows(site_url, path)]

    def _rows(self, site_url: str, path: str) -> Iterator[Json]:
        if self.http.tokens.credential_kind == "secret":
            raise AuthError(CERTIFICATE_NEEDED, code="certificateRequired")
        url: str | None = f"{site_url.rstrip('/')}/_api/{path}"
        while url:
            answer = self._get(url)
            yield from collection(answer)
            url = _next_link(answer)

    def _get(self, url: str) -> Any:
        response = self.http.request(
            "GET",
            url,
            headers={"Accept": NOMETADATA},
            audience=_origin(url),
            needs=SHAREPOINT_SITES_READ,
        )
        return response.json() if response.content else None


def _next_link(answer: Any) -> str | None:
    """SharePoint's next page: `odata.nextLink` (nometadata) or `__next` (verbose)."""
    if isinstance(answer, dict):
        link = first(answer, "odata.nextLink", "@odata.nextLink")
        if link:
            return link
        inner = unwrap(answer)
        if isinstance(answer.get("d"), dict):
            return answer["d"].get("__next")
        if isinstance(inner, dict):
            return inner.get("__next")
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
