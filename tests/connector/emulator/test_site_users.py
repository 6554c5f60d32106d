"""One site, one User Information List: Graph's `siteUser.id` and every SharePoint REST id of a
person or group on that site (site users, site-group members, AuthorId, comment authors,
likers) are the same number, as they are at Microsoft; over real HTTPS with real tokens.
"""

from __future__ import annotations

from tests.connector.emulator.tenant_calls import (
    documents,
    get,
    session_for,
    site_named,
    sp_call,
)


def control(handle, method: str, path: str, **kwargs):
    with handle.session() as session:
        return session.request(method, f"{handle.base_url}/_emulator{path}", timeout=30, **kwargs)


def a_file_by_an_enabled_member(handle, drive):
    tenant = handle.tenant
    for item in tenant.iter_items(drive.id, 1):
        author = tenant.user(item.created_by)
        if not item.folder and author and author.account_enabled and author.user_type == "Member":
            return item, author
    raise AssertionError("no file written by an enabled member")


def graph_site_users(handle, drive, item) -> dict[str, str]:
    """loginName -> siteUser.id in the item's permissions, as Graph lists them."""
    with session_for(handle) as graph:
        entries = get(graph, handle, f"/drives/{drive.id}/items/{item.id}/permissions")["value"]
    granted = [e.get("grantedToV2", {}) for e in entries]
    return {g["siteUser"]["loginName"]: g["siteUser"]["id"] for g in granted if "siteUser" in g}


def test_a_person_or_group_has_one_id_on_a_site_on_every_surface(fresh_emulator):
    handle, tenant = fresh_emulator, fresh_emulator.tenant
    tax, drive = site_named(handle, "tax"), documents(handle, "tax")
    item, author = a_file_by_an_enabled_member(handle, drive)
    team_group = tenant.groups[tax.group_id]
    grants = f"/items/{drive.id}/{item.id}/permissions"
    for principal in (
        {"kind": "user", "id": author.id},
        {"kind": "group", "id": team_group.id},
        {"kind": "everyone", "id": ""},
    ):
        body = {"principal": principal, "roles": ["read"]}
        assert control(handle, "POST", grants, json=body).status_code == 201
    graph_ids = graph_site_users(handle, drive, item)
    author_login = f"i:0#.f|membership|{author.user_principal_name.lower()}"
    group_login = f"c:0o.c|federateddirectoryclaimprovider|{team_group.id}"
    everyone_login = f"c:0-.f|rolemanager|spo-grid-all-users/{tenant.tenant_id}"
    assert set(graph_ids) == {author_login, group_login, everyone_login}

    app_token = handle.token("sharepoint", certificate=True)
    web = "/sites/tax/_api/web"
    rest_ids = {}
    for group in tax.groups:
        members = sp_call(handle, "GET", f"{web}/sitegroups({group.id})/users", app_token)
        rest_ids.update({u["LoginName"]: str(u["Id"]) for u in members.json()["value"]})
    # Members holds the team's Microsoft 365 group, Visitors everyone (tax is not private).
    assert rest_ids[group_login] == graph_ids[group_login]
    assert rest_ids[everyone_login] == graph_ids[everyone_login]
    lists = f"{web}/lists(guid'{drive.list_id}')"
    fields = sp_call(handle, "GET", f"{lists}/items({item.index})", app_token).json()
    assert str(fields["AuthorId"]) == graph_ids[author_login]

    site_users = sp_call(handle, "GET", f"{web}/siteusers", app_token).json()["value"]
    listed = {u["LoginName"]: str(u["Id"]) for u in site_users}
    assert {login: listed[login] for login in [*rest_ids, *graph_ids]} == {**rest_ids, **graph_ids}
    for login, number in graph_ids.items():
        one = sp_call(handle, "GET", f"{web}/getuserbyid({number})", app_token).json()
        assert (one["LoginName"], str(one["Id"])) == (login, number)
    with session_for(handle) as graph:
        user_info = f"/sites/{tax.id}/lists('User Information List')/items"
        for login, number in graph_ids.items():
            row = get(graph, handle, f"{user_info}/{number}")
            assert (row["id"], row["fields"]["Name"]) == (number, login)

    user_token = handle.token("sharepoint", user=author.user_principal_name)
    comments = f"{lists}/GetItemById({item.index})/comments"
    posted = sp_call(handle, "POST", comments, user_token, json={"text": "Checked."}).json()
    assert sp_call(handle, "POST", f"{comments}({posted['id']})/like", user_token).ok
    liked = sp_call(handle, "GET", f"{comments}({posted['id']})/likedBy", user_token).json()
    assert str(posted["author"]["id"]) == graph_ids[author_login]
    assert [str(u["id"]) for u in liked["value"]] == [graph_ids[author_login]]


def test_site_users_are_numbered_per_site(emulator, app_token):
    """SharePoint numbers people per site: the site's own people come first on each."""
    numbers = {}
    for name in ("tax", "audit"):
        site = site_named(emulator, name)
        owner = next(p for p in site.groups[0].members if p.kind == "user")
        web = f"/sites/{name}/_api/web"
        numbers[name] = {
            u["LoginName"]: u["Id"]
            for u in sp_call(emulator, "GET", f"{web}/siteusers", app_token).json()["value"]
        }
        upn = emulator.tenant.users[owner.id].user_principal_name.lower()
        assert numbers[name][f"i:0#.f|membership|{upn}"] == 11
    assert numbers["tax"] != numbers["audit"]
    tax = site_named(emulator, "tax")
    url = f"{emulator.base_url}/v1.0/sites/{tax.id}/lists/User Information List/items"
    url += "?$top=50&$expand=fields"
    rows = []
    with session_for(emulator) as graph:
        while url:
            page = graph.get(url, timeout=30).json()
            rows.extend(page["value"])
            url = page.get("@odata.nextLink")
    assert {r["fields"]["Name"]: r["id"] for r in rows} == {
        login: str(number) for login, number in numbers["tax"].items()
    }
    unknown = sp_call(emulator, "GET", "/sites/tax/_api/web/getuserbyid(999999)", app_token)
    assert unknown.status_code == 404
    assert unknown.json()["odata.error"]["message"]["value"] == "User cannot be found."
