"""What sync tests share to work against the emulated tenant: a connector configured as an
admin would configure Plaza (settings from tests/connector/emulator_env.py), the PLAZA_*
environment `plaza sync` runs with, calls to the emulator's control API, the emulator's oracle
of who may open what, and the index's visibility rule written out plainly to hold against that
oracle.

The visibility query here is deliberately not sync.access: an independent spelling of the rule
catches a mistake that a test reusing the production query would share.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from connector.cli import read_env_file
from sync.engine import Connector
from tests.connector.emulator_env import emulator_env
from tests.postgres import index_at


def connector_for(handle, *, timeout: float = 10, certificate: bool = True) -> Connector:
    """A connector to the emulator. A certificate by default, since SharePoint REST accepts
    app-only tokens only when obtained with one; certificate=False gives the client secret,
    which is all Graph needs."""
    credential = "thumbprint" if certificate else "secret"
    return Connector.from_env(emulator_env(handle, credential, PLAZA_HTTP_TIMEOUT=str(timeout)))


def sync_env(handle, data_dir: Path, **extra: str) -> dict[str, str | None]:
    """PLAZA_* for the emulator (as `write_env` writes them) and a data directory, plus `extra`,
    for click's CliRunner; any other PLAZA_* of the developer's shell is removed (None)."""
    env_file = data_dir.parent / f"{data_dir.name}.env"
    handle.write_env(env_file)
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PLAZA_")}
    env.update(read_env_file(env_file))
    env.update(PLAZA_DATA_DIR=str(data_dir), PLAZA_HTTP_TIMEOUT="10", **extra)
    location = index_at(data_dir / "index.db")
    if isinstance(location, str) and not env.get("PLAZA_DATABASE_URL"):
        env["PLAZA_DATABASE_URL"] = location  # PLAZA_TEST_BACKEND=postgres: the index there
    return env


def control(handle, method: str, path: str, body: dict | None = None) -> dict:
    """One call to the emulator's control API (/_emulator/...); fails the test unless it
    succeeds, and answers with the JSON body ({} when there is none)."""
    with handle.session() as session:
        response = session.request(method, f"{handle.base_url}/_emulator/{path}", json=body)
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


def oracle(handle, user_id: str) -> set[tuple[str, str]]:
    """What the emulator says the person can open, in the libraries sync mirrors (not the
    system ones Graph leaves out)."""
    with handle.session() as session:
        answer = session.get(
            f"{handle.base_url}/_emulator/oracle/visible-items", params={"user": user_id}
        ).json()
    tenant = handle.tenant
    return {
        (i["drive_id"], i["item_id"])
        for i in answer["items"]
        if not tenant.drive(i["drive_id"]).system
    }


def visible_in_index(db, user_id: str) -> set[tuple[str, str]]:
    """Items the index lets this person see: the rule of sync/schema.py, spelled out plainly."""
    person = db.execute("SELECT enabled, guest, deleted FROM people WHERE id = ?", [user_id])
    row = person.fetchone()
    if row is None or not row[0] or row[2]:
        return set()
    principals = {f"user:{user_id}"}
    groups = db.execute("SELECT group_id FROM memberships WHERE user_id = ?", [user_id])
    principals |= {f"group:{group_id}" for (group_id,) in groups}
    if not row[1]:
        principals |= {"everyone", "link:organization"}
    members = db.execute("SELECT site_id, group_number, principal FROM site_group_members")
    principals |= {f"sitegroup:{s}:{n}" for s, n, p in members if p in principals}
    rows = db.execute(
        """SELECT i.drive_id, i.item_id FROM items i
           JOIN items h ON h.drive_id = i.drive_id AND h.item_id = i.acl_item_id
           WHERE i.deleted = 0 AND h.deleted = 0 AND h.perms_state = 'ok'
             AND EXISTS (SELECT 1 FROM acl a WHERE a.drive_id = h.drive_id AND a.item_id = h.item_id
                         AND a.principal IN (SELECT value FROM json_each(?)))""",
        [json.dumps(sorted(principals))],
    )
    return {tuple(r) for r in rows}
