"""Access end to end: the emulator's tenant synced by the real engine, then visible keys,
can_view, explain, search and `plaza sync visible` held against the emulator's oracle of who
may open what, also after changes to groups, accounts, links and inheritance are re-synced.
"""

from __future__ import annotations

import pytest

from sync import access
from sync.db import open_index
from sync.dialect import is_postgres
from sync.engine import sync_documents, sync_people
from sync.targets import DocumentTarget
from tests.postgres import index_at
from tests.sync.conftest import run_access_cli
from tests.sync.emulated import connector_for, control, oracle


def sync_tenant(handle, db) -> None:
    connector = connector_for(handle)
    sync_people(db, connector)
    sync_documents(db, connector, DocumentTarget(all_sites=True), page_size=50, workers=3)


@pytest.fixture(scope="module")
def synced(emulator, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("synced")
    db = open_index(index_at(data_dir / "index.db"))
    sync_tenant(emulator, db)
    yield db, data_dir
    db.close()


def test_everyone_sees_exactly_what_the_oracle_says(emulator, synced) -> None:
    db, _ = synced
    users = list(emulator.tenant.users.values())
    assert {u.user_type for u in users} == {"Member", "Guest"}
    assert not all(u.account_enabled for u in users)
    for user in users:
        expected = sorted(oracle(emulator, user.id))
        assert list(access.visible_item_keys(db, user.id)) == expected, user.user_principal_name
        assert list(access.visible_item_keys(db, user.user_principal_name.upper())) == expected


def test_cli_visible_prints_the_oracle(emulator, synced) -> None:
    db, data_dir = synced
    user = next(
        u for u in emulator.tenant.users.values() if u.user_type == "Guest" and u.account_enabled
    )
    expected = sorted(oracle(emulator, user.id))
    assert expected
    result = run_access_cli(data_dir, "visible", "--user", user.user_principal_name, index=db)
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"{d}/{i}" for d, i in expected]


def test_can_view_and_explain_agree_with_the_oracle(emulator, synced) -> None:
    db, _ = synced
    users = [u for u in emulator.tenant.users.values() if u.account_enabled][:6]
    every_item = db.execute("SELECT drive_id, item_id FROM items ORDER BY rowid").fetchall()
    for user in users:
        visible = oracle(emulator, user.id)
        for drive_id, item_id in every_item[::7]:
            expected = (drive_id, item_id) in visible
            assert access.can_view(db, user.id, drive_id, item_id) == expected
            explanation = access.explain(db, user.id, drive_id, item_id)
            assert explanation.visible == expected, explanation
            assert explanation.reasons[0].startswith("visible through" if expected else "not ")


# Every live item holding the word "docx", whoever may see it, by each engine's own index.
HOLDING_DOCX = {
    "sqlite": """SELECT i.drive_id, i.item_id FROM items_fts JOIN items AS i ON i.rowid =
                 items_fts.rowid WHERE items_fts MATCH 'docx' AND i.deleted = 0""",
    "postgresql": """SELECT i.drive_id, i.item_id FROM items AS i WHERE i.deleted = 0
                     AND i.search_vector @@ to_tsquery('plaza_words', 'docx')""",
}


def test_search_is_trimmed_to_the_oracle(emulator, synced) -> None:
    db, _ = synced
    matching = set(db.execute(HOLDING_DOCX["postgresql" if is_postgres(db) else "sqlite"]))
    for user in list(emulator.tenant.users.values())[:8]:
        expected = matching & oracle(emulator, user.id)
        found = access.search(db, user.id, "docx", per_page=100)
        pages = [found] + [
            access.search(db, user.id, "docx", page=n, per_page=100)
            for n in range(2, found.pages + 1)
        ]
        hits = [(h.drive_id, h.item_id) for p in pages for h in p.hits]
        assert found.total == len(expected)
        assert sorted(hits) == sorted(expected)


def test_changes_reach_the_oracle_after_the_next_sync(fresh_emulator, tmp_path) -> None:
    """Group membership, a disabled account, a new link and broken inheritance, re-synced."""
    handle, tenant = fresh_emulator, fresh_emulator.tenant
    db = open_index(index_at(tmp_path / "index.db"))
    sync_tenant(handle, db)
    members = [u for u in tenant.users.values() if u.user_type == "Member" and u.account_enabled]
    guest = next(u for u in tenant.users.values() if u.user_type == "Guest" and u.account_enabled)
    leadership = next(g for g in tenant.groups.values() if "Leadership" in g.display_name)
    drive_id = next(d for d, s in tenant.drives.items() if not s.drive.system)
    folder = next(i for i in tenant.children(drive_id, tenant.root(drive_id).id) if i.folder)
    file = next(i for i in tenant.iter_items(drive_id) if not i.folder)
    before = {u.id: list(access.visible_item_keys(db, u.id)) for u in (guest, members[2])}
    control(handle, "POST", f"groups/{leadership.id}/members", {"member_id": guest.id})
    control(handle, "PATCH", f"users/{members[0].id}", {"account_enabled": False})
    control(handle, "POST", f"items/{drive_id}/{file.id}/links", {"scope": "organization"})
    grant = {"principal": {"kind": "user", "id": members[1].id}, "roles": ["read"]}
    control(handle, "POST", f"items/{drive_id}/{folder.id}/permissions/break", {"grants": [grant]})
    sync_tenant(handle, db)
    for user in tenant.users.values():
        assert list(access.visible_item_keys(db, user.id)) == sorted(oracle(handle, user.id))
    assert list(access.visible_item_keys(db, members[0].id)) == []
    for user in (guest, members[2]):  # gained the leadership's folders; lost the broken folder
        assert list(access.visible_item_keys(db, user.id)) != before[user.id]
    db.close()
