"""The control API under /_emulator/: tests change the tenant, inject faults and ask the oracle.

It is localhost test plumbing, so there is no authentication. JSON in and out; bad input is a
400 and an unknown id a 404, both as {"error": {"code", "message"}}. Every change goes through
the Tenant's own mutation methods, so it lands in the change journals that delta queries read,
exactly as if a person had done it in SharePoint.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from connector.emulator import control_faults
from connector.emulator.documents import principal_grant
from connector.emulator.model import (
    EVERYONE,
    GROUP,
    OWNER,
    READ,
    SITE_GROUP,
    USER,
    WRITE,
    Grant,
    Item,
    Principal,
    User,
)
from connector.emulator.tenant import Tenant

bp = Blueprint("control", __name__, url_prefix="/_emulator")
bp.register_blueprint(control_faults.bp)  # /_emulator/faults

ROLES = (READ, WRITE, OWNER)
LINK_SCOPES = ("anonymous", "organization", "users")
LINK_TYPES = ("view", "edit")
USER_FIELDS = {f.name for f in dataclasses.fields(User)} - {"id"}


class ControlError(Exception):
    """A control request that cannot be carried out; rendered as {"error": {...}}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(ControlError)
def _control_error(err: ControlError):
    code = {400: "badRequest", 404: "notFound"}.get(err.status, "error")
    return jsonify({"error": {"code": code, "message": err.message}}), err.status


def _tenant() -> Tenant:
    return current_app.extensions["tenant"]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise ControlError(400, "The request body must be a JSON object.")
    return body


def _text(body: dict[str, Any], name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"'{name}' must be a non-empty string.")
    return value


def _call(action, *args, **kwargs):
    """Runs a tenant mutation: its ValueError (a refused change) is a 400, KeyError a 404."""
    try:
        return action(*args, **kwargs)
    except ValueError as err:
        raise ControlError(400, str(err)) from err
    except KeyError as err:
        raise ControlError(404, str(err.args[0]) if err.args else "Not found.") from err


# -- lookups (404 for unknown ids) ---------------------------------------------------------------


def _user(tenant: Tenant, id_or_upn: str) -> User:
    user = tenant.user(id_or_upn)
    if user is None:
        raise ControlError(404, f"No user {id_or_upn!r}.")
    return user


def _live_item(tenant: Tenant, drive_id: str, item_id: str) -> Item:
    if tenant.drive(drive_id) is None:
        raise ControlError(404, f"No drive {drive_id!r}.")
    item = tenant.item(drive_id, item_id)
    if item is None or item.deleted:
        raise ControlError(404, f"No item {item_id!r} in drive {drive_id!r}.")
    return item


def _principal(tenant: Tenant, raw: Any) -> Principal:
    if not isinstance(raw, dict):
        raise ControlError(400, "'principal' must be an object {kind, id}.")
    kind, pid = raw.get("kind"), str(raw.get("id", ""))
    if kind == EVERYONE:
        return Principal(EVERYONE)
    if kind == USER:
        return Principal(USER, _user(tenant, pid).id)
    if kind == GROUP:
        if tenant.group(pid) is None:
            raise ControlError(404, f"No group {pid!r}.")
        return Principal(GROUP, pid)
    if kind == SITE_GROUP:
        if not pid.isdigit():
            raise ControlError(400, 'A siteGroup principal\'s id is its number, e.g. "5".')
        return Principal(SITE_GROUP, pid)
    kinds = ", ".join((USER, GROUP, SITE_GROUP, EVERYONE))
    raise ControlError(400, f"Principal kind must be one of {kinds}; got {kind!r}.")


def _roles(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or any(r not in ROLES for r in raw):
        raise ControlError(400, f"'roles' must be a non-empty list of {', '.join(ROLES)}.")
    return tuple(raw)


# -- JSON shapes ---------------------------------------------------------------------------------


def item_json(item: Item) -> dict[str, Any]:
    return {
        "drive_id": item.drive_id,
        "item_id": item.id,
        "index": item.index,
        "name": item.name,
        "parent_id": item.parent_id,
        "folder": item.folder,
        "size": item.size,
        "modified_by": item.modified_by,
        "version": item.version,
        "content_version": item.content_version,
        "unique_permissions": item.unique_permissions,
        "deleted": item.deleted,
    }


def grant_json(grant: Grant) -> dict[str, Any]:
    principal = grant.principal
    link = grant.link
    return {
        "id": grant.id,
        "roles": list(grant.roles),
        "principal": {"kind": principal.kind, "id": principal.id} if principal else None,
        "link": None
        if link is None
        else {
            "type": link.type,
            "scope": link.scope,
            "web_url": link.web_url,
            "grantees": list(link.grantees),
        },
    }


# -- items ---------------------------------------------------------------------------------------


@bp.post("/items")
def add_item():
    tenant, body = _tenant(), _body()
    drive_id = _text(body, "drive_id")
    if tenant.drive(drive_id) is None:
        raise ControlError(404, f"No drive {drive_id!r}.")
    parent_id = body.get("parent_id") or tenant.root(drive_id).id
    parent = _live_item(tenant, drive_id, parent_id)
    if not parent.folder:
        raise ControlError(400, f"Parent {parent_id!r} is a file, not a folder.")
    folder = body.get("folder", False)
    if not isinstance(folder, bool):
        raise ControlError(400, "'folder' must be true or false.")
    by = _user(tenant, _text(body, "by")).id
    item = _call(tenant.add_item, drive_id, parent.id, _text(body, "name"), folder, by)
    return jsonify(item_json(item)), 201


@bp.patch("/items/<drive_id>/<item_id>")
def change_item(drive_id: str, item_id: str):
    """Edit content {"content": {"by", "size"?}}, rename {"name"} and/or move {"parent_id"}."""
    tenant, body = _tenant(), _body()
    item = _live_item(tenant, drive_id, item_id)
    if not {"content", "name", "parent_id"} & set(body):
        raise ControlError(400, "Give at least one of 'content', 'name' or 'parent_id'.")
    if "content" in body:
        content = body["content"] if isinstance(body["content"], dict) else {}
        by = _user(tenant, _text(content, "by", item.modified_by)).id
        size = content.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise ControlError(400, "'content.size' must be a whole number of bytes.")
        item = _call(tenant.edit_item, drive_id, item_id, by, size)
    if "name" in body:
        item = _call(tenant.rename_item, drive_id, item_id, _text(body, "name"))
    if "parent_id" in body:
        parent = _live_item(tenant, drive_id, _text(body, "parent_id"))
        if not parent.folder:
            raise ControlError(400, f"New parent {parent.id!r} is a file, not a folder.")
        item = _call(tenant.move_item, drive_id, item_id, parent.id)
    return jsonify(item_json(item))


@bp.delete("/items/<drive_id>/<item_id>")
def delete_item(drive_id: str, item_id: str):
    tenant = _tenant()
    item = _live_item(tenant, drive_id, item_id)
    if item.is_root:
        raise ControlError(400, "A library's root folder cannot be deleted.")
    tombstones = _call(tenant.delete_item, drive_id, item_id)
    return jsonify({"deleted": [t.id for t in tombstones]})


# -- permissions ---------------------------------------------------------------------------------


@bp.post("/items/<drive_id>/<item_id>/permissions/break")
def break_inheritance(drive_id: str, item_id: str):
    tenant, body = _tenant(), _body()
    _live_item(tenant, drive_id, item_id)
    grants = None
    if body.get("grants") is not None:
        if not isinstance(body["grants"], list):
            raise ControlError(400, "'grants' must be a list of {principal, roles}.")
        grants = [_grant_from(tenant, raw) for raw in body["grants"]]
    result = _call(tenant.break_inheritance, drive_id, item_id, grants)
    return jsonify({"grants": [grant_json(g) for g in result]})


def _grant_from(tenant: Tenant, raw: Any) -> Grant:
    if not isinstance(raw, dict):
        raise ControlError(400, "Each grant must be an object {principal, roles}.")
    return principal_grant(_principal(tenant, raw.get("principal")), _roles(raw.get("roles")))


@bp.post("/items/<drive_id>/<item_id>/permissions/restore")
def restore_inheritance(drive_id: str, item_id: str):
    tenant = _tenant()
    _live_item(tenant, drive_id, item_id)
    _call(tenant.restore_inheritance, drive_id, item_id)
    return jsonify({"grants": [grant_json(g) for g in tenant.grants(drive_id, item_id)]})


@bp.post("/items/<drive_id>/<item_id>/permissions")
def add_grant(drive_id: str, item_id: str):
    tenant, body = _tenant(), _body()
    _live_item(tenant, drive_id, item_id)
    principal = _principal(tenant, body.get("principal"))
    grant = _call(tenant.add_grant, drive_id, item_id, principal, _roles(body.get("roles")))
    return jsonify(grant_json(grant)), 201


@bp.delete("/items/<drive_id>/<item_id>/permissions/<grant_id>")
def remove_grant(drive_id: str, item_id: str, grant_id: str):
    tenant = _tenant()
    _live_item(tenant, drive_id, item_id)
    if all(g.id != grant_id for g in tenant.grants(drive_id, item_id)):
        raise ControlError(404, f"No permission {grant_id!r} on item {item_id!r}.")
    _call(tenant.remove_grant, drive_id, item_id, grant_id)
    return "", 204


@bp.post("/items/<drive_id>/<item_id>/links")
def create_link(drive_id: str, item_id: str):
    tenant, body = _tenant(), _body()
    _live_item(tenant, drive_id, item_id)
    scope, link_type = body.get("scope"), body.get("type", "view")
    if scope not in LINK_SCOPES:
        raise ControlError(400, f"'scope' must be one of {', '.join(LINK_SCOPES)}.")
    if link_type not in LINK_TYPES:
        raise ControlError(400, f"'type' must be one of {', '.join(LINK_TYPES)}.")
    raw_grantees = body.get("grantees", [])
    if not isinstance(raw_grantees, list):
        raise ControlError(400, "'grantees' must be a list of user ids or UPNs.")
    grantees = tuple(_user(tenant, str(g)).id for g in raw_grantees)
    if scope == "users" and not grantees:
        raise ControlError(400, "A specific-people link ('users') needs 'grantees'.")
    grant = _call(tenant.create_link, drive_id, item_id, scope, link_type, grantees)
    return jsonify(grant_json(grant)), 201


# -- directory and apps --------------------------------------------------------------------------


def _group_or_404(tenant: Tenant, group_id: str):
    group = tenant.group(group_id)
    if group is None:
        raise ControlError(404, f"No group {group_id!r}.")
    return group


@bp.post("/groups/<group_id>/members")
def add_group_member(group_id: str):
    tenant, body = _tenant(), _body()
    _group_or_404(tenant, group_id)
    member_id = _text(body, "member_id")
    if tenant.group(member_id) is None:
        member_id = _user(tenant, member_id).id
    _call(tenant.add_group_member, group_id, member_id)
    return jsonify({"group_id": group_id, "member_ids": list(tenant.group(group_id).member_ids)})


@bp.delete("/groups/<group_id>/members/<member_id>")
def remove_group_member(group_id: str, member_id: str):
    tenant = _tenant()
    group = _group_or_404(tenant, group_id)
    if member_id not in group.member_ids:
        raise ControlError(404, f"{member_id!r} is not a direct member of group {group_id!r}.")
    _call(tenant.remove_group_member, group_id, member_id)
    return "", 204


@bp.patch("/users/<user_id>")
def update_user(user_id: str):
    tenant, body = _tenant(), _body()
    user = _user(tenant, user_id)
    unknown = set(body) - USER_FIELDS
    if unknown or not body:
        raise ControlError(
            400, f"Give profile fields to change, from: {', '.join(sorted(USER_FIELDS))}."
        )
    updated = _call(tenant.update_user, user.id, **body)
    return jsonify(dataclasses.asdict(updated))


@bp.put("/apps/<client_id>/roles")
def set_app_roles(client_id: str):
    """Grants or revokes admin consent: the app's application permissions become `roles`."""
    tenant, body = _tenant(), _body()
    if client_id not in tenant.apps:
        raise ControlError(404, f"No app registration {client_id!r}.")
    roles = body.get("roles")
    if not isinstance(roles, list) or any(not isinstance(r, str) or not r for r in roles):
        raise ControlError(
            400, "'roles' must be a list of permission names, e.g. [\"Sites.Read.All\"]."
        )
    _call(tenant.set_app_roles, client_id, list(roles))
    return jsonify({"client_id": client_id, "roles": sorted(tenant.apps[client_id].roles)})


@bp.post("/delta/expire")
def expire_delta():
    _tenant().expire_delta_tokens()
    return jsonify({"expired": True})


# -- oracle and state ----------------------------------------------------------------------------


@bp.get("/oracle/visible-items")
def visible_items():
    """What a user can open right now, by the emulator's own permission model."""
    tenant = _tenant()
    raw = request.args.get("user")
    if not raw:
        raise ControlError(400, "Give ?user= an object id or userPrincipalName.")
    user = _user(tenant, raw)
    items = [{"drive_id": d, "item_id": i} for d, i in tenant.visible_items(user.id)]
    return jsonify({"user": user.id, "items": items})


@bp.get("/state")
def state():
    tenant = _tenant()
    with tenant.lock:
        counts = {
            "users": sum(not u.deleted for u in tenant.users.values()),
            "groups": sum(not g.deleted for g in tenant.groups.values()),
            "apps": len(tenant.apps),
            "sites": len(tenant.sites),
            "drives": len(tenant.drives),
            "item_positions": sum(tenant.end_position(d) for d in tenant.drives),
        }
        return jsonify(
            {
                "seed": tenant.spec.seed,
                "size": tenant.spec.label,
                "tenant_id": tenant.tenant_id,
                "seq": tenant.seq,
                "counts": counts,
            }
        )
