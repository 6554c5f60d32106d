"""The control API over real HTTPS: each change lands in the tenant; the oracle matches it."""

from __future__ import annotations

import jwt
import pytest

from connector.emulator.model import GROUP, USER, Principal
from tests.connector.emulator.tenant_calls import documents


def control(handle, method: str, path: str, **kwargs):
    with handle.session() as session:
        return session.request(method, f"{handle.base_url}/_emulator{path}", timeout=30, **kwargs)


def first(handle, drive, folder: bool):
    return next(i for i in handle.tenant.iter_items(drive.id, 1) if i.folder == folder)


def person(handle, n: int = 3):
    people = [u for u in handle.tenant.users.values() if u.user_type == "Member"]
    return [u for u in people if u.account_enabled][n]


# -- items ---------------------------------------------------------------------------------------


def test_add_rename_move_edit_delete_an_item(fresh_emulator):
    tenant, drive = fresh_emulator.tenant, documents(fresh_emulator)
    folder, author = first(fresh_emulator, drive, folder=True), person(fresh_emulator)
    body = {"drive_id": drive.id, "parent_id": folder.id, "name": "Memo.docx", "by": author.id}
    added = control(fresh_emulator, "POST", "/items", json=body)
    assert added.status_code == 201
    item_id = added.json()["item_id"]
    item = tenant.item(drive.id, item_id)
    assert (item.name, item.parent_id, item.folder, item.created_by) == (
        "Memo.docx",
        folder.id,
        False,
        author.id,
    )
    path = f"/items/{drive.id}/{item_id}"
    renamed = control(fresh_emulator, "PATCH", path, json={"name": "Memo v2.docx"})
    assert renamed.json()["name"] == tenant.item(drive.id, item_id).name == "Memo v2.docx"
    root = tenant.root(drive.id)
    control(fresh_emulator, "PATCH", path, json={"parent_id": root.id})
    assert tenant.item(drive.id, item_id).parent_id == root.id
    editor = person(fresh_emulator, 5)
    before = tenant.item(drive.id, item_id)
    edit = {"content": {"by": editor.user_principal_name, "size": 2048}}
    control(fresh_emulator, "PATCH", path, json=edit)
    after = tenant.item(drive.id, item_id)
    assert (after.size, after.modified_by) == (2048, editor.id)
    assert after.content_version == before.content_version + 1
    deleted = control(fresh_emulator, "DELETE", path)
    assert deleted.json() == {"deleted": [item_id]}
    assert tenant.item(drive.id, item_id).deleted is True
    assert control(fresh_emulator, "DELETE", path).status_code == 404


def test_item_mistakes_are_400_and_unknown_ids_404(fresh_emulator):
    drive = documents(fresh_emulator)
    a_file, author = first(fresh_emulator, drive, folder=False), person(fresh_emulator)
    cases = [
        ("POST", "/items", {"drive_id": "b!nope", "name": "x", "by": author.id}, 404),
        (
            "POST",
            "/items",
            {"drive_id": drive.id, "parent_id": a_file.id, "name": "x", "by": author.id},
            400,
        ),
        ("POST", "/items", {"drive_id": drive.id, "name": "x", "by": "nobody@example.com"}, 404),
        ("POST", "/items", {"drive_id": drive.id, "by": author.id}, 400),
        ("PATCH", f"/items/{drive.id}/01NOTANITEM", {"name": "x"}, 404),
        ("PATCH", f"/items/{drive.id}/{a_file.id}", {}, 400),
        ("PATCH", f"/items/{drive.id}/{a_file.id}", {"parent_id": a_file.id}, 400),
    ]
    for method, path, body, status in cases:
        response = control(fresh_emulator, method, path, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert response.json()["error"]["message"]
    not_json = control(fresh_emulator, "POST", "/items", data="[1, 2]")
    assert not_json.status_code == 400


# -- permissions ---------------------------------------------------------------------------------


def test_break_grant_link_remove_and_restore(fresh_emulator):
    tenant, drive = fresh_emulator.tenant, documents(fresh_emulator)
    folder, someone = first(fresh_emulator, drive, folder=True), person(fresh_emulator, 7)
    inherited = tenant.grants(drive.id, folder.id)
    base = f"/items/{drive.id}/{folder.id}/permissions"
    broken = control(
        fresh_emulator,
        "POST",
        f"{base}/break",
        json={"grants": [{"principal": {"kind": "user", "id": someone.id}, "roles": ["write"]}]},
    )
    assert [g["principal"] for g in broken.json()["grants"]] == [{"kind": USER, "id": someone.id}]
    assert [(g.principal, g.roles) for g in tenant.grants(drive.id, folder.id)] == [
        (Principal(USER, someone.id), ("write",))
    ]
    assert tenant.item(drive.id, folder.id).unique_permissions is True
    group = next(iter(tenant.groups.values()))
    added = control(
        fresh_emulator,
        "POST",
        base,
        json={"principal": {"kind": "group", "id": group.id}, "roles": ["read"]},
    )
    assert added.status_code == 201
    grant_id = added.json()["id"]
    assert Principal(GROUP, group.id) in {g.principal for g in tenant.grants(drive.id, folder.id)}
    link = control(
        fresh_emulator,
        "POST",
        f"/items/{drive.id}/{folder.id}/links",
        json={"scope": "users", "type": "view", "grantees": [someone.user_principal_name]},
    ).json()
    assert link["link"]["scope"] == "users" and link["link"]["grantees"] == [someone.id]
    assert link["id"] in {g.id for g in tenant.grants(drive.id, folder.id)}
    assert control(fresh_emulator, "DELETE", f"{base}/{grant_id}").status_code == 204
    assert grant_id not in {g.id for g in tenant.grants(drive.id, folder.id)}
    assert control(fresh_emulator, "DELETE", f"{base}/{grant_id}").status_code == 404
    restored = control(fresh_emulator, "POST", f"{base}/restore")
    assert [g["id"] for g in restored.json()["grants"]] == [g.id for g in inherited]
    assert tenant.grants(drive.id, folder.id) == inherited


def test_permission_mistakes(fresh_emulator):
    drive = documents(fresh_emulator)
    folder = first(fresh_emulator, drive, folder=True)
    base = f"/items/{drive.id}/{folder.id}"
    cases = [
        (
            f"{base}/permissions",
            {"principal": {"kind": "robot", "id": "x"}, "roles": ["read"]},
            400,
        ),
        (
            f"{base}/permissions",
            {"principal": {"kind": "user", "id": "nobody"}, "roles": ["read"]},
            404,
        ),
        (f"{base}/permissions", {"principal": {"kind": "everyone"}, "roles": ["admin"]}, 400),
        (f"{base}/links", {"scope": "galaxy"}, 400),
        (f"{base}/links", {"scope": "users", "grantees": []}, 400),
    ]
    for path, body, status in cases:
        assert control(fresh_emulator, "POST", path, json=body).status_code == status, body


# -- directory and apps --------------------------------------------------------------------------


def test_group_members_users_apps_and_delta_epoch(fresh_emulator):
    tenant = fresh_emulator.tenant
    group, someone = next(iter(tenant.groups.values())), person(fresh_emulator, 9)
    if someone.id in group.member_ids:
        control(fresh_emulator, "DELETE", f"/groups/{group.id}/members/{someone.id}")
    added = control(
        fresh_emulator, "POST", f"/groups/{group.id}/members", json={"member_id": someone.id}
    )
    assert (
        someone.id in added.json()["member_ids"] and someone.id in tenant.group(group.id).member_ids
    )
    assert group.id in tenant.transitive_groups(someone.id)
    gone = control(fresh_emulator, "DELETE", f"/groups/{group.id}/members/{someone.id}")
    assert gone.status_code == 204 and someone.id not in tenant.group(group.id).member_ids
    assert (
        control(fresh_emulator, "DELETE", f"/groups/{group.id}/members/{someone.id}").status_code
        == 404
    )
    patched = control(
        fresh_emulator, "PATCH", f"/users/{someone.id}", json={"job_title": "Partner"}
    )
    assert patched.json()["job_title"] == tenant.user(someone.id).job_title == "Partner"
    assert (
        control(fresh_emulator, "PATCH", f"/users/{someone.id}", json={"id": "x"}).status_code
        == 400
    )
    client_id = fresh_emulator.info["client_id"]
    roles = control(
        fresh_emulator, "PUT", f"/apps/{client_id}/roles", json={"roles": ["User.Read.All"]}
    )
    assert roles.json() == {"client_id": client_id, "roles": ["User.Read.All"]}
    claims = jwt.decode(fresh_emulator.token("graph"), options={"verify_signature": False})
    assert claims["roles"] == ["User.Read.All"]
    assert control(fresh_emulator, "PUT", "/apps/nope/roles", json={"roles": []}).status_code == 404
    assert control(fresh_emulator, "POST", "/delta/expire").json() == {"expired": True}
    assert tenant.delta_epoch == 1


def test_state_reports_seed_size_and_counts(emulator):
    state = control(emulator, "GET", "/state").json()
    tenant = emulator.tenant
    assert (state["seed"], state["size"], state["tenant_id"]) == (7, "small", tenant.tenant_id)
    assert state["counts"]["sites"] == len(tenant.sites)
    assert state["counts"]["drives"] == len(tenant.drives)
    assert state["counts"]["users"] == len(tenant.users)


# -- the oracle ----------------------------------------------------------------------------------


def brute_force(tenant, user_id: str) -> list[dict[str, str]]:
    return [
        {"drive_id": drive_id, "item_id": item.id}
        for drive_id in tenant.drives
        for item in tenant.iter_items(drive_id)
        if tenant.can_open(user_id, drive_id, item.id)
    ]


@pytest.mark.parametrize("which", [0, 11])
def test_oracle_matches_a_brute_force_check(emulator, which):
    tenant = emulator.tenant
    user = person(emulator, which)
    by_upn = control(
        emulator, "GET", "/oracle/visible-items", params={"user": user.user_principal_name}
    )
    answer = by_upn.json()
    assert answer["user"] == user.id
    expected = brute_force(tenant, user.id)
    assert expected and sorted(answer["items"], key=str) == sorted(expected, key=str)


def test_oracle_disabled_users_see_nothing(fresh_emulator):
    user = person(fresh_emulator, 2)
    assert control(fresh_emulator, "GET", "/oracle/visible-items", params={"user": user.id}).json()[
        "items"
    ]
    control(fresh_emulator, "PATCH", f"/users/{user.id}", json={"account_enabled": False})
    answer = control(
        fresh_emulator, "GET", "/oracle/visible-items", params={"user": user.id}
    ).json()
    assert answer == {"user": user.id, "items": []}
    assert brute_force(fresh_emulator.tenant, user.id) == []
    assert control(fresh_emulator, "GET", "/oracle/visible-items").status_code == 400
    unknown = control(fresh_emulator, "GET", "/oracle/visible-items", params={"user": "ghost"})
    assert unknown.status_code == 404
