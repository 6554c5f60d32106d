"""Directory reads of GraphSource: users, groups and their members, manager, photo.

Mixed into connector.graph.GraphSource, which provides `self.http` (a GraphHttp).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from connector._parse import odata_kind
from connector.errors import NotFound
from connector.models import ChangesPage, Group, Member, Photo, User

if TYPE_CHECKING:
    from connector.http import GraphHttp

USERS_READ = "User.Read.All"
MEMBERS_READ = "GroupMember.Read.All"
USER_SELECT = (
    "id,displayName,givenName,surname,mail,userPrincipalName,jobTitle,department,"
    "officeLocation,businessPhones,mobilePhone,preferredLanguage,accountEnabled,userType"
)
# `members` in $select makes groups delta track membership (members@delta).
GROUP_SELECT = (
    "id,displayName,description,mail,mailNickname,mailEnabled,securityEnabled,groupTypes,"
    "visibility,createdDateTime"
)


class DirectoryReads:
    http: GraphHttp

    def users(self) -> Iterator[User]:
        for page in self.http.pages(
            "/users", params={"$select": USER_SELECT, "$top": "999"}, needs=USERS_READ
        ):
            for raw in page.get("value", ()):
                yield User.from_graph(raw)

    def user(self, id_or_upn: str) -> User:
        raw = self.http.get_json(
            f"/users/{id_or_upn}", params={"$select": USER_SELECT}, needs=USERS_READ
        )
        return User.from_graph(raw)

    def users_delta(self, delta_link: str | None = None) -> Iterator[ChangesPage[User]]:
        """One ChangesPage per HTTP page; removed users (soft or hard) come as deleted_ids.
        DeltaExpired when the link is too old or for another Graph endpoint (as for drives)."""
        url = self.http.resume(delta_link) if delta_link else "/users/delta"
        params = None if delta_link else {"$select": USER_SELECT}
        for page in self.http.pages(url, params=params, needs=USERS_READ):
            users = [User.from_graph(raw) for raw in page.get("value", ())]
            yield ChangesPage.from_objects(users, page, removed=_removed)

    def groups(self) -> Iterator[Group]:
        params = {"$select": GROUP_SELECT, "$top": "999"}
        for page in self.http.pages("/groups", params=params, needs=MEMBERS_READ):
            for raw in page.get("value", ()):
                yield Group.from_graph(raw)

    def group_members(self, group_id: str) -> list[Member]:
        """Direct members (users, groups, ...) of a group."""
        params = {"$select": "id", "$top": "999"}
        return [
            Member(raw["id"], odata_kind(raw))
            for page in self.http.pages(
                f"/groups/{group_id}/members", params=params, needs=MEMBERS_READ
            )
            for raw in page.get("value", ())
            if raw.get("id")
        ]

    def groups_delta(self, delta_link: str | None = None) -> Iterator[ChangesPage[Group]]:
        """The groups changed in one round, merged into a single ChangesPage with the deltaLink.

        Graph repeats a large group on several pages, each with a slice of members@delta
        ("Always follow nextLink and locally merge each group's state"), so a group is only
        complete at the end of the round: the merge happens here, and the one page is
        yielded when the deltaLink arrives.
        """
        url = self.http.resume(delta_link) if delta_link else "/groups/delta"
        params = None if delta_link else {"$select": GROUP_SELECT + ",members"}
        merged: dict[str, Group] = {}
        for page in self.http.pages(url, params=params, needs=MEMBERS_READ):
            for raw in page.get("value", ()):
                group = Group.from_graph(raw)
                if group.id is not None:
                    previous = merged.get(group.id)
                    merged[group.id] = merge_group(previous, group) if previous else group
            if page.get("@odata.deltaLink"):
                yield ChangesPage.from_objects(merged.values(), page, removed=_removed)

    def transitive_groups(self, user_id: str) -> list[Group]:
        """Every group the user is in, directly or through nested groups (no directory roles)."""
        path = f"/users/{user_id}/transitiveMemberOf"
        params = {"$top": "999"}
        return [
            Group.from_graph(raw)
            for page in self.http.pages(path, params=params, needs=MEMBERS_READ)
            for raw in page.get("value", ())
            if odata_kind(raw) in (None, "group")
        ]

    def manager(self, user_id: str) -> User | None:
        """The user's manager, or None when there is none (Graph answers 404)."""
        try:
            raw = self.http.get_json(f"/users/{user_id}/manager", needs=USERS_READ)
        except NotFound:
            return None
        return User.from_graph(raw)

    def photo(self, user_id: str) -> Photo | None:
        """The user's profile photo, or None when there is none (Graph answers 404)."""
        try:
            response = self.http.request(
                "GET", f"/users/{user_id}/photo/$value", headers={"Accept": "*/*"}, needs=USERS_READ
            )
        except NotFound:
            return None
        content_type = response.headers.get("Content-Type", "application/octet-stream")
        return Photo(content_type.split(";")[0].strip(), response.content)


def merge_group(previous: Group, later: Group) -> Group:
    """One group from two appearances in a round: later values win, member slices add up."""
    changes = {
        name: getattr(later, name)
        for name in (
            "display_name",
            "description",
            "mail",
            "mail_nickname",
            "mail_enabled",
            "security_enabled",
            "visibility",
            "created_at",
            "removed_reason",
        )
        if getattr(later, name) is not None
    }
    if later.group_types:
        changes["group_types"] = later.group_types
    added = {m.id: m for m in previous.members_added}
    removed = {m.id: m for m in previous.members_removed}
    for member in later.members_added:
        removed.pop(member.id, None)
        added[member.id] = member
    for member in later.members_removed:
        added.pop(member.id, None)
        removed[member.id] = member
    return replace(
        previous,
        members_added=tuple(added.values()),
        members_removed=tuple(removed.values()),
        **changes,
    )


def _removed(obj: User | Group) -> bool:
    return obj.removed
