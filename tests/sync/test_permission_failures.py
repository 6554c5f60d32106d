"""An item whose permissions cannot be read holds back nothing else: through `plaza sync run`
against the emulator, one file's /permissions answers 503 to every retry while another file of
the same library loses a reader. The run applies the revocation, leaves the unreadable file
'failed' (hidden from everyone), says so in its log and summary and in `plaza sync history`;
once the fault is lifted, the next run reads the file's permissions and shows it again.
"""

from __future__ import annotations

from sync import access
from sync.runs import history
from tests.sync.conftest import index_of, plaza
from tests.sync.emulated import control, oracle, sync_env

HIDDEN_UNTIL_READ = "hidden from everyone until a later run reads them"


def visible_to_each(db, handle, drives: set[str]) -> dict[str, set[tuple[str, str]]]:
    return {
        user_id: {key for key in access.visible_item_keys(db, user_id) if key[0] in drives}
        for user_id in handle.tenant.users
    }


def oracle_of_each(handle, drives: set[str]) -> dict[str, set[tuple[str, str]]]:
    return {
        user_id: {key for key in oracle(handle, user_id) if key[0] in drives}
        for user_id in handle.tenant.users
    }


def test_unreadable_permissions_hide_one_item_and_hold_back_nothing_else(fresh_emulator, tmp_path):
    handle, tenant = fresh_emulator, fresh_emulator.tenant
    drive_id = next(d for d, s in tenant.drives.items() if s.drive.base_count >= 72)
    site_url = tenant.site_web_url(tenant.site_of(drive_id))
    drives = {d.id for d in tenant.drives_of(tenant.site_of(drive_id).id) if not d.system}
    files = [i for i in tenant.iter_items(drive_id) if not i.folder and not i.unique_permissions]
    members = [u for u in tenant.users.values() if u.user_type == "Member" and u.account_enabled]
    unreadable, revoked = files[0], files[-1]
    readers = [u.id for u in members if tenant.can_open(u.id, drive_id, revoked.id)]
    keeper, reader = readers[0], readers[1]
    env = sync_env(handle, tmp_path / "data")
    plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    plaza(env, "sync", "add", "docs", "--site", site_url, "--every", "1h")
    for job in ("people", "docs"):
        assert plaza(env, "sync", "run", job).exit_code == 0

    # The first file gets a grant of its own (so its permissions are read next run), and its
    # /permissions answers 503 to every retry; the other file stops admitting the reader.
    keeper_reads = {"principal": {"kind": "user", "id": keeper}, "roles": ["read"]}
    control(handle, "POST", f"items/{drive_id}/{unreadable.id}/permissions", keeper_reads)
    control(handle, "POST", f"items/{drive_id}/{revoked.id}/permissions/break",
            {"grants": [keeper_reads]})  # fmt: skip
    outage = {"kind": "unavailable", "path": f"/items/{unreadable.id}/permissions$",
              "count": -1, "retry_after": "0.01"}  # fmt: skip
    control(handle, "POST", "faults", {"rules": [outage]})
    result = plaza(env, "sync", "run", "docs")

    assert result.exit_code == 0, result.output
    db = index_of(env)
    assert access.can_view(db, reader, drive_id, revoked.id) is False
    assert access.can_view(db, keeper, drive_id, revoked.id) is True
    state = db.execute(
        "SELECT perms_state FROM items WHERE drive_id = ? AND item_id = ?",
        [drive_id, unreadable.id],
    ).fetchone()
    assert state == ("failed",)
    expected = {
        user_id: keys - {(drive_id, unreadable.id)}
        for user_id, keys in oracle_of_each(handle, drives).items()
    }
    assert visible_to_each(db, handle, drives) == expected
    run = history(db, "docs")[0]
    db.close()
    assert (run.outcome, run.counts.permission_failures) == ("succeeded", 1)
    logged = [line for line in result.stdout.splitlines() if unreadable.id in line]
    assert len(logged) >= 1
    assert all(f"drive {drive_id}: could not read the permissions of {unreadable.id} (503: "
               in line and line.endswith(HIDDEN_UNTIL_READ) for line in logged)  # fmt: skip
    assert result.stdout.splitlines()[-1].endswith(
        f"; the permissions of 1 item(s) could not be read: {HIDDEN_UNTIL_READ}"
    )
    table = plaza(env, "sync", "history", "docs", "--limit", "1").stdout.splitlines()
    assert f"  {run.counts.permission_changes} (1 unreadable)  " in table[1]

    control(handle, "DELETE", "faults")
    again = plaza(env, "sync", "run", "docs")
    assert again.exit_code == 0, again.output
    db = index_of(env)
    assert visible_to_each(db, handle, drives) == oracle_of_each(handle, drives)
    assert access.can_view(db, keeper, drive_id, unreadable.id) is True
    latest = history(db, "docs")[0]
    db.close()
    assert latest.counts.permission_failures == 0
    assert "unreadable" not in plaza(env, "sync", "history", "docs", "--limit", "1").stdout
