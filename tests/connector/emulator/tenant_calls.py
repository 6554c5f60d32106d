"""What the emulator's own tests share: sessions carrying real tokens from its token endpoint,
Graph GETs that check their status, and the tenant objects (libraries, people, groups) that
tests start from.

These are plain requests calls, not the connector: the emulator is tested as Microsoft 365
would be, by what goes over the wire. SharePoint REST is called the same way (`sp_call`), or
through office365-rest-python-client (`sp_context`) where a test shows that that library works
against the emulator.
"""

from __future__ import annotations

import requests
from office365.sharepoint.client_context import ClientContext

# What Graph returns for a user when no $select is given.
DEFAULT_USER_KEYS = [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
]
USER_TYPE, GROUP_TYPE = "#microsoft.graph.user", "#microsoft.graph.group"
# The two JSON flavours SharePoint REST answers in: with OData metadata, and without.
VERBOSE = {"Accept": "application/json;odata=verbose"}
LIGHT = {"Accept": "application/json;odata=nometadata"}


def session_for(handle, audience: str = "graph", **token_options) -> requests.Session:
    """A session trusting the emulator's CA, with a bearer token for `audience` ("graph",
    "sharepoint" or "api"): app-only unless token_options name a user (user=UPN); they may
    also ask for a certificate credential or another client_id."""
    session = handle.session()
    session.headers["Authorization"] = "Bearer " + handle.token(audience, **token_options)
    return session


def get(session: requests.Session, handle, path: str, status: int = 200, **kwargs) -> dict:
    """GET a Graph v1.0 path; the JSON body, once the status is the one expected."""
    response = session.get(f"{handle.base_url}/v1.0{path}", timeout=30, **kwargs)
    assert response.status_code == status, response.text
    return response.json()


def documents(handle, site_name: str = "tax"):
    """The "Documents" library of /sites/<site_name>."""
    site = handle.tenant.site_by_path(f"/sites/{site_name}")
    return next(d for d in handle.tenant.drives_of(site.id) if d.name == "Documents")


def live_users(handle) -> list:
    """Every user not deleted, in the tenant's order."""
    return [u for u in handle.tenant.users.values() if not u.deleted]


def group_named(handle, display_name: str):
    return next(g for g in handle.tenant.groups.values() if g.display_name == display_name)


def site_named(handle, name: str):
    """The site at /sites/<name>."""
    return handle.tenant.site_by_path(f"/sites/{name}")


def enabled_members(handle) -> list:
    """Members of the firm (no guests) whose accounts are enabled, in the tenant's order."""
    return [
        u for u in handle.tenant.users.values() if u.user_type == "Member" and u.account_enabled
    ]


def outsider(handle):
    """An enabled member of the firm who cannot open the private Deals site."""
    deals = site_named(handle, "deals")
    return next(u for u in enabled_members(handle) if not handle.tenant.can_open_site(u.id, deals))


def sp_context(handle, site_name: str, token: str) -> ClientContext:
    """office365's ClientContext for /sites/<site_name>, sending `token` and trusting the
    emulator's CA."""
    ctx = ClientContext(f"{handle.base_url}/sites/{site_name}")
    ctx.with_access_token(lambda: {"access_token": token, "token_type": "Bearer"})
    return ctx.with_transport(session=handle.session())


def sp_call(handle, method: str, path: str, token: str, headers=None, **kwargs):
    """One SharePoint REST request with a bearer token (answers without metadata unless
    `headers` ask otherwise); the response, whatever its status."""
    session = handle.session()
    session.headers.update({"Authorization": f"Bearer {token}", **(headers or LIGHT)})
    return session.request(method, handle.base_url + path, timeout=30, **kwargs)
