"""GraphSource's directory reads against the emulator: users, groups, deltas, manager, photo."""

from __future__ import annotations


def control(handle, method: str, path: str, **body):
    answer = handle.session().request(
        method, f"{handle.base_url}/_emulator/{path}", json=body or None
    )
    assert answer.ok, answer.text
    return answer.json() if answer.content else None


def live_users(tenant):
    return [u for u in tenant.users.values() if not u.deleted]


def test_users_and_one_user(emulator, source):
    users = list(source.users())
    assert {u.id for u in users} == {u.id for u in live_users(emulator.tenant)}
    expected = live_users(emulator.tenant)[0]
    user = source.user(expected.user_principal_name)
    assert (user.id, user.display_name, user.job_title, user.account_enabled) == (
        expected.id,
        expected.display_name,
        expected.job_title,
        expected.account_enabled,
    )
    assert user.user_type == expected.user_type


def test_users_delta_rounds(fresh_emulator, fresh_source):
    tenant = fresh_emulator.tenant
    first = list(fresh_source.users_delta())
    assert {u.id for page in first for u in page.items} == {u.id for u in live_users(tenant)}
    changed, disabled = live_users(tenant)[:2]
    control(fresh_emulator, "PATCH", f"users/{changed.id}", job_title="Chief Listener")
    control(fresh_emulator, "PATCH", f"users/{disabled.id}", account_enabled=False)
    second = list(fresh_source.users_delta(first[-1].delta_link))
    seen = {u.id: u for page in second for u in page.items}
    assert set(seen) == {changed.id, disabled.id}
    assert seen[changed.id].job_title == "Chief Listener"
    assert seen[disabled.id].account_enabled is False
    assert second[-1].delta_link


def test_groups_delta_merges_members_and_tracks_removals(fresh_emulator, fresh_source):
    tenant = fresh_emulator.tenant
    first = list(fresh_source.groups_delta())
    assert len(first) == 1 and first[0].delta_link
    groups = {g.id: g for g in first[0].items}
    assert set(groups) == {g.id for g in tenant.groups.values() if not g.deleted}
    group = max(tenant.groups.values(), key=lambda g: len(g.member_ids))
    assert {m.id for m in groups[group.id].members_added} == set(group.member_ids)
    leaving = group.member_ids[0]
    control(fresh_emulator, "DELETE", f"groups/{group.id}/members/{leaving}")
    second = list(fresh_source.groups_delta(first[0].delta_link))
    changed = {g.id: g for g in second[0].items}
    assert [m.id for m in changed[group.id].members_removed] == [leaving]


def test_group_members_and_transitive_groups(emulator, source):
    tenant = emulator.tenant
    group = next(g for g in tenant.groups.values() if g.member_ids and not g.deleted)
    members = source.group_members(group.id)
    assert {m.id for m in members} == set(group.member_ids)
    assert all(m.kind in ("user", "group") for m in members)
    user = next(u for u in live_users(tenant) if tenant.transitive_groups(u.id))
    groups = source.transitive_groups(user.id)
    assert {g.id for g in groups} == set(tenant.transitive_groups(user.id))


def test_manager_and_photo_or_none(emulator, source):
    tenant = emulator.tenant
    managed = next(u for u in live_users(tenant) if u.manager_id)
    unmanaged = next(u for u in live_users(tenant) if not u.manager_id)
    assert source.manager(managed.id).id == managed.manager_id
    assert source.manager(unmanaged.id) is None
    pictured = next(u for u in live_users(tenant) if u.has_photo)
    plain = next(u for u in live_users(tenant) if not u.has_photo)
    photo = source.photo(pictured.id)
    assert photo.data == tenant.photo(pictured.id)
    assert photo.content_type.startswith("image/")
    assert source.photo(plain.id) is None


def test_a_group_split_over_pages_is_merged():
    from connector.graph_directory import merge_group
    from connector.models import Group, Member

    first = Group.from_graph(
        {
            "id": "g",
            "displayName": "Tax",
            "groupTypes": ["Unified"],
            "members@delta": [
                {"@odata.type": "#microsoft.graph.user", "id": "a"},
                {"@odata.type": "#microsoft.graph.user", "id": "b"},
            ],
        }
    )
    later = Group.from_graph(
        {
            "id": "g",
            "members@delta": [
                {"@odata.type": "#microsoft.graph.user", "id": "c"},
                {
                    "@odata.type": "#microsoft.graph.user",
                    "id": "b",
                    "@removed": {"reason": "deleted"},
                },
            ],
        }
    )
    merged = merge_group(first, later)
    assert (merged.display_name, merged.group_types) == ("Tax", ("Unified",))
    assert merged.members_added == (Member("a", "user"), Member("c", "user"))
    assert merged.members_removed == (Member("b", "user"),)
