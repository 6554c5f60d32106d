"""Graph's `/sites/{id}/lists`: the site's document libraries as lists, and its hidden User
Information List with its items (the people and groups the site numbers, site_users.py).

`/sites/{id}/lists('User Information List')/items?$expand=fields` is how Graph callers map a
`siteUser.id` or a SharePoint `AuthorId` to a person: item id = that number, `fields.Name` =
the claim, `fields.EMail`, `fields.UserName` (UPN). Items of other lists are not emulated.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from connector.emulator import odata
from connector.emulator.graph_items import context_url, graph_json_response, page_size
from connector.emulator.graph_json import EVERYONE_NAME, login_name
from connector.emulator.model import EVERYONE, GROUP, USER, Site
from connector.emulator.odata import GraphHTTPError
from connector.emulator.site_users import APP_NUMBER, EVERYONE_KEY
from connector.emulator.tenant import Tenant

USER_INFO_LIST = "User Information List"


def route(tenant: Tenant, site: Site, rest: str) -> Response:
    """`lists`, `lists/{id or title}`, `lists/{...}/items[/{n}]` below a site."""
    key, _, tail = rest.partition("/")
    key = key.removeprefix("(").removesuffix(")").strip("'")
    if not key:
        return _all_lists(tenant, site)
    body = _find_list(tenant, site, key)
    if not tail:
        return graph_json_response({"@odata.context": context_url("lists/$entity"), **body})
    if body["id"] != user_info_list_id(tenant, site):
        raise GraphHTTPError(
            501, "notSupported", "The emulator serves the items of the User Information List only."
        )
    head, _, number = tail.partition("/")
    if head.lower() != "items" or "/" in number:
        raise odata.bad_request(f"Resource not found for the segment '{head}'.", "BadRequest")
    return _one_item(tenant, site, number) if number else _items_page(tenant, site)


def user_info_list_id(tenant: Tenant, site: Site) -> str:
    return tenant.ids.guid("user-information-list", site.path)


def _list_json(tenant: Tenant, site: Site, list_id: str, title: str, url: str, system: bool):
    body: dict[str, Any] = {
        "createdDateTime": site.created_at,
        "displayName": title,
        "id": list_id,
        "lastModifiedDateTime": site.created_at,
        "name": url.rsplit("/", 1)[-1],
        "webUrl": tenant.site_web_url(site) + url,
        "list": {
            "contentTypesEnabled": system,
            "hidden": system,
            "template": "userInformation" if system else "documentLibrary",
        },
    }
    if system:
        body["system"] = {}
    return body


def _lists_of(tenant: Tenant, site: Site, with_system: bool) -> list[dict[str, Any]]:
    found = [
        _list_json(tenant, site, d.list_id, d.list_title, "/" + d.url_name, False)
        for d in tenant.drives_of(site.id)
    ]
    if with_system:
        uil = user_info_list_id(tenant, site)
        found.append(_list_json(tenant, site, uil, USER_INFO_LIST, "/_catalogs/users", True))
    return found


def _all_lists(tenant: Tenant, site: Site) -> Response:
    """System lists (the User Information List) only when `system` is selected, as documented."""
    fields = odata.selected_fields()
    with_system = bool(fields) and "system" in {f.lower() for f in fields}
    value = [odata.apply_select(b, fields) for b in _lists_of(tenant, site, with_system)]
    return graph_json_response({"@odata.context": context_url("lists"), "value": value}, 2)


def _find_list(tenant: Tenant, site: Site, key: str) -> dict[str, Any]:
    wanted = key.lower()
    for body in _lists_of(tenant, site, with_system=True):
        if wanted in (body["id"].lower(), body["displayName"].lower()):
            return body
    raise odata.not_found("The specified list was not found", "itemNotFound")


def _items_page(tenant: Tenant, site: Site) -> Response:
    """Items by id, `$top` (default 200) with a `$skiptoken` that resumes after the last id."""
    top = page_size(200)
    token = odata.query_param("$skiptoken") or "0"
    if not token.isdigit():
        raise odata.bad_request(f"Invalid skip token '{token}'.", "invalidRequest")
    after = int(token)
    numbered = sorted(tenant.site_users(site).keys.items())
    rows = [(n, k) for n, k in numbered if n > after and n != APP_NUMBER and _known(tenant, k)]
    page = rows[:top]
    expand = "fields" in (odata.query_param("$expand") or "").lower()
    body: dict[str, Any] = {
        "@odata.context": context_url(f"sites('{site.id}')/lists('{USER_INFO_LIST}')/items"),
        "value": [_item_json(tenant, site, n, k, expand) for n, k in page],
    }
    if len(rows) > top:
        query = f"$top={top}&$skiptoken={page[-1][0]}" + ("&$expand=fields" if expand else "")
        path = f"/v1.0/sites/{site.id}/lists/{user_info_list_id(tenant, site)}/items?{query}"
        body["@odata.nextLink"] = odata.absolute_url(path)
    return graph_json_response(body, 2)


def _one_item(tenant: Tenant, site: Site, number: str) -> Response:
    key = tenant.site_users(site).key(int(number)) if number.isdigit() else None
    if key is None or int(number) == APP_NUMBER or not _known(tenant, key):
        raise odata.not_found("The specified list item was not found", "itemNotFound")
    body = _item_json(tenant, site, int(number), key, expand=True)
    return graph_json_response({"@odata.context": context_url("listItems/$entity"), **body})


def _known(tenant: Tenant, key: str) -> bool:
    return key == EVERYONE_KEY or key in tenant.users or key in tenant.groups


def _item_json(tenant: Tenant, site: Site, number: int, key: str, expand: bool) -> dict:
    etag = f'"{tenant.ids.guid("uil-item", site.path, number)},1"'
    person = key in tenant.users
    body: dict[str, Any] = {
        "@odata.etag": etag,
        "createdDateTime": site.created_at,
        "eTag": etag,
        "id": str(number),
        "lastModifiedDateTime": site.created_at,
        "webUrl": f"{tenant.site_web_url(site)}/_layouts/15/UserDisp.aspx?ID={number}",
        "contentType": {"name": "Person" if person else "DomainGroup"},
    }
    if expand:
        body["fields"] = {"@odata.etag": etag, "id": str(number), **_fields(tenant, key)}
    return body


def _fields(tenant: Tenant, key: str) -> dict[str, Any]:
    """The columns Graph callers read: Title, Name (the claim), EMail, UserName, ContentType."""
    if key == EVERYONE_KEY:
        claim, title, mail, upn = login_name(tenant, EVERYONE, ""), EVERYONE_NAME, None, None
    elif key in tenant.users:
        user = tenant.users[key]
        claim, title = login_name(tenant, USER, key), user.display_name
        mail, upn = user.mail, user.user_principal_name.lower()
    else:
        group = tenant.groups[key]
        claim, title, mail, upn = login_name(tenant, GROUP, key), group.display_name, None, None
    fields = {
        "ContentType": "Person" if key in tenant.users else "DomainGroup",
        "Title": title,
        "Name": claim,
        "EMail": mail,
        "UserName": upn,
        "IsSiteAdmin": False,
        "Deleted": False,
    }
    return {k: v for k, v in fields.items() if v is not None}
