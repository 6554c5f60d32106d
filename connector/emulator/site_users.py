"""Each site's User Information List: the one numbering of people and groups on a site.

SharePoint numbers principals per site, in the site's hidden User Information List, and every
surface shows that number: Graph's `siteUser.id` (permissions), SharePoint REST's `Id` of a site
user or site-group member, `AuthorId`/`EditorId` of list items, and the `id` of comment authors
and likers. So the same person has one number on a site and, usually, another on the next site.

Numbers below FIRST_NUMBER are SharePoint's own (the site groups take 3-5); "Everyone except
external users" is EVERYONE_NUMBER. The people and groups the site's own groups name come
first, then the rest of the directory, so numbers differ from site to site, as they do at
Microsoft, yet stay a pure function of the tenant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.emulator.model import EVERYONE, GROUP, USER, Site

if TYPE_CHECKING:
    from connector.emulator.tenant import Tenant

FIRST_NUMBER = 11  # 1-10 are SharePoint's built-in principals and the site groups
EVERYONE_NUMBER = 9
EVERYONE_KEY = "everyone"  # "Everyone except external users"
APP_KEY = "app"  # "SharePoint App": what app-only writes are attributed to
APP_NUMBER = 1073741822


class SiteUsers:
    """A site's User Information List: principal key (user oid, group id, EVERYONE_KEY) <-> id."""

    def __init__(self, tenant: Tenant, site: Site) -> None:
        keys = dict.fromkeys(_site_principals(tenant, site))
        keys.update(dict.fromkeys(tenant.users))
        keys.update(dict.fromkeys(tenant.groups))
        self.numbers = {key: FIRST_NUMBER + n for n, key in enumerate(keys)}
        self.numbers[EVERYONE_KEY] = EVERYONE_NUMBER
        self.numbers[APP_KEY] = APP_NUMBER
        self.keys = {number: key for key, number in self.numbers.items()}

    def number(self, key: str) -> int:
        """The principal's id on this site (0 for a principal the directory never knew)."""
        return self.numbers.get(key, 0)

    def key(self, number: int) -> str | None:
        return self.keys.get(number)


def _site_principals(tenant: Tenant, site: Site) -> list[str]:
    """Users and groups the site's groups name, then the people inside those groups."""
    direct, nested = [], []
    for site_group in site.groups:
        for principal in site_group.members:
            if principal.kind in (USER, GROUP):
                direct.append(principal.id)
            if principal.kind == GROUP and principal.id in tenant.groups:
                nested.extend(tenant.transitive_members(principal.id))
    return direct + nested


def principal_key(kind: str, principal_id: str) -> str:
    """The list's key for a grant's principal (everyone has no id of its own)."""
    return EVERYONE_KEY if kind == EVERYONE else principal_id
