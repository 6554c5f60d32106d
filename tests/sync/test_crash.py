"""kill -9 during a documents sync: nothing committed is lost, nothing is half-applied, the
cursor matches the committed data, and the next run ends exactly where a clean sync ends.

The sync runs in a real subprocess against the emulator (served by this test process) with
every delta page slowed down, and is killed with SIGKILL once a few pages are committed; a
second test kills a people + documents sync three times at random (seeded) moments, with
tenant changes in between, before a clean run must give the exact state.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

from sync.db import connect, open_index
from sync.dialect import is_postgres
from sync.engine import sync_documents, sync_people
from sync.targets import DocumentTarget
from tests.connector.emulator_env import emulator_env
from tests.postgres import index_at
from tests.sync.emulated import connector_for, control

PAGE = 5
WORKERS = 2
RUNNER = f"""
import sys
from sync.db import open_index
from sync.engine import Connector, sync_documents
from sync.targets import DocumentTarget
db = open_index(sys.argv[1])
sync_documents(db, Connector.from_env(), DocumentTarget(all_sites=True),
               workers={WORKERS}, page_size={PAGE})
"""
RUNNER_ALL = f"""
import sys
from sync.db import open_index
from sync.engine import Connector, sync_documents, sync_people
from sync.targets import DocumentTarget
db = open_index(sys.argv[1])
connector = Connector.from_env()
sync_people(db, connector)
sync_documents(db, connector, DocumentTarget(all_sites=True), workers={WORKERS},
               page_size={PAGE})
"""
LIVE_ITEMS = """
SELECT drive_id, item_id, parent_id, name, path, web_url, is_folder, size, etag,
       has_unique_perms, perms_state, acl_item_id
FROM items WHERE deleted = 0 ORDER BY drive_id, item_id
"""
ACLS = "SELECT drive_id, item_id, principal, role, via FROM acl ORDER BY 1, 2, 3, 5"


def environment(handle) -> dict[str, str]:
    """This process's environment with the emulator's PLAZA_* settings in place of any other."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    env.update(emulator_env(handle, "thumbprint"))
    return env


def faults(handle, method: str, rules: list | None = None) -> None:
    with handle.session() as session:
        body = {"rules": rules} if rules is not None else None
        session.request(method, f"{handle.base_url}/_emulator/faults", json=body).raise_for_status()


def run_and_kill(handle, index_path, min_items: int) -> None:
    """Starts a sync in a subprocess and kills it (SIGKILL) once `min_items` more items are
    committed; fails if it finishes first."""
    reader = connect(index_path, readonly=True)
    start = reader.execute("SELECT count(*) FROM items").fetchone()[0]
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(index_path)], env=environment(handle)
    )
    try:
        deadline = time.monotonic() + 60
        while reader.execute("SELECT count(*) FROM items").fetchone()[0] < start + min_items:
            assert process.poll() is None, "the sync ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        process.kill()
        process.wait()
        reader.close()


def assert_acls_whole(db, *, tombstones_too: bool) -> None:
    """Whatever committed is whole: the file is intact, every live item's ACL holder has its
    complete ACL, and no item with unique permissions lacks its ACL (live items only, unless
    `tombstones_too`)."""
    if not is_postgres(db):  # a file's own check; PostgreSQL's pages are its WAL's business
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    incomplete = db.execute(
        "SELECT count(*) FROM items i JOIN items h ON h.drive_id = i.drive_id "
        "AND h.item_id = i.acl_item_id WHERE i.deleted = 0 AND h.perms_state != 'ok'"
    ).fetchone()[0]
    unread_sql = "SELECT count(*) FROM items WHERE has_unique_perms = 1 AND perms_state != 'ok'"
    if not tombstones_too:
        unread_sql += " AND deleted = 0"
    unread = db.execute(unread_sql).fetchone()[0]
    assert (incomplete, unread) == (0, 0)


def assert_consistent(handle, db) -> None:
    """Every ACL holder in use is complete, and each drive's cursor is the link that follows
    exactly the pages whose items are committed."""
    assert_acls_whole(db, tombstones_too=True)
    cursors = dict(db.execute("SELECT scope, delta_link FROM cursors WHERE scope LIKE 'drive:%'"))
    graph = connector_for(handle).graph
    for drive_id, state in handle.tenant.drives.items():
        if state.drive.system:
            continue
        indexed = {r[0] for r in db.execute("SELECT item_id FROM items WHERE drive_id = ?",
                                            [drive_id])}  # fmt: skip
        link = cursors.get(f"drive:{drive_id}")
        if link is None:
            assert indexed == set()
            continue
        listed: set[str] = set()
        for page in graph.drive_changes(drive_id, None, PAGE):
            listed.update(item.id for item in page.items)
            if page.next_link == link or page.last:
                break
        assert indexed == listed, drive_id


def test_kill_9_mid_sync_loses_nothing_and_the_next_run_finishes_exactly(fresh_emulator, tmp_path):
    handle = fresh_emulator
    path = index_at(tmp_path / "index.db")
    db = open_index(path)
    connector = connector_for(handle)
    sync_people(db, connector)
    slow_pages = {"kind": "slow", "path": "/root/delta", "method": "GET", "count": -1,
                  "seconds": 0.1}  # fmt: skip
    faults(handle, "POST", [slow_pages])

    run_and_kill(handle, path, min_items=3 * PAGE)
    assert_consistent(handle, db)
    run_and_kill(handle, path, min_items=2 * PAGE)  # killed again, resuming
    assert_consistent(handle, db)

    faults(handle, "DELETE")
    counts = sync_documents(db, connector, DocumentTarget(all_sites=True), page_size=PAGE)
    assert counts.deleted == 0
    clean = open_index(index_at(tmp_path / "clean.db"))
    sync_people(clean, connector)
    sync_documents(clean, connector, DocumentTarget(all_sites=True))
    assert db.execute(LIVE_ITEMS).fetchall() == clean.execute(LIVE_ITEMS).fetchall()
    assert db.execute(ACLS).fetchall() == clean.execute(ACLS).fetchall()
    assert db.execute("SELECT count(*) FROM items WHERE deleted = 1").fetchone() == (0,)
    rounds = db.execute("SELECT count(*) FROM cursors WHERE round_id IS NOT NULL").fetchone()
    assert rounds == (0,)
    db.close()
    clean.close()


# -- repeated kills at random moments -------------------------------------------------------------


def change_something(handle, rng: random.Random, n: int) -> None:
    """A rename, a deletion, a sharing link and a new group member, picked by `rng`."""
    tenant = handle.tenant
    drives = sorted(d for d, s in tenant.drives.items() if not s.drive.system)
    drive_id = rng.choice(drives)
    items = [i for i in tenant.iter_items(drive_id) if not i.is_root]
    renamed, deleted, shared = rng.sample(items, 3)
    control(handle, "PATCH", f"items/{drive_id}/{renamed.id}", {"name": f"Renamed {n}"})
    control(handle, "DELETE", f"items/{drive_id}/{deleted.id}")
    if not tenant.item(drive_id, shared.id).deleted:  # not below the deleted one
        control(handle, "POST", f"items/{drive_id}/{shared.id}/links",
                {"scope": "organization"})  # fmt: skip
    group = rng.choice(sorted(tenant.groups.values(), key=lambda g: g.id))
    outside = [u for u in sorted(tenant.users) if u not in group.member_ids]
    control(handle, "POST", f"groups/{group.id}/members", {"member_id": rng.choice(outside)})


def kill_at(handle, index_path, seconds: float) -> bool:
    """Runs people + documents in a subprocess and SIGKILLs it after `seconds`; False if it
    had already finished."""
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER_ALL, str(index_path)], env=environment(handle)
    )
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return True
    assert process.returncode == 0
    return False


def test_three_kills_at_random_moments_then_a_clean_run_give_the_exact_state(
    fresh_emulator, tmp_path
):
    handle, tenant = fresh_emulator, fresh_emulator.tenant
    # Kill moments and changes come from this seed; with it, changes land between a kill
    # mid-way through first rounds and the run that resumes them (see DriveSync._catch_up).
    rng = random.Random(1)
    path = index_at(tmp_path / "index.db")
    open_index(path).close()
    slow_pages = {"kind": "slow", "path": "/root/delta", "method": "GET", "count": -1,
                  "seconds": 0.05}  # fmt: skip
    slow_people = {"kind": "slow", "path": "/(users|groups)/delta", "method": "GET", "count": -1,
                   "seconds": 0.4}  # fmt: skip
    faults(handle, "POST", [slow_pages, slow_people])
    kills = 0
    for n in range(3):
        if n:
            change_something(handle, rng, n)
        kills += kill_at(handle, path, rng.uniform(0.5, 3.0))
        db = connect(path)
        assert_acls_whole(db, tombstones_too=False)
        db.close()
    assert kills == 3, "a run finished before its kill: slow the pages down"

    faults(handle, "DELETE")
    connector = connector_for(handle)
    db = open_index(path)
    sync_people(db, connector)
    sync_documents(db, connector, DocumentTarget(all_sites=True), page_size=PAGE)
    clean = open_index(index_at(tmp_path / "clean.db"))
    sync_people(clean, connector)
    sync_documents(clean, connector, DocumentTarget(all_sites=True))
    assert db.execute(LIVE_ITEMS).fetchall() == clean.execute(LIVE_ITEMS).fetchall()
    live_acls = f"SELECT * FROM ({ACLS}) AS acls WHERE (drive_id, item_id) IN " \
                "(SELECT drive_id, item_id FROM items WHERE deleted = 0)"  # fmt: skip
    assert db.execute(live_acls).fetchall() == clean.execute(live_acls).fetchall()
    for table in ("people", "memberships", "site_group_members"):
        order = "1, 2, 3" if table == "site_group_members" else "1, 2"  # every column
        rows = f"SELECT * FROM {table} ORDER BY {order}"
        if table == "people":
            rows = "SELECT id, upn, display_name, enabled, guest, deleted FROM people ORDER BY id"
        assert db.execute(rows).fetchall() == clean.execute(rows).fetchall(), table
    for drive_id, item_id in db.execute("SELECT drive_id, item_id FROM items WHERE deleted = 1"):
        assert tenant.item(drive_id, item_id).deleted
    assert db.execute("SELECT count(*) FROM cursors WHERE round_id IS NOT NULL").fetchone() == (0,)
    db.close()
    clean.close()
