"""People and groups as SharePoint REST shows them: site users, site groups and their members.

SharePoint names principals by claim ("login name"), which is what lets a sync match the
siteGroup principals Graph returns with Entra users and groups:
- a user: `i:0#.f|membership|{upn}`
- an Entra security group: `c:0t.c|tenant|{group id}`
- a Microsoft 365 group: `c:0o.c|federateddirectoryclaimprovider|{group id}` (its owners: `..._o`)
- everyone except external users: `c:0-.f|rolemanager|spo-grid-all-users/{tenant id}`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.emulator import sharepoint_wire as wire
from connector.emulator.model import EVERYONE, GROUP, USER, Group, Principal, SiteGroup, User
from connector.emulator.site_users import APP_NUMBER, EVERYONE_KEY
from connector.emulator.spstore import APP_AUTHOR

if TYPE_CHECKING:
    from connector.emulator.sharepoint_lists import SPContext

USER_TYPE, SECURITY_GROUP_TYPE, SHAREPOINT_GROUP_TYPE = 1, 4, 8  # SP.Utilities.PrincipalType
APP_LOGIN = "i:0i.t|00000003-0000-0ff1-ce00-000000000000|app@sharepoint"
EVERYONE_TITLE = "Everyone except external users"


def user_login(user: User) -> str:
    return f"i:0#.f|membership|{user.user_principal_name.lower()}"


def group_login(group: Group) -> str:
    if group.unified:
        return f"c:0o.c|federateddirectoryclaimprovider|{group.id}"
    return f"c:0t.c|tenant|{group.id}"


def everyone_login(tenant_id: str) -> str:
    return f"c:0-.f|rolemanager|spo-grid-all-users/{tenant_id}"


def _principal_uri(ctx: SPContext, number: int) -> str:
    return f"{ctx.api_url}/Web/GetUserById({number})"


def _principal_props(number: int, login: str, title: str, kind: int, email: str) -> dict:
    return {
        "Id": number,
        "IsHiddenInUI": False,
        "LoginName": login,
        "Title": title,
        "PrincipalType": kind,
        "Email": email,
        "Expiration": "",
        "IsEmailAuthenticationGuestUser": False,
        "IsShareByEmailGuestUser": False,
        "IsSiteAdmin": False,
        "UserId": None,
        "UserPrincipalName": None,
    }


def user_entity(ctx: SPContext, oid: str) -> wire.Entity:
    """An SP.User for a person (deleted people still render: comments outlive their authors)."""
    user = ctx.tenant.users[oid]
    number = ctx.principal_number(oid)
    props = _principal_props(
        number, user_login(user), user.display_name, USER_TYPE, user.mail or ""
    )
    puid = ctx.tenant.ids.number("puid", oid) & 0xFFFFFFFFFFFF
    props["UserId"] = wire.Complex(
        "SP.UserIdInfo",
        {"NameId": f"1003{puid:012x}", "NameIdIssuer": "urn:federation:microsoftonline"},
    )
    props["UserPrincipalName"] = user.user_principal_name
    return wire.Entity("SP.User", _principal_uri(ctx, number), props)


def _group_entity(ctx: SPContext, group: Group) -> wire.Entity:
    number = ctx.principal_number(group.id)
    props = _principal_props(
        number, group_login(group), group.display_name, SECURITY_GROUP_TYPE, ""
    )
    return wire.Entity("SP.User", _principal_uri(ctx, number), props)


def _everyone_entity(ctx: SPContext) -> wire.Entity:
    login = everyone_login(ctx.tenant.tenant_id)
    number = ctx.principal_number(EVERYONE_KEY)
    props = _principal_props(number, login, EVERYONE_TITLE, SECURITY_GROUP_TYPE, "")
    return wire.Entity("SP.User", _principal_uri(ctx, number), props)


def site_group_entity(ctx: SPContext, group: SiteGroup) -> wire.Entity:
    uri = f"{ctx.api_url}/Web/SiteGroups/GetById({group.id})"
    owners = next((g.title for g in ctx.site.groups if g.id == 3), group.title)
    return wire.Entity(
        "SP.Group",
        uri,
        {
            "Id": group.id,
            "IsHiddenInUI": False,
            "LoginName": group.title,
            "Title": group.title,
            "PrincipalType": SHAREPOINT_GROUP_TYPE,
            "AllowMembersEditMembership": False,
            "AllowRequestToJoinLeave": False,
            "AutoAcceptRequestToJoinLeave": False,
            "Description": None,
            "OnlyAllowMembersViewMembership": False,
            "OwnerTitle": owners,
            "RequestToJoinLeaveEmailSetting": None,
            "Users": wire.Deferred(f"{uri}/Users"),
        },
    )


def site_group_members(ctx: SPContext, group: SiteGroup) -> list[wire.Entity]:
    """The group's members as SharePoint lists them: users, Entra groups, or everyone."""
    return [e for e in (_member_entity(ctx, p) for p in group.members) if e is not None]


def _member_entity(ctx: SPContext, principal: Principal) -> wire.Entity | None:
    if principal.kind == USER and ctx.tenant.user(principal.id):
        return user_entity(ctx, principal.id)
    if principal.kind == GROUP:
        group = ctx.tenant.group(principal.id)
        return _group_entity(ctx, group) if group else None
    if principal.kind == EVERYONE:
        return _everyone_entity(ctx)
    return None


# -- the site's users (its User Information List) ---------------------------------------------


def principal_entity(ctx: SPContext, key: str) -> wire.Entity | None:
    """The SP.User for a User Information List key: a person, an Entra group or everyone."""
    if key == EVERYONE_KEY:
        return _everyone_entity(ctx)
    if key in ctx.tenant.users:
        return user_entity(ctx, key)
    group = ctx.tenant.group(key)
    return _group_entity(ctx, group) if group else None


def site_users(ctx: SPContext) -> list[wire.Entity]:
    """Web/SiteUsers: everyone the site's list numbers, by id (the app account left out)."""
    numbered = sorted(ctx.tenant.site_users(ctx.site).keys.items())
    found = (principal_entity(ctx, key) for number, key in numbered if number != APP_NUMBER)
    return [entity for entity in found if entity is not None]


def site_user_by_id(ctx: SPContext, number: object) -> wire.Entity:
    """Web/GetUserById(n) and Web/SiteUsers/GetById(n); SharePoint's error for an unknown id."""
    key = ctx.tenant.site_users(ctx.site).key(number) if isinstance(number, int) else None
    entity = principal_entity(ctx, key) if key and number != APP_NUMBER else None
    if entity is None:
        raise wire.SPError(404, wire.ARGUMENT_CODE, "User cannot be found.")
    return entity


# -- people in comments and likes ------------------------------------------------------------------


def author(ctx: SPContext, oid: str) -> wire.Complex:
    """A comment's author, an SP.Sharing.Principal."""
    if oid == APP_AUTHOR:
        props = {
            "email": "",
            "id": APP_NUMBER,
            "isActive": True,
            "isExternal": False,
            "jobTitle": None,
            "loginName": APP_LOGIN,
            "name": "SharePoint App",
            "principalType": USER_TYPE,
            "userId": None,
        }
        return wire.Complex("SP.Sharing.Principal", props)
    user = ctx.tenant.users[oid]
    return wire.Complex(
        "SP.Sharing.Principal",
        {
            "email": user.mail or "",
            "id": ctx.principal_number(oid),
            "isActive": user.account_enabled and not user.deleted,
            "isExternal": user.user_type == "Guest",
            "jobTitle": user.job_title,
            "loginName": user_login(user),
            "name": user.display_name,
            "principalType": USER_TYPE,
            "userId": None,
        },
    )


def like_entry(ctx: SPContext, oid: str, liked_at: str) -> wire.Complex:
    """One liker, a Microsoft.SharePoint.Likes.userEntity."""
    user = ctx.tenant.users[oid]
    return wire.Complex(
        "Microsoft.SharePoint.Likes.userEntity",
        {
            "creationDate": liked_at,
            "email": user.mail or "",
            "id": ctx.principal_number(oid),
            "loginName": user_login(user),
            "name": user.display_name,
        },
    )
