"""The synced tenant the web app's tests run on: `PlazaEnv` (an emulator, seed 7, and a data
dir where a first sync ran, with the cast chosen from the tenant by who can open what), made by
`start_plaza_env`; conftest.py's `plaza_env` and `fresh_plaza_env` fixtures hold one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.emulator import server
from connector.emulator.tenant import Tenant
from sync.db import open_index
from sync.engine import Connector, sync_documents, sync_people
from sync.targets import DocumentTarget
from tests.postgres import backend_is_postgres, copy_index, index_at

SEED = 7
PUBLIC_URL = "http://localhost"
SECRET_KEY = "test-secret-key-" + "x" * 40


@dataclass
class PlazaEnv:
    """An emulator and a data dir synced from it."""

    handle: server.EmulatorHandle
    data_dir: Path
    connector_env: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)  # chosen before any test runs
    document: tuple[str, str] = ("", "")
    admin_group_id: str = ""

    @property
    def info(self) -> dict[str, Any]:
        return self.handle.info

    @property
    def tenant(self) -> Tenant:
        return self.handle.tenant

    def sync(self, data_dir: Path, people: bool = True, documents: bool = True) -> None:
        db = open_index(index_at(data_dir / "index.db"))
        try:
            connector = Connector.from_env(self.connector_env)
            if people:
                sync_people(db, connector)
            if documents:
                sync_documents(db, connector, DocumentTarget(all_sites=True))
        finally:
            db.close()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """One call to the emulator's control API (`path` below /_emulator, e.g. "/users/x");
        fails the test unless it succeeds. Its JSON answer, or None when it has none."""
        with self.handle.session() as session:
            response = session.request(
                method, f"{self.handle.base_url}/_emulator{path}", json=body, timeout=30
            )
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else None

    def revoke_everyone_but(
        self, drive_id: str, item_id: str, user: str, role: str = "write"
    ) -> None:
        """Breaks the item's inheritance so that only `user` (UPN or id) can open it, with
        `role`. In the emulator only: nothing is synced."""
        grant = {"principal": {"kind": "user", "id": user}, "roles": [role]}
        self.control("POST", f"/items/{drive_id}/{item_id}/permissions/break", {"grants": [grant]})

    def copy_index(self, data_dir: Path) -> None:
        """The synced index, copied consistently into `data_dir` (sqlite's backup API; with
        PLAZA_TEST_BACKEND=postgres a copy of its database: tests/postgres.copy_index)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        copy_index(self.data_dir / "index.db", data_dir / "index.db")

    def settings(self, data_dir: Path, **overrides: Any) -> dict[str, Any]:
        info = self.info
        values: dict[str, Any] = {
            "data_dir": str(data_dir),
            "secret_key": SECRET_KEY,
            "public_url": PUBLIC_URL,
            "authority": info["authority"],
            "tenant_id": info["tenant_id"],
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "ca_bundle": info["ca_file"],
            "graph_url": info["graph_url"],
            "admin_group_id": self.admin_group_id,
        }
        values.update(overrides)
        values.setdefault("extra", {"testing": True})
        if backend_is_postgres():  # both stores beside data_dir's index, in its database
            values.setdefault("database_url", index_at(data_dir / "index.db"))
        return values


def start_plaza_env(state_dir: Path, data_dir: Path) -> PlazaEnv:
    handle = server.start(seed=SEED, size="small", state_dir=state_dir)
    env = PlazaEnv(handle, data_dir)
    env.connector_env = {name: str(handle.info[key]) for name, key in server.ENV_KEYS.items()}
    env.people, env.document = _cast(handle.tenant)
    group = admin_group(handle.tenant, set(env.people.values()))
    env.admin_group_id = group.id
    admin = handle.tenant.user(handle.tenant.transitive_members(group.id)[0])
    assert admin is not None
    env.people["admin"] = admin.user_principal_name
    data_dir.mkdir(parents=True, exist_ok=True)
    env.sync(data_dir)
    return env


# -- who and what --------------------------------------------------------------------------


def admin_group(tenant: Tenant, cast: set[str]):
    """A group of members holding none of the `cast` (its first member is the admin):
    "Tax Leadership" in the seed-7 firm."""
    for group in sorted(tenant.groups.values(), key=lambda g: g.display_name):
        members = [tenant.user(m) for m in tenant.transitive_members(group.id)]
        upns = {m.user_principal_name for m in members if m is not None}
        if members and not upns & cast and all(m and m.user_type == "Member" for m in members):
            return group
    raise AssertionError("no group without the cast")


def _cast(tenant: Tenant) -> tuple[dict[str, str], tuple[str, str]]:
    """The people and the document, chosen from the tenant by who can open what."""
    users = [u for u in tenant.users.values() if not u.deleted]
    members = [u for u in users if u.account_enabled and u.user_type == "Member"]
    guest = next(u for u in users if u.account_enabled and u.user_type == "Guest")
    disabled = next(u for u in users if not u.account_enabled)
    for site in sorted(tenant.sites.values(), key=lambda s: s.name):
        for drive in tenant.drives_of(site.id):
            for item in tenant.iter_items(drive.id):
                if item.folder or item.deleted:
                    continue
                can = [u for u in members if tenant.can_open(u.id, drive.id, item.id)]
                cannot = [u for u in members if u not in can]
                if len(can) >= 2 and cannot and not tenant.can_open(guest.id, drive.id, item.id):
                    cast = {
                        "author": can[0].user_principal_name,
                        "reader": can[1].user_principal_name,
                        "outsider": cannot[0].user_principal_name,
                        "guest": guest.user_principal_name,
                        "disabled": disabled.user_principal_name,
                    }
                    return cast, (drive.id, item.id)
    raise AssertionError("no document with both readers and outsiders")
