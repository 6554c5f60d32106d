"""The emulated tenant's model: generation, mutations and the permission rule, without HTTP."""

from __future__ import annotations

import itertools

import pytest

from connector.emulator.model import EVERYONE, GROUP, USER, Principal
from connector.emulator.tenant import Tenant


@pytest.fixture
def tenant() -> Tenant:
    return Tenant(seed=7, size="small", base_url="https://localhost:9")


def snapshot(tenant: Tenant) -> list[tuple]:
    people = [
        (u.id, u.user_principal_name, u.job_title, u.manager_id) for u in tenant.users.values()
    ]
    items = [
        (i.drive_id, i.id, i.name, i.parent_id, i.size, i.modified_at, i.unique_permissions)
        for d in tenant.drives
        for i in tenant.iter_items(d)
    ]
    return people + items


def test_same_seed_same_tenant_and_another_seed_another():
    assert snapshot(Tenant(7, "small")) == snapshot(Tenant(7, "small"))
    assert snapshot(Tenant(7, "small")) != snapshot(Tenant(8, "small"))


def test_small_firm_has_the_shape_a_demo_needs(tenant):
    users = list(tenant.users.values())
    assert len(users) == 30
    assert sum(u.user_type == "Guest" for u in users) == 1
    assert sum(not u.account_enabled for u in users) == 1
    assert users[0].job_title == "Managing Partner" and users[0].manager_id is None
    assert all(u.manager_id in tenant.users for u in users[1:] if u.user_type == "Member")
    assert [s.path for s in tenant.sites.values()] == [
        "/",
        "/sites/intranet",
        "/sites/audit",
        "/sites/tax",
        "/sites/deals",
    ]
    live = sum(1 for d in tenant.drives for _ in tenant.iter_items(d))
    assert live == 400 + 5  # the requested items plus one root per system library
    assert {s.drive.system for s in tenant.drives.values()} == {True, False}


def test_nested_groups_resolve_transitively(tenant):
    partner = next(u for u in tenant.users.values() if u.job_title == "Partner")
    groups = {tenant.groups[g].display_name for g in tenant.transitive_groups(partner.id)}
    assert {"All Partners", "Client Confidential", "All Staff"} <= groups


def test_siblings_have_unique_names_and_parents_come_first(tenant):
    for drive_id in tenant.drives:
        seen: set[str] = set()
        for item in tenant.iter_items(drive_id):
            assert item.parent_id is None or item.parent_id in seen
            seen.add(item.id)
            names = [c.name.lower() for c in tenant.children(drive_id, item.id)]
            assert len(names) == len(set(names))


def test_item_ids_are_odb_shaped_and_unknown_ids_are_rejected(tenant):
    drive_id = next(iter(tenant.drives))
    item = tenant.item_at(drive_id, 3)
    assert len(item.id) == 34 and item.id.startswith("01")
    assert tenant.item(drive_id, item.id) == item
    assert tenant.item(drive_id, item.id[:-1] + ("A" if item.id[-1] != "A" else "B")) is None
    other_drive = list(tenant.drives)[2]
    assert tenant.item(other_drive, item.id) is None


def test_million_item_tenant_is_lazy():
    big = Tenant(1, "large")
    drive_id = max(big.drives, key=lambda d: big.drives[d].drive.base_count)
    last = big.end_position(drive_id) - 1
    item = big.item_at(drive_id, last)
    assert sum(s.drive.base_count for s in big.drives.values() if not s.drive.system) == 1_000_000
    assert big.path_of(item).count("/") >= 4
    assert big.drives[drive_id].overrides == {}


def test_rename_move_delete_are_journaled_once_per_item(tenant):
    drive_id = list(tenant.drives)[5]
    folder = next(i for i in tenant.iter_items(drive_id) if i.folder and not i.is_root)
    other = next(i for i in tenant.iter_items(drive_id) if i.folder and i.index > folder.index)
    start = tenant.seq
    tenant.rename_item(drive_id, folder.id, "Renamed once")
    tenant.rename_item(drive_id, folder.id, "Renamed twice")
    tenant.move_item(drive_id, other.id, folder.id)
    changes = tenant.changes_since(drive_id, start)
    assert [c.item_index for c in changes] == [folder.index, other.index]
    moved = tenant.item(drive_id, other.id)
    assert tenant.path_of(moved) == f"/Renamed twice/{other.name}"
    assert other.id in [c.id for c in tenant.children(drive_id, folder.id)]
    child = tenant.children(drive_id, other.id)[0]
    assert tenant.path_of(tenant.item(drive_id, child.id)).startswith("/Renamed twice/")
    gone = tenant.delete_item(drive_id, folder.id)
    assert all(i.deleted for i in gone) and len(gone) >= 2
    assert tenant.item(drive_id, folder.id).deleted
    assert folder.id not in [i.id for i in tenant.iter_items(drive_id)]


def test_bad_mutations_raise_and_change_nothing(tenant):
    drive_id = list(tenant.drives)[5]
    root = tenant.root(drive_id)
    first = tenant.children(drive_id, root.id)[0]
    second = tenant.children(drive_id, root.id)[1]
    before = tenant.seq
    with pytest.raises(ValueError):
        tenant.rename_item(drive_id, first.id, second.name.upper())
    with pytest.raises(ValueError):
        tenant.move_item(drive_id, root.id, first.id)
    with pytest.raises(KeyError):
        tenant.delete_item(drive_id, "01" + "A" * 32)
    with pytest.raises(ValueError):
        tenant.create_link(drive_id, first.id, "users", "view")
    assert tenant.seq == before


def test_breaking_inheritance_narrows_access(tenant):
    drive_id = list(tenant.drives)[5]  # the audit site's library (public: everyone may read)
    item = next(i for i in tenant.iter_items(drive_id) if not i.folder and not i.unique_permissions)
    outsider = next(u for u in tenant.users.values() if u.department == "Tax")
    assert tenant.can_open(outsider.id, drive_id, item.id)
    owner = tenant.users[item.created_by]
    tenant.break_inheritance(drive_id, item.id, [])
    assert not tenant.can_open(outsider.id, drive_id, item.id)
    grant = tenant.add_grant(drive_id, item.id, Principal(USER, owner.id), ("write",))
    assert tenant.can_open(owner.id, drive_id, item.id)
    assert not tenant.can_open(outsider.id, drive_id, item.id)
    tenant.create_link(drive_id, item.id, "organization", "view")
    assert tenant.can_open(outsider.id, drive_id, item.id)
    tenant.restore_inheritance(drive_id, item.id)
    assert tenant.can_open(outsider.id, drive_id, item.id)
    assert grant.id not in [g.id for g in tenant.grants(drive_id, item.id)]
    changes = tenant.changes_since(drive_id, 0)
    assert [(c.item_index, c.sharing_changed) for c in changes] == [(item.index, True)]


def test_group_membership_and_disabling_change_access_at_once(tenant):
    site = tenant.site_by_path("/sites/deals")  # a private site
    drive_id = tenant.drives_of(site.id)[0].id
    root = tenant.root(drive_id)
    outsider = next(
        u
        for u in tenant.users.values()
        if u.account_enabled
        and u.user_type == "Member"
        and not tenant.can_open(u.id, drive_id, root.id)
    )
    tenant.add_group_member(site.group_id, outsider.id)
    assert tenant.can_open(outsider.id, drive_id, root.id)
    tenant.update_user(outsider.id, account_enabled=False)
    assert not tenant.can_open(outsider.id, drive_id, root.id)
    assert list(tenant.visible_items(outsider.id)) == []
    assert [(k, i) for _, k, i in tenant.directory_journal] == [
        ("group", site.group_id),
        ("user", outsider.id),
    ]


def test_guests_are_not_everyone(tenant):
    guest = next(u for u in tenant.users.values() if u.user_type == "Guest")
    intranet = next(d for d, s in tenant.drives.items() if tenant.site_of(d).name == "intranet")
    assert not tenant.can_open(guest.id, intranet, "root")
    member = tenant.users[next(iter(tenant.users))]
    assert tenant.can_open(member.id, intranet, "root")
    everyone = tenant.add_grant(intranet, "root", Principal(EVERYONE), ("read",))
    assert everyone.principal.kind == EVERYONE


@pytest.mark.parametrize("user_number", [0, 5, 12, 27, 28, 29])
def test_visible_items_equals_the_item_by_item_rule(tenant, user_number):
    drive_id = list(tenant.drives)[5]
    folder = next(i for i in tenant.iter_items(drive_id) if i.folder and not i.is_root)
    tenant.break_inheritance(drive_id, folder.id, [])
    tenant.add_grant(drive_id, folder.id, Principal(GROUP, next(iter(tenant.groups))), ("read",))
    user = list(tenant.users.values())[user_number]
    every_item = itertools.chain.from_iterable(
        ((d, i.id) for i in tenant.iter_items(d)) for d in tenant.drives
    )
    expected = [(d, i) for d, i in every_item if tenant.can_open(user.id, d, i)]
    assert list(tenant.visible_items(user.id)) == expected


def test_shared_copies_keep_their_snapshot_when_the_parent_changes(tenant):
    """SharePoint copies the parent's grants when sharing breaks inheritance; later changes to
    the parent do not reach the copy (and so never show up as a change of the copy)."""
    for drive_id, state in tenant.drives.items():
        copy = next(
            (i for i in tenant.iter_items(drive_id) if (state.own_sharing(i.index) or (False,))[0]),
            None,
        )
        if copy is not None and copy.parent_index != 0:
            break
    before = tenant.grants(drive_id, copy.id)
    start = tenant.seq
    tenant.break_inheritance(drive_id, copy.parent_id, [])
    assert tenant.grants(drive_id, copy.id) == before
    assert [c.item_index for c in tenant.changes_since(drive_id, start)] == [copy.parent_index]
