"""What the emulator's own tests share: sessions carrying real tokens from its token endpoint,
Graph GETs that check their status, and the tenant objects (libraries, people, groups) that
tests start from.

These are plain requests calls, not the connector: the emulator is tested as Microsoft 365
would be, by what goes over the wire.
"""

from __future__ import annotations

import requests

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
