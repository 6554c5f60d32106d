"""People and groups by delta against the emulator: profiles, managers, photos, groups,
direct and transitive memberships, changes, and a full resync after an expired token."""

from __future__ import annotations

import pytest

from sync.db import open_index
from sync.engine import RunCounts, sync_people
from tests.postgres import index_at
from tests.sync.emulated import connector_for, control


def expected_people(tenant) -> set[tuple]:
    """Live people as Graph shows them (a deleted manager is no manager: /manager is 404)."""
    return {
        (u.id, u.user_principal_name, u.display_name, u.job_title, u.department,
         u.manager_id if u.manager_id and tenant.user(u.manager_id) else None,
         int(u.has_photo), int(u.account_enabled), int(u.user_type == "Guest"))
        for u in tenant.users.values()
        if not u.deleted
    }  # fmt: skip


def people_rows(db) -> set[tuple]:
    return set(
        db.execute(
            "SELECT id, upn, display_name, job_title, department, manager_id, has_photo, enabled, "
            "guest FROM people WHERE deleted = 0"
        ).fetchall()
    )


def expected_memberships(tenant) -> set[tuple[str, str]]:
    return {
        (u.id, group_id)
        for u in tenant.users.values()
        if not u.deleted
        for group_id in tenant.transitive_groups(u.id)
    }


def memberships(db) -> set[tuple[str, str]]:
    return set(db.execute("SELECT user_id, group_id FROM memberships").fetchall())


@pytest.fixture
def people_index(fresh_emulator, tmp_path):
    db = open_index(index_at(tmp_path / "index.db"))
    connector = connector_for(fresh_emulator, certificate=False)  # Graph alone needs no certificate
    counts = sync_people(db, connector)
    yield fresh_emulator, db, connector, counts
    db.close()


def test_first_sync_mirrors_people_groups_and_memberships(people_index):
    handle, db, _, counts = people_index
    tenant = handle.tenant
    assert people_rows(db) == expected_people(tenant)
    groups = set(db.execute("SELECT id, display_name, unified FROM groups WHERE deleted = 0"))
    assert groups == {(g.id, g.display_name, int(g.unified)) for g in tenant.groups.values()}
    direct = set(db.execute("SELECT group_id, member_id, member_type FROM group_members"))
    assert direct == {
        (g.id, m, "group" if m in tenant.groups else "user")
        for g in tenant.groups.values()
        for m in g.member_ids
    }
    assert memberships(db) == expected_memberships(tenant)
    nested = {(u, g) for u, g in memberships(db)} - {(m, g) for g, m, _ in direct}
    assert nested  # the firm-wide groups hold other groups
    assert counts == RunCounts(
        added=len(tenant.users) + len(tenant.groups), pages=2,
        items=len(tenant.users) + len(tenant.groups),
    )  # fmt: skip
    cursors = {r[0] for r in db.execute("SELECT scope FROM cursors")}
    assert cursors == {"users", "groups"}


def test_changes_to_people_and_memberships_arrive_by_delta(people_index):
    handle, db, connector, _ = people_index
    tenant = handle.tenant
    users = [u for u in tenant.users.values() if u.user_type == "Member" and u.account_enabled]
    leadership = next(g for g in tenant.groups.values() if "Leadership" in g.display_name)
    newcomer = next(u for u in users if u.id not in tenant.transitive_members(leadership.id))
    leaver_group = next(g for g in tenant.groups.values() if any(m in tenant.users
                                                                for m in g.member_ids))  # fmt: skip
    leaver = next(m for m in leaver_group.member_ids if m in tenant.users)
    control(handle, "POST", f"groups/{leadership.id}/members", {"member_id": newcomer.id})
    control(handle, "DELETE", f"groups/{leaver_group.id}/members/{leaver}")
    control(handle, "PATCH", f"users/{users[1].id}", {"account_enabled": False})
    control(handle, "PATCH", f"users/{users[2].id}", {"job_title": "Chief Listener"})
    before = memberships(db)

    counts = sync_people(db, connector)

    assert people_rows(db) == expected_people(tenant)
    assert memberships(db) == expected_memberships(tenant)
    assert (counts.updated, counts.added, counts.deleted) == (4, 0, 0)  # 2 users, 2 groups
    assert counts.permission_changes == len(before ^ memberships(db)) > 1


def test_an_expired_token_resyncs_everything_and_sweeps_the_deleted(people_index):
    handle, db, connector, _ = people_index
    tenant = handle.tenant
    control(handle, "POST", "delta/expire")
    gone = next(u for u in tenant.users.values() if u.user_type == "Member")
    control(handle, "PATCH", f"users/{gone.id}", {"deleted": True})

    counts = sync_people(db, connector)

    assert db.execute("SELECT deleted FROM people WHERE id = ?", [gone.id]).fetchone() == (1,)
    assert people_rows(db) == expected_people(tenant)
    assert memberships(db) - {(gone.id, g) for g in tenant.transitive_groups(gone.id)} == (
        expected_memberships(tenant)
    )
    assert counts.deleted == 1
    assert counts.updated == len(tenant.users) - 1 + len(tenant.groups)


def test_full_people_sync_rereads_every_object(people_index):
    handle, db, connector, _ = people_index
    tenant = handle.tenant
    counts = sync_people(db, connector, full=True)
    assert counts == RunCounts(
        updated=len(tenant.users) + len(tenant.groups), pages=2,
        items=len(tenant.users) + len(tenant.groups),
    )  # fmt: skip
    assert people_rows(db) == expected_people(tenant)


def stored_photos(db) -> dict[str, bytes]:
    return dict(db.execute("SELECT person_id, data FROM photos").fetchall())


def test_photos_are_kept_with_people_and_fetched_again_only_when_changed(people_index):
    handle, db, connector, _ = people_index
    tenant = handle.tenant
    with_photo = {u.id for u in tenant.users.values() if u.has_photo and not u.deleted}
    assert with_photo and stored_photos(db) == {uid: tenant.photo(uid) for uid in with_photo}
    before = connector.stats().requests
    sync_people(db, connector)
    assert connector.stats().requests - before == 2  # one users and one groups delta page

    changed, dropped = sorted(with_photo)[:2]
    control(handle, "PATCH", f"users/{changed}", {"photo_version": 1})
    control(handle, "PATCH", f"users/{dropped}", {"has_photo": False})
    sync_people(db, connector)  # a photo is in no delta: nothing seen yet
    assert stored_photos(db)[changed] != tenant.photo(changed)
    sync_people(db, connector, full=True)  # the full round reads every photo's etag again
    assert stored_photos(db) == {uid: tenant.photo(uid) for uid in with_photo - {dropped}}
