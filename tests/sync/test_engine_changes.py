"""The documents engine after changes made through the emulator's control API: renames and
moves re-derive whole subtrees, deletions leave tombstones, permission and membership changes
show in visibility, an expired delta token reconciles by full enumeration.

After each scenario the index must equal a clean full sync of the tenant (live rows), and every
person's visible items must equal the emulator's oracle.
"""

from __future__ import annotations

import itertools
from urllib.parse import quote

import pytest

from sync.db import open_index, transaction
from sync.engine import sync_documents, sync_people
from sync.targets import DocumentTarget
from tests.postgres import index_at
from tests.sync.emulated import connector_for, control, oracle, visible_in_index

PAGE = 60
ALL_SITES = DocumentTarget(all_sites=True)
LIVE_ITEMS = """
SELECT drive_id, item_id, parent_id, name, path, web_url, is_folder, file_type, size, etag,
       has_unique_perms, perms_state, acl_item_id, list_item_id
FROM items WHERE deleted = 0 ORDER BY drive_id, item_id
"""
LIVE_ACLS = """
SELECT a.drive_id, a.item_id, a.principal, a.role, a.via FROM acl a
JOIN items i ON i.drive_id = a.drive_id AND i.item_id = a.item_id AND i.deleted = 0
  AND i.has_unique_perms = 1
ORDER BY 1, 2, 3, 5
"""


def sampled_people(tenant, *also: str) -> list:
    """Every fourth person, every guest and disabled account, and `also` (ids)."""
    users = list(tenant.users.values())
    return [
        u
        for n, u in enumerate(users)
        if n % 4 == 0 or u.user_type == "Guest" or not u.account_enabled or u.id in also
    ]


CLEAN_NUMBERS = itertools.count(1)  # each clean sync its own index


def assert_matches_tenant(handle, db, tmp_path, *also: str) -> None:
    """Live rows equal a clean full sync; paths and URLs are the tenant's; the oracle agrees
    for sampled people (and `also`, ids of people a scenario changed)."""
    clean = open_index(index_at(tmp_path / f"clean-{next(CLEAN_NUMBERS)}.db"))
    connector = connector_for(handle)
    sync_people(clean, connector)
    sync_documents(clean, connector, ALL_SITES, page_size=PAGE)
    assert db.execute(LIVE_ITEMS).fetchall() == clean.execute(LIVE_ITEMS).fetchall()
    assert db.execute(LIVE_ACLS).fetchall() == clean.execute(LIVE_ACLS).fetchall()
    tenant = handle.tenant
    for drive_id, item_id, path, web_url in db.execute(
        "SELECT drive_id, item_id, path, web_url FROM items WHERE deleted = 0"
    ):
        item = tenant.item(drive_id, item_id)
        assert path == tenant.path_of(item)
        site, drive = tenant.site_of(drive_id), tenant.drive(drive_id)
        assert web_url == tenant.site_web_url(site) + "/" + quote(drive.url_name) + quote(path)
    for user in sampled_people(tenant, *also):
        assert visible_in_index(db, user.id) == oracle(handle, user.id), user.user_principal_name
    clean.close()


@pytest.fixture
def synced(fresh_emulator, tmp_path):
    """A fresh tenant and an index holding its first sync."""
    db = open_index(index_at(tmp_path / "index.db"))
    connector = connector_for(fresh_emulator)
    sync_people(db, connector)
    sync_documents(db, connector, ALL_SITES, page_size=PAGE)
    yield fresh_emulator, db, connector
    db.close()


class Messages:
    """A run's progress, keeping only its messages."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def on_page(self, items: int) -> None:
        pass

    def on_throttled(self, seconds: float) -> None:
        pass

    def on_message(self, text: str) -> None:
        self.texts.append(text)


def deep_drive(tenant):
    """The first library with two levels of generated folders below its root."""
    return next(s.drive for s in tenant.drives.values() if s.drive.base_count >= 72)


def folders_at_top(tenant, drive_id):
    return [i for i in tenant.children(drive_id, "root") if i.folder]


def only_inheriting_below(tenant, drive_id, item) -> bool:
    state = tenant.drives[drive_id]
    below = [tenant.item_at(drive_id, i) for i in state.descendants(item.index)]
    return not item.unique_permissions and not any(i.unique_permissions for i in below)


# -- scenarios --------------------------------------------------------------------------------


def test_rename_and_move_update_every_descendant(synced, tmp_path):
    handle, db, connector = synced
    tenant = handle.tenant
    drive = deep_drive(tenant)
    first, second = folders_at_top(tenant, drive.id)[:2]
    who = tenant.drives[drive.id].ctx.authors[0]
    deep = control(
        handle,
        "POST",
        "items",
        {"drive_id": drive.id, "parent_id": first.id, "name": "Deep", "folder": True, "by": who},
    )
    control(handle, "POST", "items", {"drive_id": drive.id, "parent_id": deep["item_id"],
                                      "name": "Notes on tax.docx", "by": who})  # fmt: skip
    sync_documents(db, connector, ALL_SITES)

    control(handle, "PATCH", f"items/{drive.id}/{first.id}", {"name": "Renamed Folder"})
    control(handle, "PATCH", f"items/{drive.id}/{deep['item_id']}", {"parent_id": second.id})
    counts = sync_documents(db, connector, ALL_SITES)

    assert (counts.updated, counts.moved, counts.added, counts.deleted) == (1, 1, 0, 0)
    paths = dict(db.execute("SELECT name, path FROM items WHERE drive_id = ?", [drive.id]))
    assert paths["Notes on tax.docx"] == f"/{second.name}/Deep/Notes on tax.docx"
    assert_matches_tenant(handle, db, tmp_path)


def test_an_item_listed_before_its_new_parent_gets_its_path_when_the_parent_arrives(
    synced, tmp_path
):
    """A full enumeration lists by position: an old file moved into a new folder comes first,
    without a path (visible to nobody) until its parent arrives on a later page."""
    handle, db, connector = synced
    tenant = handle.tenant
    drive = deep_drive(tenant)
    who = tenant.drives[drive.id].ctx.authors[0]
    folder = control(handle, "POST", "items", {"drive_id": drive.id, "name": "Late Folder",
                                               "folder": True, "by": who})  # fmt: skip
    early_file = next(i for i in tenant.children(drive.id, "root") if not i.folder)
    control(handle, "PATCH", f"items/{drive.id}/{early_file.id}", {"parent_id": folder["item_id"]})
    sync_documents(db, connector, ALL_SITES, full=True, page_size=5)
    path = db.execute(
        "SELECT path FROM items WHERE drive_id = ? AND item_id = ?", [drive.id, early_file.id]
    ).fetchone()[0]
    assert path == f"/Late Folder/{early_file.name}"
    assert_matches_tenant(handle, db, tmp_path)


def test_deleted_items_become_tombstones(synced, tmp_path):
    handle, db, connector = synced
    tenant = handle.tenant
    drive = deep_drive(tenant)
    folder = folders_at_top(tenant, drive.id)[0]
    deleted = control(handle, "DELETE", f"items/{drive.id}/{folder.id}")["deleted"]
    counts = sync_documents(db, connector, ALL_SITES)
    assert counts.deleted == len(deleted) > 1
    rows = db.execute(
        "SELECT item_id, deleted, deleted_at IS NOT NULL, path IS NOT NULL FROM items "
        "WHERE drive_id = ? AND deleted = 1",
        [drive.id],
    ).fetchall()
    assert sorted(rows) == sorted((item_id, 1, 1, 1) for item_id in deleted)
    assert_matches_tenant(handle, db, tmp_path)


def test_permission_and_membership_changes_match_the_oracle(synced, tmp_path):
    handle, db, connector = synced
    tenant = handle.tenant
    drive = deep_drive(tenant)
    ctx = tenant.drives[drive.id].ctx
    members = [u for u in tenant.users.values() if u.user_type == "Member" and u.account_enabled]
    outsider = next(u for u in members if u.id not in ctx.authors)
    folder = next(f for f in folders_at_top(tenant, drive.id)
                  if only_inheriting_below(tenant, drive.id, f))  # fmt: skip
    grant = {"principal": {"kind": "user", "id": outsider.id}, "roles": ["read"]}
    control(handle, "POST", f"items/{drive.id}/{folder.id}/permissions/break",
            {"grants": [grant]})  # fmt: skip
    files = [i for i in tenant.iter_items(drive.id) if not i.folder and not i.unique_permissions]
    control(handle, "POST", f"items/{drive.id}/{files[-1].id}/links",
            {"scope": "organization", "type": "view"})  # fmt: skip
    guest = next(u for u in tenant.users.values() if u.user_type == "Guest")
    control(handle, "POST", f"items/{drive.id}/{files[-2].id}/links",
            {"scope": "users", "type": "edit", "grantees": [guest.id]})  # fmt: skip
    shared_file = next(i for i in tenant.iter_items(drive.id) if i.unique_permissions
                       and not i.folder)  # fmt: skip
    control(handle, "POST", f"items/{drive.id}/{shared_file.id}/permissions/restore")
    control(handle, "POST", f"groups/{ctx.restricted_group_id}/members",
            {"member_id": members[-1].id})  # fmt: skip
    control(handle, "PATCH", f"users/{members[0].id}", {"account_enabled": False})

    people = sync_people(db, connector)
    documents = sync_documents(db, connector, ALL_SITES)
    assert people.permission_changes > 0
    # the folder that stopped inheriting, the two shared files, the file that inherits again
    assert documents.permission_changes == 4
    assert_matches_tenant(handle, db, tmp_path, outsider.id, guest.id, members[-1].id)


def test_an_expired_delta_token_reconciles_by_full_enumeration(synced, tmp_path):
    handle, db, connector = synced
    tenant = handle.tenant
    drive = deep_drive(tenant)
    control(handle, "POST", "delta/expire")
    gone = folders_at_top(tenant, drive.id)[2]
    deleted = control(handle, "DELETE", f"items/{drive.id}/{gone.id}")["deleted"]
    renamed = folders_at_top(tenant, drive.id)[0]
    control(handle, "PATCH", f"items/{drive.id}/{renamed.id}", {"name": "After Expiry"})
    said = Messages()
    counts = sync_documents(db, connector, ALL_SITES, page_size=PAGE, progress=said)
    messages = said.texts
    drives = sum(not s.drive.system for s in tenant.drives.values())
    assert len(messages) == drives and all("(410)" in m for m in messages)
    assert counts.deleted == len(deleted)
    tombstones = db.execute("SELECT item_id FROM items WHERE deleted = 1").fetchall()
    assert sorted(r[0] for r in tombstones) == sorted(deleted)
    assert db.execute("SELECT count(*) FROM cursors WHERE round_id IS NOT NULL").fetchone() == (0,)
    assert_matches_tenant(handle, db, tmp_path)


def test_full_run_sweeps_what_the_tenant_no_longer_has(synced, tmp_path):
    handle, db, connector = synced
    drive = deep_drive(handle.tenant)
    db.execute(
        "INSERT INTO items (drive_id, item_id, parent_id, name, path) "
        "VALUES (?, 'ghost', NULL, 'Ghost.docx', '/Ghost.docx')",
        [drive.id],
    )
    db.conn.commit() if db.conn.in_transaction else None
    counts = sync_documents(db, connector, ALL_SITES, full=True, page_size=PAGE)
    assert counts.deleted == 1 and counts.added == 0
    ghost = db.execute("SELECT deleted FROM items WHERE item_id = 'ghost'").fetchone()
    assert ghost == (1,)
    assert_matches_tenant(handle, db, tmp_path)


def test_cursors_from_another_graph_host_start_full_rounds(synced, tmp_path):
    """The index outlives the endpoint it was synced from (`plaza demo` starts its emulator on
    another port each time): cursors naming the old host are read again in full, not sent
    there, and the next cursors name the current host."""
    handle, db, connector = synced
    here = f"//localhost:{handle.port}/"
    with transaction(db) as conn:
        conn.execute(
            "UPDATE cursors SET delta_link = replace(delta_link, ?, '//localhost:1/')", [here]
        )
    gone = folders_at_top(handle.tenant, deep_drive(handle.tenant).id)[1]
    deleted = control(handle, "DELETE", f"items/{deep_drive(handle.tenant).id}/{gone.id}")[
        "deleted"
    ]
    said = Messages()
    sync_people(db, connector, progress=said)
    counts = sync_documents(db, connector, ALL_SITES, page_size=PAGE, progress=said)
    drives = sum(not s.drive.system for s in handle.tenant.drives.values())
    foreign = [m for m in said.texts if "https://localhost:1" in m]
    assert len(foreign) == drives + 2  # every library, users and groups
    assert counts.deleted == len(deleted)  # the full round swept what it no longer saw
    links = [row[0] for row in db.execute("SELECT delta_link FROM cursors")]
    assert links and all(here in link for link in links)
    assert_matches_tenant(handle, db, tmp_path)
