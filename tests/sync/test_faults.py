"""Sync under faults: every fault profile of the emulator, and one-off rules of every kind.

However the tenant misbehaves (429 with fractional Retry-After, 503, 504, connection resets,
slow answers past the client's timeout, access tokens that expire within a second, delta tokens
expiring mid-run), a sync must end with an index equal to the tenant and trimmed exactly as
the emulator's oracle says, for every person. Profiles run through sync jobs, so the run
records show the throttled waits; one-off rules hit delta, $batch and the permissions inside
it, SharePoint REST and the directory deltas, on a first sync and on an incremental one.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from sync import access
from sync.db import open_index
from sync.engine import Connector, NullProgress, sync_documents, sync_people
from sync.jobs import add_job, documents_job, people_job
from sync.runs import SUCCEEDED, history, run_job
from sync.schedules import Schedule
from sync.targets import DocumentTarget
from tests.postgres import index_at
from tests.sync import emulated
from tests.sync.emulated import control

ALL_SITES = DocumentTarget(all_sites=True)
PAGE = 30
# Where one-off rules strike: drive delta, $batch, the permission reads inside a $batch,
# SharePoint REST (site groups) and the users and groups deltas.
STRUCK_PATHS = ("/root/delta", r"/\$batch$", r"/permissions$", "/_api/", r"/(users|groups)/delta")


def connector_for(handle, timeout: float = 10) -> Connector:
    """The emulator's connector with a given timeout and quick backoff: without a Retry-After
    (504, resets, timeouts) backoff starts at 1 s, which would make these tests slow."""
    connector = emulated.connector_for(handle, timeout=timeout)
    connector.http.backoff_base = 0.05
    return connector


def struck(kind: str, count: int = 1, **fields) -> list[dict]:
    return [{"kind": kind, "path": path, "count": count, **fields} for path in STRUCK_PATHS]


def assert_mirrors_tenant(handle, db) -> None:
    """Live items are the tenant's (ids, names, parents, paths, URLs, ACL state) and every
    person sees exactly what the oracle says."""
    tenant = handle.tenant
    libraries = {d for d, s in tenant.drives.items() if not s.drive.system}
    expected = {
        (drive_id, item.id): item for drive_id in libraries for item in tenant.iter_items(drive_id)
    }
    rows = db.execute(
        "SELECT drive_id, item_id, parent_id, name, path, web_url, perms_state FROM items "
        "WHERE deleted = 0"
    ).fetchall()
    assert sorted((r[0], r[1]) for r in rows) == sorted(expected)
    for drive_id, item_id, parent_id, name, path, web_url, perms_state in rows:
        item = expected[(drive_id, item_id)]
        site, drive = tenant.site_of(drive_id), tenant.drive(drive_id)
        want_path = tenant.path_of(item)
        assert (parent_id, name, path) == (item.parent_id, item.name, want_path)
        assert web_url == tenant.site_web_url(site) + "/" + quote(drive.url_name) + quote(want_path)
        assert perms_state == ("ok" if item.unique_permissions else "inherited")
    for user in tenant.users.values():
        # The oracle's own rule (GET /_emulator/oracle/visible-items answers with it).
        oracle = {key for key in tenant.visible_items(user.id) if key[0] in libraries}
        visible = set(access.visible_item_keys(db, user.id))
        assert visible == oracle, user.user_principal_name


def change_the_tenant(handle) -> None:
    """A rename, a deletion, a sharing link, a new group member and a disabled account."""
    tenant = handle.tenant
    drive = next(s.drive for s in tenant.drives.values() if s.drive.base_count >= 72)
    folders = [i for i in tenant.children(drive.id, "root") if i.folder]
    control(handle, "PATCH", f"items/{drive.id}/{folders[0].id}", {"name": "Renamed Under Fire"})
    files = [i for i in tenant.iter_items(drive.id) if not i.folder and not i.unique_permissions]
    control(handle, "DELETE", f"items/{drive.id}/{files[0].id}")
    control(handle, "POST", f"items/{drive.id}/{files[-1].id}/links",
            {"scope": "organization", "type": "view"})  # fmt: skip
    members = [u for u in tenant.users.values() if u.user_type == "Member" and u.account_enabled]
    group = next(g for g in tenant.groups.values() if members[-1].id not in g.member_ids)
    control(handle, "POST", f"groups/{group.id}/members", {"member_id": members[-1].id})
    control(handle, "PATCH", f"users/{members[0].id}", {"account_enabled": False})


class Messages(NullProgress):
    def __init__(self) -> None:
        self.texts: list[str] = []

    def on_message(self, text: str) -> None:
        self.texts.append(text)


def fault_rules(handle) -> list[dict]:
    with handle.session() as session:
        return session.get(f"{handle.base_url}/_emulator/faults").json()["rules"]


def set_faults(handle, rules: list[dict], profile: str | None = None) -> None:
    body: dict = {"rules": rules}
    if profile is not None:
        body["profile"] = profile
    with handle.session() as session:
        session.post(f"{handle.base_url}/_emulator/faults", json=body).raise_for_status()


# -- profiles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["none", "flaky", "throttled"])
def test_a_full_sync_under_each_fault_profile_is_exact(fresh_emulator, tmp_path, profile):
    handle = fresh_emulator
    set_faults(handle, [], profile)
    path = index_at(tmp_path / "index.db")
    db = open_index(path)
    hourly = Schedule(every="1h")
    add_job(db, people_job("people", hourly))
    add_job(db, documents_job("documents", ALL_SITES, hourly))
    connector = connector_for(handle)

    before = connector.stats()
    people = run_job(path, "people", connector=connector)
    documents = run_job(path, "documents", connector=connector)
    after = connector.stats()

    assert (people.outcome, documents.outcome) == (SUCCEEDED, SUCCEEDED), documents.error
    assert_mirrors_tenant(handle, db)
    waits = people.counts.throttled_waits + documents.counts.throttled_waits
    assert waits == after.throttled_waits - before.throttled_waits
    recorded = sum(run.counts.throttled_waits for run in history(db))
    assert recorded == waits
    if profile == "none":
        assert (waits, documents.counts.throttled_seconds) == (0, 0.0)
    else:  # flaky: 429s with Retry-After 0.1 to 1.5 s; throttled: every 10th, Retry-After 1
        assert waits >= 1
        slept = people.counts.throttled_seconds + documents.counts.throttled_seconds
        assert slept >= 0.1 * waits
    db.close()


# -- one-off rules -----------------------------------------------------------------------------

ONE_OFF_RULES = {
    "429 with a fractional Retry-After": struck("throttle", retry_after="0.25"),
    "503 with Retry-After": struck("unavailable", retry_after="0.1"),
    "504 without Retry-After": struck("gateway_timeout"),
    "connection reset": struck("reset"),
    # Past the client's 1 s timeout: the request times out and is sent again.
    "slow": [{"kind": "slow", "path": "/root/delta", "count": 1, "seconds": 1.3},
             {"kind": "slow", "path": r"/\$batch$", "count": 1, "seconds": 1.3}],
    # Tokens that live two seconds, and a delta page that takes longer: a 401 mid-run (the
    # $batch of permissions too: each of its requests checks the token again).
    "token_lifetime": [{"kind": "token_lifetime", "count": -1, "seconds": 2},
                       {"kind": "slow", "path": "/root/delta", "count": 1, "seconds": 2.3},
                       {"kind": "slow", "path": r"/permissions$", "count": 1, "seconds": 2.3}],
    "expire_delta": [{"kind": "expire_delta", "path": "/root/delta", "count": 1},
                     {"kind": "expire_delta", "path": r"/users/delta", "count": 1}],
}  # fmt: skip
TIMEOUTS = {"slow": 1.0}


@pytest.mark.parametrize("name", list(ONE_OFF_RULES))
def test_first_and_incremental_syncs_under_a_one_off_fault_are_exact(fresh_emulator, tmp_path,
                                                                     name):  # fmt: skip
    handle = fresh_emulator
    rules = ONE_OFF_RULES[name]
    connector = connector_for(handle, TIMEOUTS.get(name, 10))
    db = open_index(index_at(tmp_path / "index.db"))
    for step in ("first", "incremental"):
        if step == "incremental":
            change_the_tenant(handle)
        set_faults(handle, rules)
        before = connector.stats()
        messages = Messages()
        people = sync_people(db, connector, progress=messages)
        documents = sync_documents(
            db, connector, ALL_SITES, page_size=PAGE, workers=3, progress=messages
        )
        after = connector.stats()
        assert [r for r in fault_rules(handle) if r["count"] != -1] == [], (step, "not all hit")
        assert_mirrors_tenant(handle, db)
        waits = people.throttled_waits + documents.throttled_waits
        assert waits == after.throttled_waits - before.throttled_waits
        if name.startswith(("429", "503", "504")):
            assert waits >= len(STRUCK_PATHS), step
        if name == "expire_delta" and step == "incremental":
            # Every cursor answered 410: users and libraries were read again in full.
            assert any("users delta token expired" in m for m in messages.texts)
            assert sum("(410)" in m for m in messages.texts) >= 1
        elif name == "token_lifetime":
            assert after.token_refreshes > before.token_refreshes
        elif name != "expire_delta":
            assert after.retries > before.retries
        control(handle, "DELETE", "faults")  # the never-ending rules go before the next step
    db.close()
