"""Graph's directory routes: users, groups, /me, manager, photo, memberships, and their delta.

Views stay thin: resolve the object (404 `Request_ResourceNotFound` as the directory words it),
check the caller's permission (403 `Authorization_RequestDenied`), and hand the objects to
graph_directory_query (JSON shapes and OData options) or graph_directory_delta (delta rounds).
Deleted users and groups are gone from every route; disabled users are still listed.
"""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

from flask import Blueprint, Response, current_app, request

from connector.emulator import tokens
from connector.emulator.graph_directory_delta import Entry, Query, respond
from connector.emulator.graph_directory_filter import unsupported
from connector.emulator.graph_directory_query import (
    GROUP_PROPERTIES,
    GROUPS,
    USER_DEFAULTS,
    USERS,
    Catalog,
    group_json,
    list_page,
    selection,
    shape,
    user_json,
)
from connector.emulator.model import Group, User
from connector.emulator.odata import GraphHTTPError, absolute_url, query_param
from connector.emulator.tenant import Tenant

bp = Blueprint("graph_directory", __name__, url_prefix="/v1.0")

_RW = (".Read.All", ".ReadWrite.All")
USER_ROLES = (
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
USER_SCOPES = ("User.ReadBasic.All", *USER_ROLES, "Directory.AccessAsUser.All")
GROUP_ROLES = tuple(f"{p}{s}" for p in ("Group", "GroupMember", "Directory") for s in _RW)
GROUP_SCOPES = (*GROUP_ROLES, "Directory.AccessAsUser.All")
PHOTO_ROLES = (*USER_ROLES, "ProfilePhoto.Read.All")
CASTS = {"microsoft.graph.user": USERS, "microsoft.graph.group": GROUPS}


def _tenant() -> Tenant:
    return current_app.extensions["tenant"]


def _not_found(name: str) -> GraphHTTPError:
    return GraphHTTPError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{name}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def _context(fragment: str, names: list[str] | None = None, entity: bool = False) -> str:
    selected = f"({','.join(names)})" if names else ""
    return absolute_url(f"/v1.0/$metadata#{fragment}{selected}" + ("/$entity" if entity else ""))


# -- who may read what -------------------------------------------------------------------------


def _read_user(user_ref: str | None, roles=USER_ROLES, scopes=USER_SCOPES) -> User:
    """The user a route is about (`None` = /me), once the caller may read it."""
    caller = tokens.graph_caller()
    if user_ref is None and caller.app_only:
        raise GraphHTTPError(
            400, "BadRequest", "/me request is only valid with delegated authentication flow."
        )
    user = _tenant().user(user_ref or caller.user_id or "")
    own = user is not None and user.id == caller.user_id
    # User.Read is the signed-in user's own profile (and memberships, photo).
    tokens.require_permission(caller, roles, (*scopes, "User.Read") if own else scopes, True)
    if user is None:
        raise _not_found(user_ref or "me")
    return user


def _check_group_reader() -> None:
    tokens.require_permission(tokens.graph_caller(), GROUP_ROLES, GROUP_SCOPES, directory=True)


def _read_group(group_id: str) -> Group:
    """The group a route is about, once the caller may read groups."""
    _check_group_reader()
    group = _tenant().group(group_id)
    if group is None:
        raise _not_found(group_id)
    return group


# Resource units per request (throttling-limits.md, identity and access service limits).
_BASE_COST = {"list_users": 2, "member_of": 2, "members": 3, "transitiveMembers": 5}


@bp.after_request
def _resource_units(response: Response) -> Response:
    """`x-ms-resource-unit`: what the request cost against the directory's token bucket."""
    args = request.view_args or {}
    view = (request.endpoint or "").rpartition(".")[2]
    cost = _BASE_COST.get(args.get("relation") or view, 1)
    cost -= bool(query_param("$select"))
    cost += bool(query_param("$expand"))
    top = query_param("$top") or ""
    cost -= top.isdigit() and int(top) < 20
    response.headers["x-ms-resource-unit"] = str(max(1, cost))
    return response


# -- users -------------------------------------------------------------------------------------


@bp.get("/users")
def list_users():
    tokens.require_permission(tokens.graph_caller(), USER_ROLES, USER_SCOPES, directory=True)
    people = [(USERS, user_json(u)) for u in _tenant().users.values() if not u.deleted]
    return list_page(people, "/v1.0/$metadata#users", typed=False)


@bp.get("/me", defaults={"user_ref": None})
@bp.get("/users/<user_ref>")
def get_user(user_ref: str | None):
    user = _read_user(user_ref)
    names = selection((USERS,), collection=False)
    return {"@odata.context": _context("users", names, entity=True), **_user_body(user, names)}


@bp.get("/me/manager", defaults={"user_ref": None})
@bp.get("/users/<user_ref>/manager")
def get_manager(user_ref: str | None):
    user = _read_user(user_ref)
    manager = _tenant().user(user.manager_id) if user.manager_id else None
    if manager is None:  # by design a 404, worded as for any missing reference property
        raise _not_found("manager")
    names = selection((USERS,), collection=False)
    body = shape(user_json(manager), USERS, names, typed=True)
    return {"@odata.context": _context("directoryObjects", entity=True), **body}


def _user_body(user: User, names: list[str] | None) -> dict[str, Any]:
    body = user_json(user)
    body.update({name: [] if name.endswith("s") else None for name in USERS.single_only})
    return shape(body, USERS, names)


@bp.get("/me/photo", defaults={"user_ref": None})
@bp.get("/users/<user_ref>/photo")
def get_photo(user_ref: str | None):
    user, picture = _photo(user_ref)
    context = absolute_url(f"/v1.0/$metadata#users('{user.id}')/photo/$entity")
    return {"@odata.context": context, **_photo_json(picture)}


@bp.get("/me/photo/$value", defaults={"user_ref": None, "size": None})
@bp.get("/users/<user_ref>/photo/$value", defaults={"size": None})
@bp.get("/me/photos/<size>/$value", defaults={"user_ref": None})
@bp.get("/users/<user_ref>/photos/<size>/$value")
def get_photo_bytes(user_ref: str | None, size: str | None):
    _, picture = _photo(user_ref, size)
    kind, _, _ = _image_facts(picture)
    return Response(picture, mimetype=kind, headers={"ETag": _photo_etag(picture)})


@bp.get("/me/photos", defaults={"user_ref": None})
@bp.get("/users/<user_ref>/photos")
def list_photos(user_ref: str | None):
    """The sizes one can download: only those no larger than the photo uploaded."""
    user, picture = _photo(user_ref)
    context = absolute_url(f"/v1.0/$metadata#users('{user.id}')/photos")
    return {"@odata.context": context, "value": [_photo_json(picture)]}


@bp.get("/me/photos/<size>", defaults={"user_ref": None})
@bp.get("/users/<user_ref>/photos/<size>")
def get_sized_photo(user_ref: str | None, size: str):
    user, picture = _photo(user_ref, size)
    context = absolute_url(f"/v1.0/$metadata#users('{user.id}')/photos/$entity")
    return {"@odata.context": context, **_photo_json(picture)}


def _photo_json(picture: bytes) -> dict[str, Any]:
    kind, width, height = _image_facts(picture)
    return {
        "@odata.mediaContentType": kind,
        "@odata.mediaEtag": _photo_etag(picture),
        "id": f"{width}X{height}",
        "width": width,
        "height": height,
    }


def _photo(user_ref: str | None, size: str | None = None) -> tuple[User, bytes]:
    """The user's photo; `size` ("48x48") must be the one uploaded (nothing larger exists)."""
    user = _read_user(user_ref, PHOTO_ROLES, (*USER_SCOPES, "ProfilePhoto.Read.All"))
    picture = _tenant().photo(user.id)
    if picture is not None and size is not None:
        _, width, height = _image_facts(picture)
        picture = picture if size.lower() == f"{width}x{height}" else None
    if picture is None:
        raise GraphHTTPError(
            404,
            "ImageNotFound",
            "Exception of type 'Microsoft.People.Image.Common.Exceptions.ImageNotFoundException' "
            "was thrown.",
        )
    return user, picture


def _image_facts(picture: bytes) -> tuple[str, int, int]:
    """Content type and pixel size, read from the PNG header (the generator's format)."""
    if picture.startswith(b"\x89PNG") and len(picture) >= 24:
        width, height = struct.unpack(">II", picture[16:24])
        return "image/png", width, height
    return "image/jpeg", 240, 240


def _photo_etag(picture: bytes) -> str:
    return f'"{zlib.crc32(picture) & 0xFFFFFFFF:08X}"'


@bp.get("/me/memberOf", defaults={"user_ref": None, "cast": None, "transitive": False})
@bp.get("/me/memberOf/<cast>", defaults={"user_ref": None, "transitive": False})
@bp.get("/me/transitiveMemberOf", defaults={"user_ref": None, "cast": None, "transitive": True})
@bp.get("/me/transitiveMemberOf/<cast>", defaults={"user_ref": None, "transitive": True})
@bp.get("/users/<user_ref>/memberOf", defaults={"cast": None, "transitive": False})
@bp.get("/users/<user_ref>/memberOf/<cast>", defaults={"transitive": False})
@bp.get("/users/<user_ref>/transitiveMemberOf", defaults={"cast": None, "transitive": True})
@bp.get("/users/<user_ref>/transitiveMemberOf/<cast>", defaults={"transitive": True})
def member_of(user_ref: str | None, cast: str | None, transitive: bool):
    user = _read_user(user_ref, (*USER_ROLES, *GROUP_ROLES), (*USER_SCOPES, *GROUP_SCOPES))
    tenant = _tenant()
    if transitive:
        group_ids = tenant.transitive_groups(user.id)
    else:
        group_ids = {g.id for g in tenant.groups.values() if user.id in g.member_ids}
    groups = [g for g in tenant.groups.values() if g.id in group_ids and not g.deleted]
    return _object_list([g.id for g in groups], cast)


# -- groups ------------------------------------------------------------------------------------


@bp.get("/groups")
def list_groups():
    _check_group_reader()
    tenant = _tenant()
    groups = [
        (GROUPS, group_json(g, tenant.domain)) for g in tenant.groups.values() if not g.deleted
    ]
    return list_page(groups, "/v1.0/$metadata#groups", typed=False)


@bp.get("/groups/<group_id>")
def get_group(group_id: str):
    group = _read_group(group_id)
    names = selection((GROUPS,), collection=False)
    body = shape(group_json(group, _tenant().domain), GROUPS, names)
    return {"@odata.context": _context("groups", names, entity=True), **body}


@bp.get("/groups/<group_id>/<relation>", defaults={"cast": None})
@bp.get("/groups/<group_id>/<relation>/<cast>")
def group_relation(group_id: str, relation: str, cast: str | None):
    """members, transitiveMembers and owners: directoryObject collections."""
    group = _read_group(group_id)
    if relation == "members":
        ids = list(group.member_ids)
    elif relation == "transitiveMembers":
        ids = _tenant().transitive_members(group.id)
    elif relation == "owners":
        ids = list(group.owner_ids)
    else:
        raise GraphHTTPError(400, "BadRequest", f"Resource not found for the segment '{relation}'.")
    return _object_list(ids, cast)


def _object_list(object_ids: list[str], cast: str | None) -> dict[str, Any]:
    """A page of directoryObjects (users and groups), or of one type after an OData cast."""
    wanted: Catalog | None = None
    if cast is not None:
        wanted = CASTS.get(cast)
        if wanted is None:
            raise unsupported(f"Invalid cast '{cast}' on a directoryObject collection.")
    tenant = _tenant()
    entries: list[tuple[Catalog, dict[str, Any]]] = []
    for object_id in dict.fromkeys(object_ids):
        user, group = tenant.user(object_id), tenant.group(object_id)
        if user and wanted in (None, USERS):
            entries.append((USERS, user_json(user)))
        elif group and wanted in (None, GROUPS):
            entries.append((GROUPS, group_json(group, tenant.domain)))
    fragment = "users" if wanted is USERS else "groups" if wanted is GROUPS else "directoryObjects"
    return list_page(entries, f"/v1.0/$metadata#{fragment}", typed=wanted is None, relation=True)


# -- delta -------------------------------------------------------------------------------------


@bp.get("/users/delta")
@bp.get("/users/delta()")
def users_delta():
    scopes = (*USER_SCOPES, "User.Read")  # as user-delta.md lists them
    tokens.require_permission(tokens.graph_caller(), USER_ROLES, scopes, directory=True)

    def initial() -> Query:
        _reject_in_delta("$orderby", "$expand")
        names = selection((USERS,), collection=True)
        return Query("users", tuple(names or USER_DEFAULTS), names is not None, False, _ids())

    return respond("users", initial, _directory_now)


@bp.get("/groups/delta")
@bp.get("/groups/delta()")
def groups_delta():
    _check_group_reader()

    def initial() -> Query:
        _reject_in_delta("$orderby")
        names = selection((GROUPS,), collection=True, extra=("members",))
        expand = (query_param("$expand") or "").strip().lower()
        if expand not in ("", "members"):  # only members expands in delta (group-delta.md)
            raise unsupported()
        props = tuple(n for n in names or GROUP_PROPERTIES if n != "members")
        members = names is None or "members" in names or expand == "members"
        return Query("groups", props, names is not None, members, _ids())

    return respond("groups", initial, _directory_now)


def _reject_in_delta(*options: str) -> None:
    for option in options:
        if query_param(option):
            raise unsupported()


_ID_CLAUSE = re.compile(r"\s*id\s+eq\s+'([^']+)'\s*", re.IGNORECASE)


def _ids() -> tuple[str, ...]:
    """`$filter=id eq '..' or id eq '..'`: the one filter delta takes, at most 50 ids."""
    raw = query_param("$filter")
    if not raw:
        return ()
    clauses = re.split(r"\s+or\s+", raw.strip(), flags=re.IGNORECASE)
    matches = [_ID_CLAUSE.fullmatch(c) for c in clauses]
    if not all(matches) or len(matches) > 50:
        raise unsupported()
    return tuple(m.group(1) for m in matches if m)


def _directory_now() -> dict[str, dict[str, Entry]]:
    """Every user and group (deleted ones flagged) with each group's live direct members."""
    tenant = _tenant()
    users = {u.id: Entry(user_json(u), u.deleted) for u in tenant.users.values()}
    groups = {}
    for group in tenant.groups.values():
        members = []
        for member in group.member_ids:
            if tenant.user(member):
                members.append(("#microsoft.graph.user", member))
            elif tenant.group(member):
                members.append(("#microsoft.graph.group", member))
        body = group_json(group, tenant.domain)
        groups[group.id] = Entry(body, group.deleted, tuple(members))
    return {"users": users, "groups": groups}
