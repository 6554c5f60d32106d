"""Graph sites, drives, driveItems and permissions over real HTTPS, with real tokens."""

from __future__ import annotations

from urllib.parse import quote

from connector.emulator.model import GROUP, SITE_GROUP
from tests.connector.emulator.tenant_calls import documents, session_for

FILE_KEYS = {
    "@odata.context",
    "createdBy",
    "createdDateTime",
    "eTag",
    "id",
    "lastModifiedBy",
    "lastModifiedDateTime",
    "name",
    "parentReference",
    "webUrl",
    "cTag",
    "file",
    "fileSystemInfo",
    "size",
}
FOLDER_KEYS = FILE_KEYS - {"cTag", "file"} | {"folder"}


def url(handle, path: str) -> str:
    return f"{handle.base_url}/v1.0{path}"


def tax_site(handle):
    return handle.tenant.site_by_path("/sites/tax")


def first_shared(handle, drive, wanted) -> str:
    """The id of the first item of `drive` whose own grants include one `wanted` accepts."""
    for item in handle.tenant.iter_items(drive.id):
        if item.unique_permissions and any(
            wanted(g) for g in handle.tenant.grants(drive.id, item.id)
        ):
            return item.id
    raise AssertionError("the seeded tenant has no such item")


# -- sites ---------------------------------------------------------------------------------


def test_site_by_path_in_every_address_form(emulator, graph):
    site = tax_site(emulator)
    port = emulator.base_url.rsplit(":", 1)[1]
    for path in (
        "/sites/localhost:/sites/tax",
        "/sites/localhost:/sites/TAX:",
        f"/sites/localhost:{port}:/sites/tax",
        f"/sites/{site.id}",
    ):
        response = graph.get(url(emulator, path))
        assert response.status_code == 200, path
        body = response.json()
        assert body["id"] == site.id
        assert body["displayName"] == "Tax"
        assert body["webUrl"] == emulator.base_url + "/sites/tax"
        assert body["siteCollection"] == {"hostname": "localhost"}
        assert body["sharepointIds"]["siteId"] == site.collection_id
    root = graph.get(url(emulator, "/sites/root")).json()
    assert root["webUrl"] == emulator.base_url
    missing = graph.get(url(emulator, "/sites/localhost:/sites/nowhere"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "itemNotFound"
    foreign = graph.get(url(emulator, "/sites/contoso.sharepoint.com:/sites/tax"))
    assert foreign.status_code == 400


def test_search_matches_names_and_descriptions_case_insensitively(emulator, graph):
    found = graph.get(url(emulator, "/sites"), params={"search": "TAX"}).json()["value"]
    assert [s["displayName"] for s in found] == ["Tax"]
    team_sites = graph.get(url(emulator, "/sites"), params={"search": "team site"}).json()
    expected = {
        s.id for s in emulator.tenant.sites.values() if "team site" in s.description.lower()
    }
    assert {s["id"] for s in team_sites["value"]} == expected and len(expected) >= 3


def test_all_sites_for_apps_only_and_no_subsites(emulator, graph):
    every = {s.id for s in emulator.tenant.sites.values()}
    for path in ("/sites", "/sites/getAllSites", "/sites/microsoft.graph.getAllSites()"):
        assert {s["id"] for s in graph.get(url(emulator, path)).json()["value"]} == every
    member = next(u for u in emulator.tenant.users.values() if u.job_title == "Partner")
    denied = session_for(emulator, user=member.user_principal_name).get(url(emulator, "/sites"))
    assert denied.status_code == 403
    subsites = graph.get(url(emulator, f"/sites/{tax_site(emulator).id}/sites")).json()
    assert subsites["value"] == []


# -- drives --------------------------------------------------------------------------------


def test_drives_hide_system_libraries_unless_selected(emulator, graph):
    site = tax_site(emulator)
    listed = graph.get(url(emulator, f"/sites/{site.id}/drives")).json()["value"]
    assert [d["name"] for d in listed] == ["Documents", "Client Deliverables"]
    assert {d["driveType"] for d in listed} == {"documentLibrary"}
    assert listed[0]["webUrl"] == emulator.base_url + "/sites/tax/Shared%20Documents"
    assert set(listed[0]["quota"]) == {"deleted", "remaining", "state", "total", "used"}
    selected = graph.get(
        url(emulator, f"/sites/{site.id}/drives"), params={"$select": "id,name,system"}
    ).json()["value"]
    assert [(d["name"], "system" in d) for d in selected] == [
        ("Documents", False),
        ("Client Deliverables", False),
        ("Preservation Hold Library", True),
    ]
    default = graph.get(url(emulator, f"/sites/{site.id}/drive")).json()
    assert default["id"] == documents(emulator).id
    assert graph.get(url(emulator, f"/drives/{default['id']}")).json()["name"] == "Documents"


# -- items ---------------------------------------------------------------------------------


def test_children_paging_returns_every_child_exactly_once(emulator, graph):
    drive = documents(emulator)
    expected = [c.id for c in emulator.tenant.children(drive.id, "root")]
    seen, next_url, pages = [], url(emulator, f"/drives/{drive.id}/root/children?$top=3"), 0
    while next_url:
        body = graph.get(next_url).json()
        seen += [c["id"] for c in body["value"]]
        next_url, pages = body.get("@odata.nextLink"), pages + 1
    assert seen == expected
    assert pages == -(-len(expected) // 3)


def test_file_and_folder_json_have_odb_keys(emulator, graph):
    drive, tenant = documents(emulator), emulator.tenant
    folder = next(c for c in tenant.children(drive.id, "root") if c.folder)
    file = next(c for c in tenant.children(drive.id, folder.id) if not c.folder)
    file_json = graph.get(url(emulator, f"/drives/{drive.id}/items/{file.id}")).json()
    folder_json = graph.get(url(emulator, f"/drives/{drive.id}/items/{folder.id}")).json()
    assert set(file_json) - {"shared"} == FILE_KEYS
    assert set(folder_json) - {"shared"} == FOLDER_KEYS
    guid = tenant.ids.item_guid(drive.number, file.index)
    assert file_json["eTag"] == f'"{{{guid}}},{file.version}"'
    assert file_json["cTag"] == f'"c:{{{guid}}},{file.content_version}"'
    assert file_json["parentReference"] == {
        "driveType": "documentLibrary",
        "driveId": drive.id,
        "id": folder.id,
        "name": folder.name,
        "path": f"/drives/{drive.id}/root:/{quote(folder.name)}",
        "siteId": tax_site(emulator).id,
    }
    assert file_json["webUrl"] == (
        f"{emulator.base_url}/sites/tax/Shared%20Documents/{quote(folder.name)}/{quote(file.name)}"
    )
    assert file_json["file"]["mimeType"] and file_json["file"]["hashes"]["quickXorHash"]
    assert folder_json["folder"] == {"childCount": len(tenant.children(drive.id, folder.id))}
    root = graph.get(url(emulator, f"/drives/{drive.id}/root")).json()
    assert root["root"] == {} and "id" not in root["parentReference"]


def test_select_and_sharepoint_ids(emulator, graph):
    drive, tenant = documents(emulator), emulator.tenant
    file = next(i for i in tenant.iter_items(drive.id) if not i.folder)
    body = graph.get(
        url(emulator, f"/drives/{drive.id}/items/{file.id}"),
        params={"$select": "id,name,sharepointIds"},
    ).json()
    site = tax_site(emulator)
    assert body["sharepointIds"] == {
        "listId": drive.list_id,
        "listItemId": str(file.index),
        "listItemUniqueId": tenant.ids.item_guid(drive.number, file.index).lower(),
        "siteId": site.collection_id,
        "siteUrl": emulator.base_url + "/sites/tax",
        "tenantId": tenant.tenant_id,
        "webId": site.web_id,
    }
    assert set(body) == {"@odata.context", "id", "name", "sharepointIds"}


def test_path_addressing_is_case_insensitive(emulator, graph):
    drive, tenant = documents(emulator), emulator.tenant
    folder = next(c for c in tenant.children(drive.id, "root") if c.folder)
    child = tenant.children(drive.id, folder.id)[0]
    by_path = graph.get(url(emulator, f"/drives/{drive.id}/root:/{folder.name.upper()}:"))
    assert by_path.json()["id"] == folder.id
    nested = graph.get(url(emulator, f"/drives/{drive.id}/root:/{folder.name}/{child.name}"))
    assert nested.json()["id"] == child.id
    listed = graph.get(url(emulator, f"/drives/{drive.id}/root:/{folder.name}:/children"))
    assert [c["id"] for c in listed.json()["value"]] == [
        c.id for c in tenant.children(drive.id, folder.id)
    ]
    via_site = graph.get(url(emulator, f"/sites/{tax_site(emulator).id}/drive/root:/{folder.name}"))
    assert via_site.json()["id"] == folder.id
    missing = graph.get(url(emulator, f"/drives/{drive.id}/root:/{folder.name}/no such file.docx"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "itemNotFound"


def test_users_get_404_for_items_they_cannot_open(emulator):
    tenant, drive = emulator.tenant, documents(emulator)
    guest = next(u for u in tenant.users.values() if u.user_type == "Guest")
    session = session_for(emulator, user=guest.user_principal_name)
    hidden = next(
        i for i in tenant.iter_items(drive.id) if not tenant.can_open(guest.id, drive.id, i.id)
    )
    response = session.get(url(emulator, f"/drives/{drive.id}/items/{hidden.id}"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "itemNotFound"
    member = next(u for u in tenant.users.values() if u.job_title == "Partner")
    shown = {
        c["id"]
        for c in session_for(emulator, user=member.user_principal_name)
        .get(url(emulator, f"/drives/{drive.id}/root/children"))
        .json()["value"]
    }
    assert shown == {
        c.id
        for c in tenant.children(drive.id, "root")
        if tenant.can_open(member.id, drive.id, c.id)
    }


def test_auth_errors(emulator):
    drive = documents(emulator)
    anonymous = emulator.session().get(url(emulator, f"/drives/{drive.id}/root"))
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "InvalidAuthenticationToken"
    limited_id = next(
        a.client_id for a in emulator.tenant.apps.values() if "Sites.Read.All" not in a.roles
    )
    limited = emulator.session()
    limited.headers["Authorization"] = "Bearer " + emulator.token("graph", client_id=limited_id)
    denied = limited.get(url(emulator, f"/drives/{drive.id}/root"))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "accessDenied"


# -- permissions ---------------------------------------------------------------------------


def test_permissions_of_site_groups_users_groups_and_links(emulator, graph):
    tenant, drive = emulator.tenant, documents(emulator)
    path = f"/drives/{drive.id}/items/{{}}/permissions"
    root = graph.get(url(emulator, path.format("root")))
    assert root.headers["x-ms-resource-unit"] == "5"
    assert [p["grantedToV2"]["siteGroup"]["displayName"] for p in root.json()["value"]] == [
        "Tax Owners",
        "Tax Visitors",
        "Tax Members",
    ]
    assert all("inheritedFrom" not in p for p in root.json()["value"])

    restricted = first_shared(emulator, drive, lambda g: g.principal and g.principal.kind == GROUP)
    entries = graph.get(url(emulator, path.format(restricted))).json()["value"]
    by_kind = {k: p for p in entries for k in p["grantedToV2"]}
    assert by_kind["siteGroup"]["roles"] == ["owner"]
    group_entry = by_kind["group"]
    assert group_entry["grantedToV2"]["siteUser"]["loginName"].startswith("c:0t.c|tenant|")
    user_entry = by_kind["user"]
    user = tenant.users[user_entry["grantedToV2"]["user"]["id"]]
    assert user_entry["grantedToV2"]["siteUser"]["loginName"] == (
        f"i:0#.f|membership|{user.user_principal_name.lower()}"
    )
    assert user_entry["@deprecated.GrantedTo"].startswith("GrantedTo has been deprecated")
    assert user_entry["grantedTo"]["user"]["email"] == user.mail


def test_link_permissions(fresh_emulator):
    tenant, drive = fresh_emulator.tenant, documents(fresh_emulator)
    file = next(i for i in tenant.iter_items(drive.id) if not i.folder)
    partner = next(u for u in tenant.users.values() if u.job_title == "Partner")
    tenant.create_link(drive.id, file.id, "users", "edit", (partner.id,))
    session = session_for(fresh_emulator)
    entries = session.get(url(fresh_emulator, f"/drives/{drive.id}/items/{file.id}/permissions"))
    link = next(p for p in entries.json()["value"] if "link" in p)
    assert link["roles"] == ["write"]
    assert link["link"]["scope"] == "users" and link["link"]["type"] == "edit"
    assert link["link"]["preventsDownload"] is False and link["hasPassword"] is False
    assert [g["user"]["id"] for g in link["grantedToIdentitiesV2"]] == [partner.id]
    item = session.get(url(fresh_emulator, f"/drives/{drive.id}/items/{file.id}")).json()
    assert item["shared"] == {"scope": "users"}
    kinds = {g.principal.kind for g in tenant.grants(drive.id, file.id) if g.principal}
    assert kinds == {SITE_GROUP}  # the link came on top of what the file inherited
