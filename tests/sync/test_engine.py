"""The documents engine against the emulator: a first sync mirrors the tenant exactly.

Real HTTPS emulator, real connector (certificate credential, as SharePoint REST requires), real
SQLite in tmp_path. Visibility is checked with a deliberately simple query (tests/sync/emulated.py,
not sync.access) against the emulator's oracle, for every person in the tenant.
"""

from __future__ import annotations

import math
import threading
import time
from urllib.parse import quote

import pytest

from sync.db import open_index
from sync.engine import RunCounts, sync_documents, sync_people
from sync.errors import PermissionNotGranted, SiteNotFound
from sync.targets import DocumentTarget
from tests.postgres import index_at
from tests.sync.emulated import connector_for, oracle, visible_in_index

PAGE = 20
ALL_SITES = DocumentTarget(all_sites=True)


def library_items(tenant) -> dict[tuple[str, str], object]:
    return {
        (drive_id, item.id): item
        for drive_id, state in tenant.drives.items()
        if not state.drive.system
        for item in tenant.iter_items(drive_id)
    }


# -- a first sync of the small tenant -----------------------------------------------------------


@pytest.fixture(scope="module")
def first_sync(emulator, tmp_path_factory):
    db = open_index(index_at(tmp_path_factory.mktemp("first-sync") / "index.db"))
    connector = connector_for(emulator)
    people = sync_people(db, connector)
    documents = sync_documents(db, connector, ALL_SITES, page_size=PAGE, workers=3)
    yield db, people, documents
    db.close()


def test_first_sync_indexes_every_library_item_with_its_path(emulator, first_sync):
    db, _, counts = first_sync
    tenant = emulator.tenant
    expected = library_items(tenant)
    rows = db.execute("SELECT drive_id, item_id, path, web_url, deleted FROM items").fetchall()
    assert {(d, i) for d, i, *_ in rows} == set(expected)
    for drive_id, item_id, path, web_url, deleted in rows:
        item = expected[(drive_id, item_id)]
        assert path == tenant.path_of(item)
        drive = tenant.drive(drive_id)
        site = tenant.site_of(drive_id)
        drive_url = tenant.site_web_url(site) + "/" + quote(drive.url_name)
        assert web_url == drive_url + quote(path)
        assert deleted == 0
    per_drive = [
        sum(1 for _ in tenant.iter_items(d)) for d, s in tenant.drives.items() if not s.drive.system
    ]
    assert counts == RunCounts(
        added=len(expected), pages=sum(math.ceil(n / PAGE) for n in per_drive),
        items=len(expected),
    )  # fmt: skip


def test_first_sync_reads_permissions_of_unique_items_only(emulator, first_sync):
    db, _, _ = first_sync
    tenant = emulator.tenant
    unique = {key for key, item in library_items(tenant).items() if item.unique_permissions}
    states = dict(
        db.execute(
            "SELECT drive_id || '/' || item_id, perms_state FROM items WHERE has_unique_perms = 1"
        ).fetchall()
    )
    assert set(states) == {f"{d}/{i}" for d, i in unique}
    assert set(states.values()) == {"ok"}
    holders = db.execute("SELECT count(*) FROM items WHERE acl_item_id IS NULL").fetchone()[0]
    assert holders == 0
    inherited = db.execute(
        "SELECT count(*) FROM items WHERE has_unique_perms = 0 AND perms_state != 'inherited'"
    ).fetchone()[0]
    assert inherited == 0


def test_acl_holder_is_the_nearest_unique_ancestor(emulator, first_sync):
    db, _, _ = first_sync
    tenant = emulator.tenant
    for (drive_id, item_id), item in library_items(tenant).items():
        holder = item
        while not holder.unique_permissions:
            holder = tenant.item(drive_id, holder.parent_id)
        stored = db.execute(
            "SELECT acl_item_id FROM items WHERE drive_id = ? AND item_id = ?", [drive_id, item_id]
        ).fetchone()[0]
        assert stored == holder.id


def test_every_person_sees_exactly_what_the_oracle_says(emulator, first_sync):
    db, _, _ = first_sync
    users = list(emulator.tenant.users.values())
    assert {u.user_type for u in users} == {"Member", "Guest"}
    assert not all(u.account_enabled for u in users)
    for user in users:
        assert visible_in_index(db, user.id) == oracle(emulator, user.id), user.user_principal_name


def test_site_group_members_come_from_sharepoint_claims(emulator, first_sync):
    db, _, _ = first_sync
    tenant = emulator.tenant
    expected = set()
    for site in tenant.sites.values():
        for group in site.groups:
            for principal in group.members:
                key = {"user": "user:", "group": "group:"}.get(principal.kind)
                expected.add((site.id, group.id, "everyone" if key is None else key + principal.id))
    rows = db.execute("SELECT site_id, group_number, principal FROM site_group_members")
    assert set(map(tuple, rows)) == expected


def test_a_second_run_without_changes_changes_nothing(emulator, first_sync):
    db, _, _ = first_sync
    before = db.execute("SELECT * FROM items ORDER BY drive_id, item_id").fetchall()
    counts = sync_documents(db, connector_for(emulator), ALL_SITES, workers=2)
    drives = sum(not s.drive.system for s in emulator.tenant.drives.values())
    assert counts == RunCounts(pages=drives)
    assert db.execute("SELECT * FROM items ORDER BY drive_id, item_id").fetchall() == before


# -- targets -------------------------------------------------------------------------------------


def test_target_chooses_sites_libraries_and_file_types(emulator, tmp_path):
    tenant = emulator.tenant
    site = next(s for s in tenant.sites.values() if len(tenant.drives_of(s.id)) > 1)
    url = tenant.site_web_url(site)
    target = DocumentTarget(site_urls=(url + "/",), libraries=("Documents",), file_types=("docx",))
    db = open_index(index_at(tmp_path / "index.db"))
    sync_documents(db, connector_for(emulator), target, page_size=PAGE)
    drive = next(d for d in tenant.drives_of(site.id) if d.name == "Documents")
    expected = {
        item.id for item in tenant.iter_items(drive.id) if item.folder or item.extension == "docx"
    }
    assert {r[0] for r in db.execute("SELECT DISTINCT drive_id FROM items")} == {drive.id}
    assert {r[0] for r in db.execute("SELECT item_id FROM items")} == expected
    assert [r[0] for r in db.execute("SELECT id FROM sites")] == [site.id]
    db.close()


def test_include_and_exclude_globs_apply_to_file_paths(emulator, tmp_path):
    tenant = emulator.tenant
    drive = next(s.drive for s in tenant.drives.values() if s.drive.base_count > 60)
    site = tenant.site_of(drive.id)
    folder = next(i for i in tenant.children(drive.id, "root") if i.folder)
    target = DocumentTarget(
        site_urls=(tenant.site_web_url(site),),
        libraries=(drive.id,),
        include=(f"/{folder.name}/*",),
        exclude=("*.xlsx",),
    )
    db = open_index(index_at(tmp_path / "index.db"))
    sync_documents(db, connector_for(emulator), target, page_size=PAGE)
    expected = set()
    for item in tenant.iter_items(drive.id):
        path = tenant.path_of(item)
        inside = path.startswith(f"/{folder.name}/")
        if item.folder or (inside and item.extension != "xlsx"):
            expected.add(item.id)
    assert {r[0] for r in db.execute("SELECT item_id FROM items")} == expected
    db.close()


def test_unknown_site_url_fails_with_the_url(emulator, tmp_path):
    db = open_index(index_at(tmp_path / "index.db"))
    url = f"{emulator.base_url}/sites/no-such-site"
    with pytest.raises(SiteNotFound) as raised:
        sync_documents(db, connector_for(emulator), DocumentTarget(site_urls=(url,)))
    assert str(raised.value).startswith(f"no SharePoint site at {url}")
    assert db.execute("SELECT count(*) FROM sites").fetchone()[0] == 0
    db.close()


# -- throttling and missing permissions -----------------------------------------------------------


def test_throttled_waits_are_counted_and_the_result_is_exact(fresh_emulator, tmp_path):
    handle = fresh_emulator
    rules = [{"kind": "throttle", "path": "/root/delta", "count": 3, "retry_after": "0.05"}]
    with handle.session() as session:
        session.post(
            f"{handle.base_url}/_emulator/faults", json={"rules": rules}
        ).raise_for_status()
    db = open_index(index_at(tmp_path / "index.db"))
    connector = connector_for(handle)
    sync_people(db, connector)
    waits: list[float] = []

    class Watch:
        def on_page(self, items: int) -> None:
            pass

        def on_throttled(self, seconds: float) -> None:
            waits.append(seconds)

        def on_message(self, text: str) -> None:
            pass

    counts = sync_documents(db, connector, ALL_SITES, page_size=PAGE, progress=Watch())
    assert counts.throttled_waits == 3
    assert len(waits) == 3
    for user in handle.tenant.users.values():
        assert visible_in_index(db, user.id) == oracle(handle, user.id)
    db.close()


def test_revoked_consent_fails_naming_the_permission(fresh_emulator, tmp_path):
    handle = fresh_emulator
    client_id = handle.info["client_id"]
    roles = sorted(handle.tenant.apps[client_id].roles)
    kept = [r for r in roles if not r.startswith(("Sites.", "Files."))]
    with handle.session() as session:
        url = f"{handle.base_url}/_emulator/apps/{client_id}/roles"
        session.put(url, json={"roles": kept}).raise_for_status()
    db = open_index(index_at(tmp_path / "index.db"))
    with pytest.raises(PermissionNotGranted) as raised:
        sync_documents(db, connector_for(handle), ALL_SITES)
    assert raised.value.permission == "Sites.Read.All"
    assert "Sites.Read.All is not granted" in str(raised.value)
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 0
    db.close()


def test_a_403_on_permissions_rolls_back_the_page(fresh_emulator, tmp_path):
    """Consent revoked between a delta page and the read of its permissions: the page is not
    applied, what was committed before stays complete, and the cursor stays with it."""
    handle, tenant = fresh_emulator, fresh_emulator.tenant
    drive = next(
        s.drive
        for s in tenant.drives.values()
        if any(i.unique_permissions and not i.is_root for i in tenant.iter_items(s.drive.id))
    )
    site = tenant.site_of(drive.id)
    listed = list(tenant.iter_items(drive.id))
    first_page = next(n for n, item in enumerate(listed) if n and item.unique_permissions)
    client_id = handle.info["client_id"]
    granted = sorted(tenant.apps[client_id].roles)
    kept = [r for r in granted if not r.startswith(("Sites.", "Files."))]
    faults = f"{handle.base_url}/_emulator/faults"
    session = handle.session()
    # Short-lived tokens: MSAL asks for a new one on every call, so a revocation bites at once.
    short_tokens = {"kind": "token_lifetime", "count": -1, "seconds": 60}
    session.post(faults, json={"rules": [short_tokens]}).raise_for_status()

    def revoke_once_page_two_is_asked_for() -> None:
        while any(r["kind"] == "slow" for r in session.get(faults).json()["rules"]):
            time.sleep(0.02)
        url = f"{handle.base_url}/_emulator/apps/{client_id}/roles"
        session.put(url, json={"roles": kept}).raise_for_status()

    class RevokeAfterFirstPage:
        pages = 0

        def on_page(self, items: int) -> None:
            self.pages += 1
            if self.pages == 1:
                slow = {"kind": "slow", "path": "/root/delta", "method": "GET", "seconds": 1}
                session.post(faults, json={"rules": [slow]}).raise_for_status()
                threading.Thread(target=revoke_once_page_two_is_asked_for).start()

        def on_throttled(self, seconds: float) -> None:
            pass

        def on_message(self, text: str) -> None:
            pass

    db = open_index(index_at(tmp_path / "index.db"))
    connector = connector_for(handle)
    sync_people(db, connector)
    target = DocumentTarget(site_urls=(tenant.site_web_url(site),), libraries=(drive.id,))
    progress = RevokeAfterFirstPage()
    with pytest.raises(PermissionNotGranted) as raised:
        sync_documents(db, connector, target, page_size=first_page, progress=progress)
    session.close()
    # Page two's permissions are read from Graph (items' grants) and SharePoint REST (the site
    # groups they name): whichever call the revocation meets first names its API.
    assert raised.value.permission in ("Sites.Read.All", "Sites.Read.All (SharePoint)")
    assert raised.value.counts.pages == 1
    indexed = {r[0] for r in db.execute("SELECT item_id FROM items")}
    assert indexed == {item.id for item in listed[:first_page]}
    incomplete = db.execute(
        "SELECT count(*) FROM items i JOIN items h ON h.drive_id = i.drive_id "
        "AND h.item_id = i.acl_item_id WHERE h.perms_state != 'ok'"
    ).fetchone()[0]
    assert incomplete == 0
    cursor = db.execute(
        "SELECT round_id FROM cursors WHERE scope = ?", [f"drive:{drive.id}"]
    ).fetchone()
    assert cursor[0] is not None  # mid-way through the first (full) enumeration

    with handle.session() as session:
        url = f"{handle.base_url}/_emulator/apps/{client_id}/roles"
        session.put(url, json={"roles": granted}).raise_for_status()
    counts = sync_documents(db, connector, target, page_size=first_page)
    # Resumed after page one, then one catch-up round (one page) from the new deltaLink.
    assert counts.pages == math.ceil(len(listed) / first_page) - 1 + 1
    assert {r[0] for r in db.execute("SELECT item_id FROM items")} == {i.id for i in listed}
    for user in tenant.users.values():
        assert visible_in_index(db, user.id) == oracle(handle, user.id) & {
            (drive.id, i.id) for i in listed
        }
    db.close()
