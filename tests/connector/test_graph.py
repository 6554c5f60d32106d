"""GraphSource against the emulator: sites, drives, delta rounds, permissions."""

from __future__ import annotations

import pytest

from connector.errors import NotFound

USER, GROUP = "user", "group"


def control(handle, method: str, path: str, **body):
    answer = handle.session().request(
        method, f"{handle.base_url}/_emulator/{path}", json=body or None
    )
    assert answer.ok, answer.text
    return answer.json() if answer.content else None


def live_item_ids(tenant, drive_id: str) -> set[str]:
    return {item.id for item in tenant.iter_items(drive_id)}


def a_document_drive(tenant):
    """The drive with the most items (so pages and folders exist)."""
    return max(
        (s.drive for s in tenant.drives.values() if not s.drive.system),
        key=lambda drive: drive.base_count,
    )


def test_sites_all_by_url_and_search(emulator, source):
    tenant = emulator.tenant
    sites = list(source.sites())
    assert {s.id for s in sites} == set(tenant.sites)
    some = next(s for s in tenant.sites.values() if s.path != "/")
    by_url = source.site_by_url(emulator.base_url + some.path)
    assert (by_url.id, by_url.web_url) == (some.id, emulator.base_url + some.path)
    root = source.site_by_url(emulator.base_url + "/")
    assert root.is_root and root.web_url == emulator.base_url
    found = list(source.search_sites(some.display_name))
    assert some.id in {s.id for s in found}
    with pytest.raises(NotFound):
        source.site_by_url(emulator.base_url + "/sites/no-such-site")


def test_drives_of_each_site_hide_system_libraries(emulator, source):
    for site in emulator.tenant.sites.values():
        expected = {d.id for d in emulator.tenant.drives_of(site.id)}
        assert {d.id for d in source.drives(site.id)} == expected


def test_full_delta_round_pages_and_items(emulator, source):
    drive = a_document_drive(emulator.tenant)
    pages = list(source.drive_changes(drive.id, page_size=7))
    assert all(p.next_link and not p.delta_link for p in pages[:-1])
    assert pages[-1].delta_link and not pages[-1].next_link
    items = [item for page in pages for item in page.items]
    assert {i.id for i in items} == live_item_ids(emulator.tenant, drive.id)
    assert all(i.drive_id == drive.id for i in items)
    files = [i for i in items if i.is_file]
    assert files and all(i.list_id == drive.list_id and i.list_item_id for i in files)
    assert all(i.ctag is None for i in items if i.is_folder)
    assert sum(i.is_root for i in items) == 1


def test_next_round_has_only_what_changed(fresh_emulator, fresh_source):
    tenant = fresh_emulator.tenant
    drive = a_document_drive(tenant)
    first = list(fresh_source.drive_changes(drive.id))
    items = [i for page in first for i in page.items]
    folder = next(i for i in items if i.is_folder and not i.is_root)
    doomed = next(i for i in items if i.is_file and i.parent_id != folder.id)
    control(fresh_emulator, "PATCH", f"items/{drive.id}/{folder.id}", name="Renamed Folder")
    control(fresh_emulator, "DELETE", f"items/{drive.id}/{doomed.id}")
    second = list(fresh_source.drive_changes(drive.id, first[-1].delta_link))
    changed = [i for page in second for i in page.items]
    deleted = [d for page in second for d in page.deleted_ids]
    assert deleted == [doomed.id]
    assert [(i.id, i.name) for i in changed if not i.is_root] == [(folder.id, "Renamed Folder")]
    assert second[-1].delta_link


def test_sharing_change_is_flagged_in_delta(fresh_emulator, fresh_source):
    tenant = fresh_emulator.tenant
    drive = a_document_drive(tenant)
    first = list(fresh_source.drive_changes(drive.id))
    item = next(i for page in first for i in page.items if i.is_file)
    user = next(u for u in tenant.users.values() if u.account_enabled)
    control(
        fresh_emulator,
        "POST",
        f"items/{drive.id}/{item.id}/permissions",
        principal={"kind": "user", "id": user.id},
        roles=["read"],
    )
    second = list(fresh_source.drive_changes(drive.id, first[-1].delta_link))
    flagged = [i for page in second for i in page.items if i.id == item.id]
    assert len(flagged) == 1 and flagged[0].sharing_changed and flagged[0].shared
    grantees = [g for p in fresh_source.permissions(drive.id, item.id) for g in p.grantees]
    assert any(g.kind == USER and g.id == user.id for g in grantees)


def test_permissions_one_by_one_and_batched_agree(emulator, source):
    tenant = emulator.tenant
    drive = a_document_drive(tenant)
    item_ids = [item.id for item in tenant.iter_items(drive.id)][:25]
    batched = source.permissions_of_items(drive.id, [*item_ids, "01NOSUCHITEM"])
    assert set(batched) == set(item_ids)
    for item_id in item_ids[:5]:
        assert batched[item_id] == source.permissions(drive.id, item_id)
    for item_id in item_ids:
        assert len(batched[item_id]) == len(tenant.grants(drive.id, item_id))
        assert all(p.roles and (p.grantees or p.link) for p in batched[item_id])


def test_latest_delta_link_starts_from_now(fresh_emulator, fresh_source):
    drive = a_document_drive(fresh_emulator.tenant)
    latest = fresh_source.latest_delta_link(drive.id)
    item = next(iter(fresh_emulator.tenant.iter_items(drive.id, 1)))
    control(fresh_emulator, "PATCH", f"items/{drive.id}/{item.id}", name="Now Renamed.docx")
    pages = list(fresh_source.drive_changes(drive.id, latest))
    assert [(i.id, i.name) for p in pages for i in p.items if not i.is_root] == [
        (item.id, "Now Renamed.docx")
    ]
