"""SharePoint REST in the emulator over real HTTPS with real tokens, read through
office365-rest-python-client and raw requests: webs and lists, which tokens are accepted,
addressing (contextinfo, case-insensitive paths, list GUIDs), item fields that agree with Graph,
paging, SharePoint's error shapes, and security trimming (site groups by claim, items shared
into a private site). Comments and likes are in test_sharepoint_social.py.
"""

from __future__ import annotations

import pytest
from office365.runtime.client_request_exception import ClientRequestException

from connector.emulator.model import EVERYONE, GROUP, USER, Principal
from tests.connector.emulator.tenant_calls import (
    VERBOSE,
    documents,
    outsider,
    site_named,
    sp_call,
    sp_context,
)

# -- office365 against the emulator ----------------------------------------------------------


def test_office365_reads_web_and_lists(emulator, app_token):
    ctx = sp_context(emulator, "intranet", app_token)
    web = ctx.web.get().execute_query()
    assert web.title == "Alder & Finch Intranet"
    assert web.url == f"{emulator.base_url}/sites/intranet"
    assert web.properties["ServerRelativeUrl"] == "/sites/intranet"
    lists = ctx.web.lists.get().execute_query()
    assert [lst.title for lst in lists] == ["Documents", "Policies", "Site Pages"]
    drive = documents(emulator, "intranet")
    assert lists[0].id == drive.list_id.lower()


# -- authentication ---------------------------------------------------------------------------


def test_graph_token_is_rejected_like_sharepoint_online(emulator):
    response = sp_call(emulator, "GET", "/sites/intranet/_api/web", emulator.token("graph"))
    assert response.status_code == 401
    assert response.json() == {"error_description": "Invalid issuer or signature."}
    assert response.headers["x-ms-diagnostics"] == (
        '3000006;reason="Token contains invalid signature.";category="invalid_client"'
    )
    realm = f'Bearer realm="{emulator.tenant.tenant_id}",'
    assert response.headers["WWW-Authenticate"].startswith(
        realm + 'client_id="00000003-0000-0ff1-ce00-000000000000"'
    )


def test_app_only_token_from_a_secret_is_unsupported(emulator):
    token = emulator.token("sharepoint")  # client credentials with the client secret
    response = sp_call(emulator, "GET", "/sites/intranet/_api/web", token)
    assert (response.status_code, response.json()) == (
        401,
        {"error_description": "Unsupported app only token."},
    )
    with pytest.raises(ClientRequestException) as raised:
        sp_context(emulator, "intranet", token).web.get().execute_query()
    assert raised.value.response.status_code == 401


# -- addressing and shapes --------------------------------------------------------------------


def test_contextinfo_and_case_insensitive_paths(emulator, app_token):
    info = sp_call(emulator, "POST", "/sites/intranet/_api/contextInfo", app_token, VERBOSE).json()
    body = info["d"]["GetContextWebInformation"]
    assert body["__metadata"] == {"type": "SP.ContextWebInformation"}
    assert body["FormDigestTimeoutSeconds"] == 1800
    assert body["WebFullUrl"] == body["SiteFullUrl"] == f"{emulator.base_url}/sites/intranet"
    assert body["SupportedSchemaVersions"]["results"] == ["14.0.0.0", "15.0.0.0"]
    assert body["FormDigestValue"].startswith("0x")
    guid = documents(emulator, "intranet").list_id
    forms = [
        "web/lists/GetByTitle('Documents')",
        "WEB/LISTS/getbytitle('documents')",
        f"web/lists(guid'{guid}')",
        f"Web/Lists('%7B{guid.upper()}%7D')",
    ]
    ids = {
        sp_call(emulator, "GET", f"/sites/intranet/_api/{f}", app_token).json()["Id"] for f in forms
    }
    assert ids == {guid.lower()}


def test_item_fields_agree_with_graph(emulator, app_token):
    drive = documents(emulator, "tax")
    item = next(i for i in emulator.tenant.iter_items(drive.id, 1) if not i.folder)
    path = f"/sites/tax/_api/web/lists(guid'{drive.list_id}')/items({item.index})"
    verbose = sp_call(emulator, "GET", path, app_token, VERBOSE).json()["d"]
    assert verbose["__metadata"]["type"] == "SP.Data.Shared_x0020_DocumentsItem"
    assert verbose["__metadata"]["uri"].endswith(f"/Items({item.index})")
    light = sp_call(emulator, "GET", path, app_token).json()
    assert "__metadata" not in light
    assert light["FileLeafRef"] == item.name
    assert light["FileRef"] == "/sites/tax/Shared Documents" + emulator.tenant.path_of(item)
    assert (light["FSObjType"], light["Id"]) == (0, item.index)
    graph = emulator.session()
    graph.headers["Authorization"] = "Bearer " + emulator.token("graph")
    ids = graph.get(
        f"{emulator.base_url}/v1.0/drives/{drive.id}/items/{item.id}?$select=id,sharepointIds"
    ).json()["sharepointIds"]
    assert light["UniqueId"] == ids["listItemUniqueId"]
    assert str(light["Id"]) == ids["listItemId"] and ids["listId"] == drive.list_id
    selected = sp_call(
        emulator, "GET", f"{path}?$select=FileLeafRef,_CommentCount", app_token
    ).json()
    assert selected == {"OData__CommentCount": 0, "FileLeafRef": item.name}


def test_items_get_by_id_is_the_item(emulator, app_token):
    drive = documents(emulator, "tax")
    item = next(i for i in emulator.tenant.iter_items(drive.id, 1) if not i.folder)
    by_guid = f"/sites/tax/_api/web/lists(guid'{drive.list_id}')/items"
    by_title = "/sites/tax/_api/web/lists/GetByTitle('Documents')/Items"
    expected = sp_call(emulator, "GET", f"{by_guid}({item.index})", app_token).json()
    assert expected["FileLeafRef"] == item.name
    for path in (f"{by_guid}/GetById({item.index})", f"{by_title}/getbyid({item.index})"):
        assert sp_call(emulator, "GET", path, app_token).json() == expected
    parent = sp_call(emulator, "GET", f"{by_title}/GetById({item.index})/ParentList", app_token)
    assert parent.json()["Id"] == drive.list_id.lower()
    missing = sp_call(emulator, "GET", f"{by_title}/GetById(999999)", app_token)
    assert missing.status_code == 404
    assert missing.json()["odata.error"]["message"]["value"] == (
        "Item does not exist. It may have been deleted by another user."
    )


def test_items_page_with_skiptoken(emulator, app_token):
    drive = documents(emulator, "intranet")
    expected = [i.index for i in emulator.tenant.iter_items(drive.id, 1)]
    path = f"/sites/intranet/_api/web/lists(guid'{drive.list_id}')/items?$top=10"
    seen, url = [], emulator.base_url + path
    session = emulator.session()
    session.headers.update({"Authorization": f"Bearer {app_token}", **VERBOSE})
    while url:
        body = session.get(url, timeout=30).json()["d"]
        seen.extend(entry["Id"] for entry in body["results"])
        url = body.get("__next")
    assert seen == expected


def test_errors_have_sharepoint_shapes(emulator, app_token):
    path = "/sites/intranet/_api/web/lists/GetByTitle('Nope')"
    message = f"List 'Nope' does not exist at site with URL '{emulator.base_url}/sites/intranet'."
    verbose = sp_call(emulator, "GET", path, app_token, VERBOSE)
    assert verbose.status_code == 404
    assert verbose.json() == {
        "error": {
            "code": "-1, System.ArgumentException",
            "message": {"lang": "en-US", "value": message},
        }
    }
    light = sp_call(emulator, "GET", path, app_token).json()
    assert light["odata.error"]["message"]["value"] == message
    unknown = sp_call(emulator, "GET", "/sites/intranet/_api/web/frobnicate", app_token)
    assert unknown.status_code == 404
    assert unknown.json()["odata.error"] == {
        "code": "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
        "message": {"lang": "en-US", "value": "Cannot find resource for the request frobnicate."},
    }


# -- security trimming ------------------------------------------------------------------------


def test_user_sees_only_what_they_can_open(emulator):
    tenant = emulator.tenant
    person = outsider(emulator)
    token = emulator.token("sharepoint", user=person.user_principal_name)
    assert sp_call(emulator, "GET", "/sites/deals/_api/web", token).status_code == 403
    drive = documents(emulator, "deals")
    hidden = next(
        i for i in tenant.iter_items(drive.id, 1) if not tenant.can_open(person.id, drive.id, i.id)
    )
    item_path = f"/sites/deals/_api/web/lists(guid'{drive.list_id}')/items({hidden.index})"
    missing = sp_call(emulator, "GET", item_path, token)
    assert missing.status_code == 404
    assert missing.json()["odata.error"]["message"]["value"] == (
        "Item does not exist. It may have been deleted by another user."
    )
    assert sp_call(emulator, "GET", f"{item_path}/comments", token).status_code == 404
    drive = documents(emulator, "tax")
    listed = sp_call(
        emulator, "GET", f"/sites/tax/_api/web/lists(guid'{drive.list_id}')/items?$top=5000", token
    )
    expected = [
        i.index
        for i in tenant.iter_items(drive.id, 1)
        if tenant.can_open(person.id, drive.id, i.id)
    ]
    assert [entry["Id"] for entry in listed.json()["value"]] == expected


def test_site_groups_name_principals_by_claim(emulator, app_token):
    tenant = emulator.tenant
    tax = site_named(emulator, "tax")
    groups = sp_call(emulator, "GET", "/sites/tax/_api/web/sitegroups", app_token).json()["value"]
    assert [(g["Id"], g["Title"], g["PrincipalType"]) for g in groups] == [
        (g.id, g.title, 8) for g in tax.groups
    ]
    for group in tax.groups:
        users = sp_call(
            emulator, "GET", f"/sites/tax/_api/web/sitegroups({group.id})/users", app_token
        )
        expected = []
        for principal in group.members:
            if principal.kind == USER:
                upn = tenant.users[principal.id].user_principal_name.lower()
                expected.append(f"i:0#.f|membership|{upn}")
            elif principal.kind == GROUP and tenant.groups[principal.id].unified:
                expected.append(f"c:0o.c|federateddirectoryclaimprovider|{principal.id}")
            elif principal.kind == GROUP:
                expected.append(f"c:0t.c|tenant|{principal.id}")
            elif principal.kind == EVERYONE:
                expected.append(f"c:0-.f|rolemanager|spo-grid-all-users/{tenant.tenant_id}")
        assert [u["LoginName"] for u in users.json()["value"]] == expected
    one = sp_call(emulator, "GET", "/sites/tax/_api/web/sitegroups/GetById(5)", app_token, VERBOSE)
    assert one.json()["d"]["Title"] == tax.groups[2].title


def test_an_item_shared_into_a_private_site_is_reachable_alone(fresh_emulator):
    tenant, person = fresh_emulator.tenant, outsider(fresh_emulator)
    token = fresh_emulator.token("sharepoint", user=person.user_principal_name)
    drive = documents(fresh_emulator, "deals")
    item = next(i for i in tenant.iter_items(drive.id, 1) if not i.folder)
    list_path = f"/sites/deals/_api/web/lists(guid'{drive.list_id}')"
    assert (
        sp_call(fresh_emulator, "GET", f"{list_path}/items({item.index})", token).status_code == 404
    )
    tenant.add_grant(drive.id, item.id, Principal(USER, person.id), ("read",))
    shared = sp_call(fresh_emulator, "GET", f"{list_path}/items({item.index})", token)
    assert (shared.status_code, shared.json()["FileLeafRef"]) == (200, item.name)
    assert sp_call(fresh_emulator, "GET", list_path, token).status_code == 404
    tenant.update_user(person.id, account_enabled=False)
    disabled = sp_call(fresh_emulator, "GET", f"{list_path}/items({item.index})", token)
    assert disabled.status_code == 403
