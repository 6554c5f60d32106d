"""Item-level Graph handlers: one driveItem, a folder's children, an item's permissions.

Everything here starts from a DriveScope (a resolved drive plus the checked caller), which
graph_files builds from the URL and graph_delta reuses. A delegated caller never sees an item
`tenant.can_open` denies: such items answer 404 itemNotFound, like missing ones, and listings
leave them out.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Response, jsonify, request

from connector.emulator import access, graph_json, odata, tokens
from connector.emulator.model import Drive, Item, Site
from connector.emulator.odata import GraphHTTPError

if TYPE_CHECKING:
    from connector.emulator.model import Grant
    from connector.emulator.tenant import Tenant

CHILDREN_PAGE, MAX_PAGE = 200, 999
JSON_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)


@dataclass(frozen=True)
class DriveScope:
    """A resolved drive and who asks about it: what every drive-level handler starts from."""

    tenant: Tenant
    caller: tokens.Caller
    site: Site
    drive: Drive
    # Folder paths met while answering this request: siblings on a page share their parents.
    folder_paths: dict[int, str] = field(default_factory=dict, compare=False)

    def can_open(self, item: Item) -> bool:
        if item.deleted:
            return False
        return self.caller.app_only or self.tenant.can_open(
            self.caller.user_id,  # type: ignore[arg-type]
            self.drive.id,
            item.id,
        )

    def path_of(self, item: Item) -> str:
        """The item's path below the root ("" for the root), reusing its parent's if known."""
        if item.is_root:
            return ""
        parent = item.parent_index
        parent_path = self.folder_paths.get(parent)  # type: ignore[arg-type]
        if parent_path is None:
            path = self.tenant.path_of(item)
            self.folder_paths[parent] = path.rsplit("/", 1)[0]  # type: ignore[index]
        else:
            path = f"{parent_path}/{item.name}"
        if item.folder:
            self.folder_paths[item.index] = path
        return path


def graph_json_response(
    body: dict[str, Any], resource_units: int = 1, headers: dict[str, str] | None = None
) -> Response:
    """A Graph JSON answer, with the SharePoint resource-unit cost of the call (PROTOCOL 3.2)."""
    response = jsonify(body)
    response.headers["Content-Type"] = JSON_TYPE
    response.headers["OData-Version"] = "4.0"
    response.headers["Cache-Control"] = "no-store, no-cache"
    response.headers["x-ms-resource-unit"] = str(resource_units)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def context_url(fragment: str) -> str:
    return odata.absolute_url("/v1.0/$metadata#" + fragment)


def item_not_found() -> GraphHTTPError:
    # The message ODB gives for a missing item (onedrive-api-docs issue 561).
    return GraphHTTPError(404, "itemNotFound", "Item does not exist")


def page_size(default: int) -> int:
    """`$top` for drive listings: ODB clamps large values instead of failing."""
    raw = odata.query_param("$top")
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise GraphHTTPError(400, "invalidRequest", f"Invalid value '{raw}' for $top.")
    return min(int(raw), MAX_PAGE)


def select_fields() -> list[str] | None:
    return odata.selected_fields()


# -- items ---------------------------------------------------------------------------------


def locate_item(scope: DriveScope, item_id: str, path: str | None) -> Item:
    """The live item at `items/{id}` (or root), then down `path` by case-insensitive names."""
    item = scope.tenant.item(scope.drive.id, item_id)
    if item is None or item.deleted:
        raise item_not_found()
    for name in (path or "").split("/"):
        if not name:
            continue
        if not item.folder:
            raise item_not_found()
        wanted = name.lower()
        item = next(
            (c for c in scope.tenant.children(scope.drive.id, item.id) if c.name.lower() == wanted),
            None,
        )
        if item is None:
            raise item_not_found()
    if not scope.can_open(item):
        raise item_not_found()
    return item


def child_count(scope: DriveScope, item: Item) -> int:
    return scope.tenant.child_count(scope.drive.id, item.id) if item.folder else 0


def shared_facet(tenant: Tenant, drive: Drive, item: Item) -> dict[str, Any] | None:
    """Default sharing rule (no Prefer header): `shared` on every item that is shared."""
    scope = graph_json.sharing_scope(tenant.grants(drive.id, item.id))
    return {"scope": scope} if scope else None


def render_item(
    scope: DriveScope,
    item: Item,
    in_delta: bool = False,
    shared: dict[str, Any] | None = None,
    default_shared: bool = True,
) -> dict[str, Any]:
    """The item's JSON; `shared` by the default rule unless the caller passes its own."""
    if default_shared:
        shared = shared_facet(scope.tenant, scope.drive, item)
    return graph_json.item_json(
        scope.tenant,
        scope.site,
        scope.drive,
        item,
        child_count=child_count(scope, item),
        shared=shared,
        in_delta=in_delta,
        path=scope.path_of(item),
    )


def get_item(scope: DriveScope, item: Item) -> Response:
    body = graph_json.select_item(render_item(scope, item), select_fields())
    context = context_url(f"drives('{scope.drive.id}')/items/$entity")
    return graph_json_response({"@odata.context": context, **body})


def list_children(scope: DriveScope, item: Item) -> Response:
    """A folder's children, $top per page (default 200), resumed with an opaque $skiptoken."""
    if not item.folder:
        return graph_json_response({"value": []}, 2)
    size = page_size(CHILDREN_PAGE)
    children = [c for c in scope.tenant.children(scope.drive.id, item.id) if scope.can_open(c)]
    start = resume_position(children, odata.query_param("$skiptoken"))
    page = children[start : start + size]
    fields = select_fields()
    body: dict[str, Any] = {
        "@odata.context": context_url(f"drives('{scope.drive.id}')/items('{item.id}')/children"),
        "value": [graph_json.select_item(render_item(scope, c), fields) for c in page],
    }
    if start + size < len(children):
        token = skip_token(page[-1], start + size)
        body["@odata.nextLink"] = odata.absolute_url(f"{request.path}?{next_query(size, token)}")
    return graph_json_response(body, 2)


def skip_token(last: Item, offset: int) -> str:
    # Shaped like SharePoint's own paging cookie (base64 of "Paged=TRUE&p_ID=...").
    text = f"Paged=TRUE&p_SortBehavior=0&p_ID={last.index}&p_Offset={offset}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def resume_position(children: list[Item], token: str | None) -> int:
    """Continue after the last item sent (by position), or at the sent offset if it is gone."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        fields = dict(part.split("=", 1) for part in text.split("&"))
        last, offset = int(fields["p_ID"]), int(fields["p_Offset"])
    except (ValueError, KeyError, UnicodeDecodeError) as err:
        raise GraphHTTPError(400, "invalidRequest", "Invalid skip token.") from err
    for position, child in enumerate(children):
        if child.index == last:
            return position + 1
    return min(offset, len(children))


def next_query(size: int, token: str) -> str:
    parts = [f"$top={size}"] if odata.query_param("$top") else []
    select = odata.query_param("$select")
    if select:
        parts.append(f"$select={select}")
    parts.append(f"$skiptoken={token}")
    return "&".join(parts)


# -- permissions ---------------------------------------------------------------------------


def list_permissions(scope: DriveScope, item: Item) -> Response:
    """The item's effective grants. Delegated callers who don't own the item see only the
    entries that admit them (driveitem-list-permissions.md)."""
    tenant = scope.tenant
    grants = tenant.grants(scope.drive.id, item.id)
    if not scope.caller.app_only:
        grants = grants_for_user(tenant, scope, grants)
    fields = select_fields()
    value = [
        odata.apply_select(graph_json.permission_json(tenant, scope.site, g), fields)
        for g in grants
    ]
    context = context_url(f"drives('{scope.drive.id}')/items('{item.id}')/permissions")
    return graph_json_response({"@odata.context": context, "value": value}, 5)


def grants_for_user(tenant: Tenant, scope: DriveScope, grants: list[Grant]) -> list[Grant]:
    user_id = scope.caller.user_id or ""
    state = tenant.drives[scope.drive.id]
    mine = [g for g in grants if access.admits(tenant, user_id, state, [g])]
    if any("owner" in g.roles for g in mine):
        return grants
    return mine
