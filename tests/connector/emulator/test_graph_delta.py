"""driveItem delta over real HTTPS: enumeration, change rounds, sharing, 410 resync, trimming."""

from __future__ import annotations

import pytest

from connector.emulator.model import USER, Principal
from tests.connector.emulator.tenant_calls import documents, session_for

SHARING_PREFS = "deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges"


def delta_url(handle, drive, form: str = "root/delta") -> str:
    return f"{handle.base_url}/v1.0/drives/{drive.id}/{form}"


def run_round(session, first_url: str, headers=None) -> tuple[list[dict], str, int]:
    """Follows nextLinks to the deltaLink: (all items in order, deltaLink, pages)."""
    items, next_url, pages = [], first_url, 0
    while True:
        response = session.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["value"]
        pages += 1
        if "@odata.nextLink" in body:
            assert "@odata.deltaLink" not in body
            next_url = body["@odata.nextLink"]
            continue
        return items, body["@odata.deltaLink"], pages


@pytest.fixture
def tenant_and_drive(fresh_emulator):
    return fresh_emulator, documents(fresh_emulator), session_for(fresh_emulator)


def test_full_enumeration_returns_every_live_item_once(emulator):
    drive, session = documents(emulator), session_for(emulator)
    items, delta_link, pages = run_round(session, delta_url(emulator, drive) + "?$top=7")
    expected = [i.id for i in emulator.tenant.iter_items(drive.id)]
    assert [i["id"] for i in items] == expected
    assert pages == -(-len(expected) // 7)
    assert items[0]["root"] == {}
    assert all("path" not in i["parentReference"] for i in items)
    assert all("cTag" not in i for i in items)
    assert delta_link.startswith(delta_url(emulator, drive) + "?token=")
    again = session.get(delta_link).json()
    assert again["value"] == [] and again["@odata.deltaLink"] == delta_link


def test_path_forms_and_select_are_kept_in_links(emulator):
    drive, session = documents(emulator), session_for(emulator)
    for form in ("root/delta()", "root/microsoft.graph.delta()", "items/root/delta()"):
        first = session.get(
            delta_url(emulator, drive, form), params={"$top": 5, "$select": "id,name"}
        )
        body = first.json()
        assert body["@odata.nextLink"].startswith(
            delta_url(emulator, drive, form) + "?$select=id,name&token="
        )
        assert all(set(i) == {"id", "name"} for i in body["value"])
    site = emulator.tenant.site_by_path("/sites/tax")
    via_site = session.get(f"{emulator.base_url}/v1.0/sites/{site.id}/drive/root/delta?$top=2")
    assert [i["id"] for i in via_site.json()["value"]] == [
        i.id for i, _ in zip(emulator.tenant.iter_items(drive.id), range(2), strict=False)
    ]


def test_token_latest_and_bad_tokens(emulator):
    drive, session = documents(emulator), session_for(emulator)
    latest = session.get(delta_url(emulator, drive), params={"token": "latest"}).json()
    assert latest["value"] == []
    assert session.get(latest["@odata.deltaLink"]).json()["value"] == []
    function_form = session.get(delta_url(emulator, drive, "root/delta(token='latest')"))
    assert function_form.json()["value"] == []
    bad = session.get(delta_url(emulator, drive), params={"token": "not-a-token"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalidRequest"
    other = documents(emulator, "audit")
    elsewhere = session.get(latest["@odata.deltaLink"].replace(drive.id, other.id))
    assert elsewhere.status_code == 400


def test_rename_move_and_delete_rounds(tenant_and_drive):
    handle, drive, session = tenant_and_drive
    tenant = handle.tenant
    _, delta_link, _ = run_round(session, delta_url(handle, drive))
    folders = [c for c in tenant.children(drive.id, "root") if c.folder]

    tenant.rename_item(drive.id, folders[0].id, "Renamed Folder")
    items, delta_link, _ = run_round(session, delta_link)
    assert [(i["id"], i["name"]) for i in items] == [(folders[0].id, "Renamed Folder")]

    moved = tenant.children(drive.id, folders[1].id)[0]
    tenant.move_item(drive.id, moved.id, folders[2].id)
    items, delta_link, _ = run_round(session, delta_link)
    assert [(i["id"], i["parentReference"]["id"]) for i in items] == [(moved.id, folders[2].id)]

    gone = tenant.delete_item(drive.id, folders[3].id)
    items, delta_link, _ = run_round(session, delta_link)
    assert {i["id"] for i in items} == {g.id for g in gone}
    for tombstone in items:
        assert tombstone["deleted"] == {"state": "deleted"} and tombstone["size"] == 0
        assert "name" not in tombstone and "cTag" not in tombstone
    assert session.get(delta_link).json()["value"] == []


def test_changes_are_paged_and_replays_only_latest_state(tenant_and_drive):
    handle, drive, session = tenant_and_drive
    tenant = handle.tenant
    _, delta_link, _ = run_round(session, delta_url(handle, drive))
    files = [i for i in tenant.iter_items(drive.id) if not i.folder][:5]
    author = next(iter(tenant.users))
    for file in files:
        tenant.edit_item(drive.id, file.id, by=author)
    tenant.rename_item(drive.id, files[0].id, "Twice renamed.docx")
    first = session.get(delta_link.replace("?", "?$top=2&", 1)).json()
    assert len(first["value"]) == 2 and "@odata.nextLink" in first
    items, _, _ = run_round(session, first["@odata.nextLink"])
    everything = first["value"] + items
    assert [i["id"] for i in everything] == [f.id for f in files[1:]] + [files[0].id]
    assert everything[-1]["name"] == "Twice renamed.docx"


def test_sharing_changes_with_prefer_headers(tenant_and_drive):
    handle, drive, session = tenant_and_drive
    tenant = handle.tenant
    _, delta_link, _ = run_round(session, delta_url(handle, drive))
    folder = next(
        c for c in tenant.children(drive.id, "root") if c.folder and not c.unique_permissions
    )
    guest = next(u for u in tenant.users.values() if u.user_type == "Guest")
    tenant.add_grant(drive.id, folder.id, Principal(USER, guest.id), ("read",))
    response = session.get(delta_link, headers={"Prefer": SHARING_PREFS})
    assert response.headers["Preference-Applied"] == SHARING_PREFS
    body = response.json()
    changed = {i["id"]: i for i in body["value"]}
    assert changed[folder.id]["@microsoft.graph.sharedChanged"] == "True"
    assert changed[folder.id]["shared"] == {"scope": "users"}
    plain = session.get(delta_link).json()["value"]
    assert all("@microsoft.graph.sharedChanged" not in i for i in plain)


def test_hierarchical_sharing_marks_only_permission_roots(emulator):
    drive, session = documents(emulator), session_for(emulator)
    prefer = {"Prefer": "hierarchicalsharing"}
    items, _, _ = run_round(session, delta_url(emulator, drive), headers=prefer)
    unique = {i.id for i in emulator.tenant.iter_items(drive.id) if i.unique_permissions}
    assert {i["id"] for i in items if "shared" in i} == unique
    root = items[0]
    assert root["shared"] == {}  # unique (the library root) but shared with nobody beyond groups
    default, _, _ = run_round(session, delta_url(emulator, drive))
    inherited_shared = [i for i in default if "shared" in i and i["id"] not in unique]
    assert inherited_shared  # by default, items under a shared folder carry `shared` too


def test_expired_tokens_answer_410_with_a_fresh_start(tenant_and_drive):
    handle, drive, session = tenant_and_drive
    _, delta_link, _ = run_round(session, delta_url(handle, drive) + "?$select=id,name,deleted")
    handle.tenant.expire_delta_tokens()
    gone = session.get(delta_link)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "resyncRequired"
    assert gone.json()["error"]["message"].startswith("Resync required.")
    location = gone.headers["Location"]
    assert location == delta_url(handle, drive) + "?$select=id,name,deleted"
    items, _, _ = run_round(session, location)
    assert len(items) == sum(1 for _ in handle.tenant.iter_items(drive.id))


def test_user_delta_holds_exactly_what_the_user_can_open(emulator):
    tenant = emulator.tenant
    people = [
        next(u for u in tenant.users.values() if u.job_title == "Partner"),
        next(u for u in tenant.users.values() if u.user_type == "Guest"),
    ]
    for person in people:
        session = session_for(emulator, user=person.user_principal_name)
        for drive in (documents(emulator), documents(emulator, "deals")):
            items, _, _ = run_round(session, delta_url(emulator, drive) + "?$top=5")
            expected = {
                i.id
                for i in tenant.iter_items(drive.id)
                if tenant.can_open(person.id, drive.id, i.id)
            }
            assert {i["id"] for i in items} == expected


def test_tokens_of_an_earlier_emulator_process_answer_410(emulator, fresh_emulator):
    """The emulator started again (the same firm and drive numbers, but a new change journal):
    a link the earlier process issued is expired sync state there, not a place to resume from."""
    drive, earlier = documents(emulator), session_for(emulator)
    _, drive_link, _ = run_round(earlier, delta_url(emulator, drive))
    users = earlier.get(f"{emulator.base_url}/v1.0/users/delta?$deltatoken=latest")
    later = session_for(fresh_emulator)
    for link in (drive_link, users.json()["@odata.deltaLink"]):
        answer = later.get(link.replace(emulator.base_url, fresh_emulator.base_url, 1))
        assert answer.status_code == 410, answer.text
    _, own_link, _ = run_round(later, delta_url(fresh_emulator, documents(fresh_emulator)))
    assert later.get(own_link).status_code == 200
