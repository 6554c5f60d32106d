"""Drives reached through their owner: `/me/drive`, `/users/{id}/drive`, `/groups/{id}/drive`.

A group's drive is its team site's default document library (and `/groups/{id}/drives` that
site's libraries), so everything `/drives/{id}/...` serves works below `/groups/{id}/drive/`.
The emulated firm has no OneDrives: nobody's personal site was provisioned, so a user's drive
answers what Graph answers then, 404 `ResourceNotFound` "User's mysite not found."
"""

from __future__ import annotations

from flask import Blueprint, current_app

from connector.emulator import odata, tokens
from connector.emulator.graph_files import (
    default_drive,
    drive_route,
    files_caller,
    list_drives,
)
from connector.emulator.graph_items import DriveScope
from connector.emulator.model import Site
from connector.emulator.odata import GraphHTTPError
from connector.emulator.tenant import Tenant

bp = Blueprint("graph_owner_drives", __name__, url_prefix="/v1.0")


def _tenant() -> Tenant:
    return current_app.extensions["tenant"]


def _directory_not_found(name: str) -> GraphHTTPError:
    return GraphHTTPError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{name}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


@bp.route("/me/drive", defaults={"user_ref": None, "rest": ""})
@bp.route("/me/drive/<path:rest>", defaults={"user_ref": None})
@bp.route("/me/drives", defaults={"user_ref": None, "rest": ""})
@bp.route("/users/<user_ref>/drive", defaults={"rest": ""})
@bp.route("/users/<user_ref>/drive/<path:rest>")
@bp.route("/users/<user_ref>/drives", defaults={"rest": ""})
def user_drive(user_ref: str | None, rest: str):
    """A user's OneDrive: none is provisioned in the emulated tenant."""
    caller = files_caller()
    if user_ref is None and caller.app_only:
        raise odata.bad_request(
            "/me request is only valid with delegated authentication flow.", "BadRequest"
        )
    if _tenant().user(user_ref or caller.user_id or "") is None:
        raise _directory_not_found(user_ref or "me")
    raise GraphHTTPError(404, "ResourceNotFound", "User's mysite not found.")


@bp.route("/groups/<group_id>/drive", defaults={"rest": ""})
@bp.route("/groups/<group_id>/drive/<path:rest>")
def group_drive(group_id: str, rest: str):
    """The group's team site's default library, then whatever `/drives/{id}/` serves."""
    tenant = _tenant()
    caller = files_caller()
    site = _team_site(tenant, group_id)
    return drive_route(DriveScope(tenant, caller, site, default_drive(tenant, site)), rest)


@bp.route("/groups/<group_id>/drives")
def group_drives(group_id: str):
    tenant = _tenant()
    caller: tokens.Caller = files_caller()
    return list_drives(tenant, caller, _team_site(tenant, group_id))


def _team_site(tenant: Tenant, group_id: str) -> Site:
    """The site connected to the group; a group without one has no drive."""
    if tenant.group(group_id) is None:
        raise _directory_not_found(group_id)
    site = next((s for s in tenant.sites.values() if s.group_id == group_id), None)
    if site is None:
        raise odata.not_found("The resource could not be found.")
    return site
