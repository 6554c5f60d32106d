"""Graph sites and files: the routes for sites, drives and driveItems, and their URL grammar.

URL shapes are parsed by hand rather than by Flask rules because Graph's own grammar mixes
path addressing (`root:/A/B:/children`), OData functions (`delta()`, `getAllSites`) and site
addresses with colons (`{hostname}:/sites/tax:`). `/sites/{id}/drive/...` resolves to the
default drive and then follows the same code as `/drives/{id}/...`; item-level handlers live in
graph_items, delta in graph_delta.

Visibility: app-only callers need a Sites.* (or, for files, Files.*) application permission;
delegated callers see only what `tenant.can_open` allows, and anything else answers 404
itemNotFound, exactly like a missing item.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, request

from connector.emulator import graph_delta, graph_json, graph_lists, odata, tokens
from connector.emulator.graph_items import (
    DriveScope,
    context_url,
    get_item,
    graph_json_response,
    item_not_found,
    list_children,
    list_permissions,
    locate_item,
    select_fields,
)
from connector.emulator.model import Drive, Site
from connector.emulator.odata import GraphHTTPError

if TYPE_CHECKING:
    from connector.emulator.tenant import Tenant

bp = Blueprint("graph_files", __name__, url_prefix="/v1.0")

SITE_ROLES = ("Sites.Read.All", "Sites.ReadWrite.All", "Sites.FullControl.All")
FILE_ROLES = (*SITE_ROLES, "Files.Read.All", "Files.ReadWrite.All")
SITE_SCOPES = SITE_ROLES
FILE_SCOPES = (*FILE_ROLES, "Files.Read", "Files.ReadWrite")
# `{locator}[:/{path}[:]][/{action}]`, the locator being `root` or `items/{id}`.
ITEM_ADDRESS = re.compile(
    r"^(?:(?P<root>root)|items/(?P<id>[^/:]+))(?::/?(?P<path>[^:]*):?)?(?:/(?P<action>.*))?$",
    re.IGNORECASE,
)
DELTA_ACTION = re.compile(r"^(?:microsoft\.graph\.)?delta(?:\((?P<args>.*)\))?$", re.IGNORECASE)
ALL_SITES = {
    "getallsites",
    "getallsites()",
    "microsoft.graph.getallsites",
    "microsoft.graph.getallsites()",
}


def _tenant() -> Tenant:
    return current_app.extensions["tenant"]


# -- the caller ----------------------------------------------------------------------------


def files_caller(sites_only: bool = False) -> tokens.Caller:
    """The checked caller: 401 without a good token, 403 without a Sites/Files permission."""
    caller = tokens.graph_caller()
    if sites_only:
        tokens.require_permission(caller, SITE_ROLES, SITE_SCOPES, directory=False)
    else:
        tokens.require_permission(caller, FILE_ROLES, FILE_SCOPES, directory=False)
    return caller


def can_open_site(tenant: Tenant, caller: tokens.Caller, site: Site) -> bool:
    return caller.app_only or tenant.can_open_site(caller.user_id, site)  # type: ignore[arg-type]


# -- sites ---------------------------------------------------------------------------------


@bp.route("/sites", defaults={"rest": ""})
@bp.route("/sites/<path:rest>")
def sites(rest: str):
    tenant = _tenant()
    rest = rest.strip("/")
    if rest.lower() in ALL_SITES:
        return list_all_sites(tenant)
    if not rest:
        return (
            search_sites(tenant)
            if odata.query_param("search") is not None
            else list_all_sites(tenant)
        )
    site, tail = resolve_site(tenant, rest)
    return site_route(tenant, site, tail)


def resolve_site(tenant: Tenant, rest: str) -> tuple[Site, str]:
    """The site a `/sites/...` path names, and what follows it."""
    head, _, tail = rest.partition("/")
    if head.lower() == "root":
        return tenant.site_by_path("/"), tail  # type: ignore[return-value]
    split = rest.find(":/")
    if split > 0 and "/" not in rest[:split]:
        host, after = rest[:split], rest[split + 2 :]
        check_hostname(tenant, host)
        path, _, tail = after.partition(":")
        site = tenant.site_by_path("/" + path)
        if site is None:
            raise GraphHTTPError(404, "itemNotFound", "Requested site could not be found")
        return site, tail.strip("/")
    if head.split(":")[0].lower() == graph_json.hostname(tenant) and "," not in head:
        check_hostname(tenant, head)
        return tenant.site_by_path("/"), tail  # type: ignore[return-value]
    site = tenant.sites.get(head) or next(
        (s for s in tenant.sites.values() if s.id.lower() == head.lower()), None
    )
    if site is None:
        raise GraphHTTPError(404, "itemNotFound", "Requested site could not be found")
    return site, tail


def check_hostname(tenant: Tenant, host: str) -> None:
    """`{hostname}` may carry the emulator's port or not; any other host is not this tenant's."""
    name, _, port = host.lower().partition(":")
    ours = request.host.lower().partition(":")[2]
    if name != graph_json.hostname(tenant) or (port and port != ours):
        raise GraphHTTPError(400, "invalidRequest", "Invalid hostname for this tenancy")


def site_route(tenant: Tenant, site: Site, tail: str):
    caller = files_caller(sites_only=not tail.lower().startswith("drive"))
    if not can_open_site(tenant, caller, site) and not tail.lower().startswith("drive"):
        raise GraphHTTPError(403, "accessDenied", "Access denied")
    head, _, rest = tail.partition("/")
    head = head.lower()
    if head == "":
        body = graph_json.site_json(tenant, site)
        body = {"@odata.context": context_url("sites/$entity"), **body}
        return graph_json_response(odata.apply_select(body, select_fields()))
    if head == "sites":
        return graph_json_response(
            {"@odata.context": context_url(f"sites('{site.id}')/sites"), "value": []}
        )
    if head == "lists" or head.startswith("lists("):  # lists/{key} or lists('{key}')
        return graph_lists.route(tenant, site, tail[len("lists") :].lstrip("/"))
    if head == "drives" and not rest:
        return list_drives(tenant, caller, site)
    if head == "drives":
        drive_id, _, drive_tail = rest.partition("/")
        drive = tenant.drive(drive_id)
        if drive is None or drive.site_id != site.id:
            raise item_not_found()
        return drive_route(DriveScope(tenant, caller, site, drive), drive_tail)
    if head == "drive":
        drive = default_drive(tenant, site)
        return drive_route(DriveScope(tenant, caller, site, drive), rest)
    raise GraphHTTPError(400, "BadRequest", f"Resource not found for the segment '{head}'.")


def default_drive(tenant: Tenant, site: Site) -> Drive:
    drives = tenant.drives_of(site.id)
    return next((d for d in drives if d.url_name == "Shared Documents"), drives[0])


def sites_page(tenant: Tenant, found: list[Site]) -> Response:
    fields = select_fields()
    value = [odata.apply_select(graph_json.site_json(tenant, s), fields) for s in found]
    return graph_json_response({"@odata.context": context_url("sites"), "value": value}, 2)


def list_all_sites(tenant: Tenant) -> Response:
    """GET /sites and getAllSites: application permissions only (site-list.md)."""
    caller = files_caller(sites_only=True)
    if not caller.app_only:
        raise GraphHTTPError(403, "accessDenied", "Access denied")
    return sites_page(tenant, sorted(tenant.sites.values(), key=lambda s: s.created_at))


def search_sites(tenant: Tenant) -> Response:
    """GET /sites?search=q: a case-insensitive match on name, displayName or description."""
    caller = files_caller(sites_only=True)
    query = (odata.query_param("search") or "").strip().strip('"').lower()
    found = [
        s
        for s in tenant.sites.values()
        if (
            query in ("", "*")
            or query in s.name.lower()
            or query in s.display_name.lower()
            or query in s.description.lower()
        )
        and can_open_site(tenant, caller, s)
    ]
    return sites_page(tenant, found)


# -- drives --------------------------------------------------------------------------------


def drive_used(tenant: Tenant, drive: Drive) -> int:
    return tenant.root(drive.id).size


def list_drives(tenant: Tenant, caller: tokens.Caller, site: Site) -> Response:
    """A site's libraries; system ones only when `system` is in $select (drive-list.md)."""
    fields = select_fields()
    with_system = bool(fields) and "system" in {f.lower() for f in fields}
    drives = tenant.drives_of(site.id, include_system=with_system)
    if not caller.app_only and not can_open_site(tenant, caller, site):
        drives = [d for d in drives if tenant.can_open(caller.user_id, d.id, "root")]  # type: ignore[arg-type]
    value = [
        odata.apply_select(
            graph_json.drive_json(tenant, d, site, drive_used(tenant, d), with_system), fields
        )
        for d in drives
    ]
    return graph_json_response({"@odata.context": context_url("drives"), "value": value}, 2)


@bp.route("/drives/<path:rest>")
def drives(rest: str):
    tenant = _tenant()
    drive_id, _, tail = rest.partition("/")
    caller = files_caller()
    drive = tenant.drive(drive_id)
    if drive is None:
        raise item_not_found()
    return drive_route(DriveScope(tenant, caller, tenant.site_of(drive.id), drive), tail)


def drive_route(scope: DriveScope, tail: str):
    tail = tail.strip("/")
    if not tail:
        return get_drive(scope)
    address = ITEM_ADDRESS.match(tail)
    if address is None:
        raise GraphHTTPError(400, "BadRequest", "Invalid request")
    action = (address["action"] or "").strip("/")
    delta = DELTA_ACTION.match(action)
    if delta is not None:
        if address["path"] or (
            address["id"]
            and address["id"].lower() != "root"
            and address["id"] != scope.tenant.root(scope.drive.id).id
        ):
            raise GraphHTTPError(
                400, "invalidRequest", "Delta is only supported on the root of a drive."
            )
        return graph_delta.delta(scope, delta["args"])
    item = locate_item(scope, address["id"] or "root", address["path"])
    if action == "":
        return get_item(scope, item)
    if action.lower() == "children":
        return list_children(scope, item)
    if action.lower() == "permissions":
        return list_permissions(scope, item)
    raise GraphHTTPError(400, "BadRequest", f"Resource not found for the segment '{action}'.")


def get_drive(scope: DriveScope) -> Response:
    tenant, drive = scope.tenant, scope.drive
    if not scope.caller.app_only and not (
        can_open_site(tenant, scope.caller, scope.site) or scope.can_open(tenant.root(drive.id))
    ):
        raise item_not_found()
    fields = select_fields()
    with_system = bool(fields) and "system" in {f.lower() for f in fields}
    body = graph_json.drive_json(tenant, drive, scope.site, drive_used(tenant, drive), with_system)
    body = {"@odata.context": context_url("drives/$entity"), **body}
    return graph_json_response(odata.apply_select(body, fields))
