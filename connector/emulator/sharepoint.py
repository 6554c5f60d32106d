"""SharePoint REST (`/_api` below a site URL): web, lists, list items, site groups, and routing.

Paths are parsed segment by segment, case-insensitively, as SharePoint does (office365 sends
`contextInfo`, `Web`, `GetByTitle`). Lists are the site's document libraries (list id =
drive.list_id, list item id = the item's position) plus a generated "Site Pages" library.
Comments and likes live in sharepoint_comments.py; the wire format in sharepoint_wire.py.

Who may call: a SharePoint-audience token. A Graph token gets 401 "Invalid issuer or
signature." and an app-only token obtained with a client secret gets 401 "Unsupported app only
token." (SharePoint accepts app-only tokens from certificates only: PROTOCOL 5.4). A user sees
only what they can open; the rest does not exist for them (404), except the web (403).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from connector.emulator import odata, spstore, tokens
from connector.emulator import sharepoint_comments as social
from connector.emulator import sharepoint_fields as columns
from connector.emulator import sharepoint_principals as principals
from connector.emulator import sharepoint_wire as wire
from connector.emulator.sharepoint_lists import (
    ItemRef,
    ListRef,
    SPContext,
    item_entity,
    list_entity,
    lists_of,
)
from connector.emulator.tenant import Tenant

bp = Blueprint("sharepoint", __name__)

METHODS = ["GET", "POST", "PUT", "PATCH", "MERGE", "DELETE"]
SET_LIKE = "microsoft.office.server.reputationmodel.reputation.setlike"
SITE_ROLES = {"Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"}
PAGE_SIZE, MAX_PAGE = 100, 5000


@bp.route("/_api/<path:rest>", methods=METHODS)
def root_site_api(rest: str) -> Response:
    return _serve("/", rest)


@bp.route("/sites/<name>/_api/<path:rest>", methods=METHODS)
def site_api(name: str, rest: str) -> Response:
    return _serve(f"/sites/{name}", rest)


def _serve(site_path: str, rest: str) -> Response:
    try:
        tenant: Tenant = current_app.extensions["tenant"]
        caller = _authenticate(tenant)
        site = tenant.site_by_path(site_path)
        if site is None:
            raise wire.SPError(
                404, "-2147024894, System.IO.FileNotFoundException", "File Not Found."
            )
        store = spstore.store_of(current_app.extensions, tenant)
        web_url = request.host_url.rstrip("/") + (site.path if site.path != "/" else "")
        ctx = SPContext(tenant, site, store, caller, web_url)
        method = request.method
        if method == "POST" and request.headers.get("X-HTTP-Method"):
            method = request.headers["X-HTTP-Method"].upper()  # office365's tunnelled verbs
        response = _route(ctx, wire.parse_path(rest), method)
    except wire.SPError as err:
        response = wire.error_response(err)
    except _Unauthorized as err:
        response = err.response
    response.headers["SPRequestGuid"] = odata.request_id()
    return response


# -- authentication --------------------------------------------------------------------------


class _Unauthorized(Exception):
    """SharePoint's 401: a bare {"error_description": ...} rather than its usual error shape."""

    def __init__(self, tenant: Tenant, reason: str, diagnostics: str | None = None) -> None:
        super().__init__(reason)
        response = jsonify({"error_description": reason})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="{tenant.tenant_id}",client_id="{tokens.SHAREPOINT_APP_ID}",'
            f'trusted_issuers="{tokens.issuer(tenant)}",'
            f'authorization_uri="{tenant.base_url}/{tenant.tenant_id}/oauth2/v2.0/authorize"'
        )
        if diagnostics:
            response.headers["x-ms-diagnostics"] = diagnostics
        self.response = response


def _authenticate(tenant: Tenant) -> tokens.Caller:
    try:
        caller = tokens.sharepoint_caller()
    except tokens.TokenRejected as err:
        diagnostics = None
        if err.reason == "Invalid issuer or signature.":
            # What SharePoint Online adds for a token it cannot validate (sp-dev-docs #7152).
            diagnostics = (
                '3000006;reason="Token contains invalid signature.";category="invalid_client"'
            )
        raise _Unauthorized(tenant, err.reason, diagnostics) from err
    if caller.app_only and not caller.certificate:
        # SharePoint refuses app-only tokens from client secrets (sp-dev-docs #3711, #8480).
        raise _Unauthorized(tenant, "Unsupported app only token.")
    if caller.app_only and not caller.roles & SITE_ROLES:
        raise wire.access_denied()
    if not caller.app_only:
        user = tenant.user(caller.user_id or "")
        if user is None or not user.account_enabled:
            raise wire.access_denied()
    return caller


# -- routing ---------------------------------------------------------------------------------


def _route(ctx: SPContext, segments: list[wire.Segment], method: str) -> Response:
    if not segments:
        raise wire.no_resource("_api")
    head, rest = segments[0], segments[1:]
    if head.name == "contextinfo" and not rest:
        return _context_info(ctx, method)
    if head.name == SET_LIKE and not rest:
        return _set_like(ctx, head, method)
    if head.name == "web":
        return _web_route(ctx, rest, method)
    raise wire.no_resource(head.text)


def _expect(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise wire.not_allowed()


def _context_info(ctx: SPContext, method: str) -> Response:
    """The form digest office365 fetches first; bearer-token calls do not need it, but get one."""
    _expect(method, "POST")
    now = datetime.now(UTC)
    digest = hashlib.sha256(f"{ctx.caller.app_id}|{ctx.caller.user_id}|{now}".encode()).hexdigest()
    value = f"0x{digest.upper()},{format_datetime(now).replace('+0000', '-0000')}"
    info = wire.Complex(
        "SP.ContextWebInformation",
        {
            "FormDigestTimeoutSeconds": 1800,
            "FormDigestValue": value,
            "LibraryVersion": "16.0.0.0",
            "SiteFullUrl": ctx.web_url,
            "SupportedSchemaVersions": wire.Many(
                ["14.0.0.0", "15.0.0.0"], "Collection(Edm.String)"
            ),
            "WebFullUrl": ctx.web_url,
        },
    )
    return wire.operation_response("GetContextWebInformation", info)


def _web_route(ctx: SPContext, rest: list[wire.Segment], method: str) -> Response:
    if not rest:
        _expect(method, "GET")
        if not ctx.can_open_site():
            raise wire.access_denied()
        return wire.entity_response(_web_entity(ctx))
    head, tail = rest[0], rest[1:]
    if head.name == "lists":
        return _lists_route(ctx, head, tail, method)
    if head.name == "sitegroups":
        return _site_groups_route(ctx, head, tail, method)
    if head.name in ("siteusers", "getuserbyid"):
        return _site_users_route(ctx, head, tail, method)
    if head.name == "currentuser" and not tail:
        _expect(method, "GET")
        if ctx.caller.user_id is None:
            raise wire.no_resource(head.text)
        return wire.entity_response(principals.user_entity(ctx, ctx.caller.user_id))
    raise wire.no_resource(head.text)


def _web_entity(ctx: SPContext) -> wire.Entity:
    site = ctx.site
    return wire.Entity(
        "SP.Web",
        f"{ctx.api_url}/Web",
        {
            "Created": site.created_at,
            "Description": site.description,
            "Id": site.web_id,
            "Language": 1033,
            "ServerRelativeUrl": site.path,
            "Title": site.display_name,
            "Url": ctx.web_url,
            "WebTemplate": "GROUP" if site.group_id else "STS",
            "Lists": wire.Deferred(f"{ctx.api_url}/Web/Lists"),
            "SiteGroups": wire.Deferred(f"{ctx.api_url}/Web/SiteGroups"),
        },
    )


# -- lists and items -------------------------------------------------------------------------


def _lists_route(ctx, head: wire.Segment, rest: list[wire.Segment], method: str) -> Response:
    by_title, key = False, None
    if head.args:
        key = head.args[0]
    elif rest and rest[0].name in ("getbytitle", "getbyid") and rest[0].args:
        by_title, key, rest = rest[0].name == "getbytitle", rest[0].args[0], rest[1:]
    elif not rest:
        _expect(method, "GET")
        visible = [ref for ref in lists_of(ctx) if ctx.can_see_list(ref)]
        return wire.collection_response([list_entity(ctx, ref) for ref in visible])
    else:
        raise wire.no_resource(rest[0].text)
    rest = _fold_get_by_id(rest)
    # Someone shared into a single item reaches it through a list they cannot otherwise see
    # (SharePoint's "limited access"), so the item decides there, not the list.
    to_item = bool(rest) and rest[0].name in ("items", "getitembyid") and rest[0].args is not None
    found = _find_list(ctx, by_title, key, check=not to_item)
    return _list_route(ctx, found, rest, method)


def _fold_get_by_id(rest: list[wire.Segment]) -> list[wire.Segment]:
    """`Items/GetById(n)/...` names the same item as `Items(n)/...`."""
    if len(rest) >= 2 and rest[0].name == "items" and rest[0].args is None:
        by_id = rest[1]
        if by_id.name == "getbyid" and by_id.args:
            return [wire.Segment("items", rest[0].text, by_id.args, {}), *rest[2:]]
    return rest


def _find_list(ctx: SPContext, by_title: bool, key: Any, check: bool = True) -> ListRef:
    """A list by title or GUID; "does not exist" if unknown (or, when `check`, hidden)."""
    if by_title:
        found = next((r for r in lists_of(ctx) if r.title.lower() == str(key).lower()), None)
    else:
        wanted = wire.guid_of(key)
        found = next((r for r in lists_of(ctx) if r.id == wanted), None)
    if found is not None and (not check or ctx.can_see_list(found)):
        return found
    if by_title:
        message = f"List '{key}' does not exist at site with URL '{ctx.web_url}'."
        raise wire.SPError(404, wire.ARGUMENT_CODE, message)
    message = (
        "List does not exist.\n\nThe page you selected contains a list that does not exist."
        "  It may have been deleted by another user."
    )
    raise wire.SPError(404, "-2130575322, Microsoft.SharePoint.SPException", message)


def _list_route(ctx, ref: ListRef, rest: list[wire.Segment], method: str) -> Response:
    if not rest:
        _expect(method, "GET")
        return wire.entity_response(list_entity(ctx, ref))
    head, tail = rest[0], rest[1:]
    if head.name == "fields" and head.args is None:
        return columns.fields_route(ctx, ref, tail, method)
    if head.name == "items" and head.args is None and not tail:
        _expect(method, "GET")
        return _items_page(ctx, ref)
    if head.name in ("items", "getitembyid") and head.args:
        number = head.args[0]
        if not isinstance(number, int) or isinstance(number, bool):
            raise wire.bad_argument(f"Invalid list item id {number!r}.")
        found = ctx.find_item(ref, number)
        if not tail:
            _expect(method, "GET")
            return wire.entity_response(_select(_item_entity(ctx, found)))
        if columns.handles(tail[0]):
            return columns.item_route(ctx, found, tail, method)
        if tail[0].name == "parentlist" and len(tail) == 1:
            _expect(method, "GET")
            return wire.entity_response(list_entity(ctx, ref))
        return social.item_route(ctx, found, tail, method)
    raise wire.no_resource(head.text)


def _items_page(ctx: SPContext, ref: ListRef) -> Response:
    """One page of the list's items the caller can open, with SharePoint's `$skiptoken` paging."""
    top = _top()
    start = _skip_token_start()
    found: list[ItemRef] = []
    last = 0
    for candidate in ctx.iter_items(ref, start):
        if len(found) == top:
            break
        last = candidate.number
        if ctx.can_see_item(candidate):
            found.append(candidate)
    else:
        last = 0  # ran out: no next page
    next_url = None
    if last:
        query = f"$skiptoken=Paged%3DTRUE%26p_ID%3D{last}&$top={top}"
        next_url = f"{ctx.api_url}/Web/Lists(guid'{ref.id}')/Items?{query}"
    return wire.collection_response([_select(_item_entity(ctx, i)) for i in found], next_url)


def _item_entity(ctx: SPContext, ref: ItemRef) -> wire.Entity:
    return columns.with_values(ctx, ref, item_entity(ctx, ref))


def _top() -> int:
    raw = request.args.get("$top") or request.args.get("top")
    if raw is None:
        return PAGE_SIZE
    if not raw.isdigit() or int(raw) < 1:
        raise wire.bad_argument(f"Invalid value '{raw}' for $top.")
    return min(int(raw), MAX_PAGE)


def _skip_token_start() -> int:
    raw = request.args.get("$skiptoken") or request.args.get("skiptoken") or ""
    for part in raw.split("&"):
        key, _, value = part.partition("=")
        if key.lower() == "p_id" and value.isdigit():
            return int(value) + 1
    return 1


def _select(entity: wire.Entity) -> wire.Entity:
    """$select on item fields (case-insensitive; `_X` and `OData__X` name the same field)."""
    raw = request.args.get("$select") or request.args.get("select")
    if not raw:
        return entity
    wanted = {f.strip().lower().removeprefix("odata_") for f in raw.split(",") if f.strip()}
    props = {k: v for k, v in entity.props.items() if k.lower().removeprefix("odata_") in wanted}
    return wire.Entity(entity.type, entity.uri, props)


def _set_like(ctx: SPContext, head: wire.Segment, method: str) -> Response:
    """Reputation.SetLike, by URL aliases or office365's JSON body {listID, itemID, like}."""
    _expect(method, "POST")
    named = dict(head.named)
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        named.update({k.lower(): v for k, v in body.items() if not k.startswith("__")})
    list_id, item_number, like = named.get("listid"), named.get("itemid"), named.get("like")
    if isinstance(item_number, str) and item_number.isdigit():
        item_number = int(item_number)
    if list_id is None or not isinstance(item_number, int) or not isinstance(like, bool):
        raise wire.bad_argument(
            "SetLike needs listID (a GUID), itemID (a number) and like (a boolean)."
        )
    found = ctx.find_item(_find_list(ctx, False, list_id, check=False), item_number)
    return wire.operation_response("SetLike", social.set_item_like(ctx, found, like))


# -- site users and site groups --------------------------------------------------------------------


def _site_users_route(ctx, head: wire.Segment, rest: list[wire.Segment], method: str) -> Response:
    """Web/SiteUsers, Web/SiteUsers/GetById(n) and Web/GetUserById(n): the User Information List."""
    _expect(method, "GET")
    if not ctx.can_open_site():
        raise wire.access_denied()
    if head.name == "getuserbyid" and head.args and not rest:
        return wire.entity_response(principals.site_user_by_id(ctx, head.args[0]))
    if head.name == "siteusers" and head.args is None and not rest:
        return wire.collection_response(principals.site_users(ctx))
    if head.name == "siteusers" and len(rest) == 1 and rest[0].name == "getbyid" and rest[0].args:
        return wire.entity_response(principals.site_user_by_id(ctx, rest[0].args[0]))
    raise wire.no_resource((rest[0] if rest else head).text)


def _site_groups_route(ctx, head: wire.Segment, rest: list[wire.Segment], method: str) -> Response:
    _expect(method, "GET")
    if not ctx.can_open_site():
        raise wire.access_denied()
    number: Any = head.args[0] if head.args else None
    if number is None and rest and rest[0].name == "getbyid" and rest[0].args:
        number, rest = rest[0].args[0], rest[1:]
    if number is None:
        if rest:
            raise wire.no_resource(rest[0].text)
        return wire.collection_response(
            [principals.site_group_entity(ctx, g) for g in ctx.site.groups]
        )
    group = next((g for g in ctx.site.groups if g.id == number), None)
    if group is None:
        raise wire.SPError(404, wire.ARGUMENT_CODE, "Group cannot be found.")
    if not rest:
        return wire.entity_response(principals.site_group_entity(ctx, group))
    if rest[0].name == "users" and len(rest) == 1:
        return wire.collection_response(principals.site_group_members(ctx, group))
    raise wire.no_resource(rest[0].text)
