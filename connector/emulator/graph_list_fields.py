"""Graph's `PATCH /sites/{site}/lists/{list}/items/{n}/fields` on a document library item.

A normal update, unlike SharePoint's system update: it makes a new version and sets Modified
to now (Modified By stays the item's editor here: an app has no person to put there; at
Microsoft it becomes the app), and the driveItem's eTag changes in delta. Plaza's write-back
does not use it; the emulator has it so that tests can show the difference. Values are JSON
(numbers, strings, ISO 8601 dates) for columns added through SharePoint REST
(sharepoint_fields.py); an unknown column answers 400, as Graph does.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from connector.emulator import graph_json, odata, tokens
from connector.emulator.graph_files import resolve_site
from connector.emulator.graph_items import context_url, graph_json_response
from connector.emulator.odata import GraphHTTPError
from connector.emulator.sharepoint_fields import graph_fields_patch
from connector.emulator.tenant import Tenant

bp = Blueprint("graph_list_fields", __name__, url_prefix="/v1.0")

WRITE = {"Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"}


@bp.patch("/sites/<path:rest>")
def patch_fields(rest: str) -> Response:
    tenant: Tenant = current_app.extensions["tenant"]
    caller = tokens.graph_caller()
    tokens.require_permission(caller, WRITE, WRITE, directory=False)
    site, tail = resolve_site(tenant, rest.strip("/"))
    parts = tail.split("/")
    if len(parts) != 5 or parts[0].lower() != "lists" or parts[2:5:2] != ["items", "fields"]:
        raise GraphHTTPError(
            405, "BadRequest", "Specified HTTP method is not allowed for the request target."
        )
    list_key, number = parts[1].strip("()'").lower(), parts[3]
    drive = next(
        (
            d
            for d in tenant.drives_of(site.id)
            if list_key in (d.list_id.lower(), d.list_title.lower())
        ),
        None,
    )
    if drive is None:
        raise odata.not_found("The specified list was not found", "itemNotFound")
    item = tenant.item_at(drive.id, int(number)) if number.isdigit() else None
    if item is None or item.deleted or item.index == 0:
        raise odata.not_found("The specified list item was not found", "itemNotFound")
    if not caller.app_only and not tenant.can_open(caller.user_id or "", drive.id, item.id):
        raise odata.not_found("The specified list item was not found", "itemNotFound")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise odata.bad_request("The request body must be a JSON object.")
    try:
        values = graph_fields_patch(
            tenant, drive.list_id.lower(), drive.id, item.id, item.index, body
        )
    except KeyError as exc:
        raise odata.bad_request(f"Field '{exc.args[0]}' is not recognized") from exc
    except ValueError as exc:
        raise odata.bad_request(str(exc)) from exc
    updated = tenant.item(drive.id, item.id)
    etag = graph_json.etag(tenant, drive, updated)
    fragment = f"sites('{site.id}')/lists('{drive.list_id}')/items('{number}')/fields/$entity"
    payload = {"@odata.context": context_url(fragment), "@odata.etag": etag, "id": number}
    return graph_json_response({**payload, **values}, 2)
