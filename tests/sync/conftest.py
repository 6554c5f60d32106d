"""Fixtures and calls for sync's tests: the hand-built firm the access tests read, and the
`plaza` command line as the CLI tests run it.

- `firm`: a small index built by hand with exact expectations (one Tax site with a Documents
  library, one private Deals site), for the access tests:
  - Ann is in Tax Team, which is in All Staff (and in Old Group, since deleted); Bob is in Tax
    Leadership, which is in All Partners; Carl is in no group; Gus is a guest; Dee is
    disabled; Gone is deleted.
  - Site groups: Tax 3 (owners) holds Tax Leadership, Tax 4 (visitors) holds everyone, Tax 5
    (members) holds All Staff and Gus; Deals 3 holds All Partners.
  - `TAX_ITEMS` / `DEALS_ITEMS` list each item and its own ACL, `SEES` what each person may
    see, and `keys("item ids")` turns a line of item ids into sorted (drive_id, item_id).
- `run_access_cli(data_dir, *args)`: `plaza sync visible|explain ...` on that data dir.
- `env`: PLAZA_* for the shared emulator and a fresh data dir (emulated.sync_env);
  `plaza(env, *args)` runs the `plaza` CLI in process (click's CliRunner) and `index_of(env)`
  opens that data dir's index.
- `index_location`: where a test's index is: tmp_path/index.db, or with
  PLAZA_TEST_BACKEND=postgres a fresh PostgreSQL database's URL (tests/postgres.py); `env`
  then carries that URL as PLAZA_DATABASE_URL. `insert_rows(db, table, rows)` writes dicts
  into either engine (what sqlite_utils' insert_all did for the SQLite one).
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from plaza.cli import main
from sync.cli_access import register
from sync.db import open_index
from sync.settings import SyncSettings
from tests.postgres import backend_is_postgres, index_at
from tests.sync.emulated import sync_env

# -- the hand-built firm -----------------------------------------------------------------------

TAX, DEALS = "localhost,1111,aaaa", "localhost,2222,bbbb"
TAX_DOCS, DEALS_DOCS = "b!tax", "b!deals"
OWNERS, VISITORS, MEMBERS = (f"sitegroup:{TAX}:{n}" for n in (3, 4, 5))
DEALS_OWNERS = f"sitegroup:{DEALS}:3"

# id, upn, display name, enabled, guest, deleted
PEOPLE = [
    ("ann-oid", "Ann.Lee@firm.example", "Ann Lee", 1, 0, 0),
    ("bob-oid", "bob.stone@firm.example", "Bob Stone", 1, 0, 0),
    ("carl-oid", "carl.diaz@firm.example", "Carl Diaz", 1, 0, 0),
    ("gus-oid", "gus@client.example", "Gus Guest", 1, 1, 0),
    ("dee-oid", "dee@firm.example", "Dee Disabled", 0, 0, 0),
    ("gone-oid", "gone@firm.example", "Gone Person", 1, 0, 1),
]
GROUPS = {"tax-team": "Tax Team", "all-staff": "All Staff", "tax-lead": "Tax Leadership",
          "all-partners": "All Partners", "old": "Old Group"}  # fmt: skip
# group <- direct member (user or group)
GROUP_MEMBERS = """tax-team ann-oid  tax-team dee-oid  tax-team gone-oid  all-staff tax-team
                   tax-lead bob-oid  all-partners tax-lead  old ann-oid"""
# user -> every group they are in, transitively
MEMBERSHIPS = """ann-oid tax-team  ann-oid all-staff  ann-oid old  dee-oid tax-team
                 dee-oid all-staff  gone-oid tax-team  gone-oid all-staff  bob-oid tax-lead
                 bob-oid all-partners"""
SITE_GROUP_MEMBERS = [(TAX, 3, "group:tax-lead"), (TAX, 4, "everyone"),
                      (TAX, 5, "group:all-staff"), (TAX, 5, "user:gus-oid"),
                      (DEALS, 3, "group:all-partners")]  # fmt: skip


def read(principal: str, role: str = "read") -> tuple[str, str, str]:
    return principal, role, "grant"


def link(principal: str) -> tuple[str, str, str]:
    return principal, "read", "link"


OWNED = read(OWNERS, "owner")
# item id, parent id, name (folders have no extension), own acl (None = inherits;
# "pending" = not read yet)
TAX_ITEMS = [
    ("tax-root", None, "", [OWNED, read(MEMBERS, "write")]),
    ("clients", "tax-root", "Clients", None),
    ("acme", "clients", "Acme", [read("group:all-partners", "write"), read("user:carl-oid")]),
    ("plan", "acme", "plan.docx", None),
    ("secret", "acme", "secret.xlsx", [OWNED]),
    ("brief", "clients", "brief.pdf", None),
    ("public", "tax-root", "Public", [OWNED, read(VISITORS)]),
    ("handbook", "public", "handbook.pdf", None),
    ("shared", "tax-root", "Shared", None),
    ("orglink", "shared", "org-link.pptx", [OWNED, link("link:organization")]),
    ("peoplelink", "shared", "people-link.docx", [OWNED, link("user:carl-oid")]),
    ("anon", "shared", "anon.docx", [OWNED, link("link:anonymous")]),
    ("allhands", "shared", "all-hands.pptx", [OWNED, read("everyone")]),
    ("legacy", "shared", "legacy.docx", [read("group:old")]),
    ("pending", "tax-root", "Pending", "pending"),
    ("draft", "pending", "draft.docx", None),
    ("failed", "tax-root", "Failed", [read("everyone")]),  # its read fails: perms_state failed
    ("failed-child", "failed", "x.docx", None),
    ("old", "tax-root", "old.docx", None),  # a tombstone
    ("empty", "tax-root", "Empty", []),
]
DEALS_ITEMS = [
    ("deals-root", None, "", [read(DEALS_OWNERS, "owner")]),
    ("deal", "deals-root", "Deal.docx", None),
]
SEES = {
    "ann-oid": "tax-root clients brief public handbook shared orglink allhands",
    "bob-oid": "deals-root deal tax-root clients acme plan secret brief public handbook shared "
    "orglink peoplelink anon allhands",
    "carl-oid": "acme plan public handbook orglink peoplelink allhands",
    "gus-oid": "tax-root clients brief shared",
    "dee-oid": "",
    "gone-oid": "",
    "nobody@firm.example": "",
}


def pairs(text: str) -> list[tuple[str, str]]:
    words = text.split()
    return list(zip(words[::2], words[1::2], strict=True))


def insert_rows(db, table: str, rows) -> None:
    """`rows` (dicts with the same keys) into `table`, on either engine."""
    rows = list(rows)
    if not rows:
        return
    columns = list(rows[0])
    marks = ", ".join(f":{c}" for c in columns)
    db.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def insert_group_members(db, edges: str, groups) -> None:
    """Direct membership edges ("group member ..." pairs); a member named in `groups` is a
    nested group, any other a user."""
    rows = [
        {"group_id": g, "member_id": m, "member_type": "group" if m in groups else "user"}
        for g, m in pairs(edges)
    ]
    insert_rows(db, "group_members", rows)


def build_firm(location):
    db = open_index(location)
    insert_rows(db, "sites", [{"id": TAX, "title": "Tax"}, {"id": DEALS, "title": "Deals"}])
    insert_rows(
        db,
        "drives",
        ({"id": drive, "site_id": site, "name": "Documents"}
         for drive, site in ((TAX_DOCS, TAX), (DEALS_DOCS, DEALS))),
    )  # fmt: skip
    columns = ("id", "upn", "display_name", "enabled", "guest", "deleted")
    insert_rows(db, "people", (dict(zip(columns, p, strict=True)) for p in PEOPLE))
    insert_rows(
        db,
        "groups",
        ({"id": g, "display_name": name, "deleted": int(g == "old")} for g, name in GROUPS.items()),
    )
    insert_group_members(db, GROUP_MEMBERS, GROUPS)
    insert_rows(db, "memberships", ({"user_id": u, "group_id": g} for u, g in pairs(MEMBERSHIPS)))
    insert_rows(
        db,
        "site_group_members",
        ({"site_id": s, "group_number": n, "principal": p} for s, n, p in SITE_GROUP_MEMBERS),
    )
    add_library(db, TAX_DOCS, TAX, "Tax", TAX_ITEMS)
    add_library(db, DEALS_DOCS, DEALS, "Deals", DEALS_ITEMS)
    db.execute("UPDATE items SET perms_state = 'failed' WHERE item_id = 'failed'")
    db.execute("UPDATE items SET deleted = 1, deleted_at = '2024-05-01' WHERE item_id = 'old'")
    return db


def add_library(db, drive_id: str, site_id: str, site_title: str, items: list) -> None:
    """Items with derived paths and acl holders, as the engine stores them."""
    paths: dict[str, str] = {}
    holders: dict[str, str | None] = {}
    for item_id, parent, name, own in items:
        paths[item_id] = "/" if parent is None else f"{paths[parent].rstrip('/')}/{name}"
        unique = isinstance(own, list)
        holders[item_id] = item_id if unique else None if own == "pending" else holders[parent]
        folder = "." not in name
        row = {"drive_id": drive_id, "item_id": item_id, "parent_id": parent, "name": name,
               "path": paths[item_id], "is_folder": int(folder), "is_root": int(parent is None),
               "file_type": None if folder else name.rsplit(".", 1)[-1], "site_id": site_id,
               "site_title": site_title, "has_unique_perms": int(unique),
               "perms_state": "ok" if unique else "inherited",
               "acl_item_id": holders[item_id], "deleted": 0}  # fmt: skip
        insert_rows(db, "items", [row])
        insert_rows(
            db,
            "acl",
            ({"drive_id": drive_id, "item_id": item_id, "principal": p, "role": r, "via": v}
             for p, r, v in (own if unique else [])),
        )  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def _index_backend(request: pytest.FixtureRequest) -> None:
    """With PLAZA_TEST_BACKEND=postgres, the cluster index_at() makes databases in."""
    if backend_is_postgres():
        request.getfixturevalue("postgres_cluster")


@pytest.fixture
def index_location(tmp_path: Path):
    """This test's index: index.db in tmp_path, or a PostgreSQL database of its own."""
    return index_at(tmp_path / "index.db")


@pytest.fixture
def firm(index_location):
    db = build_firm(index_location)
    yield db
    db.close()


def keys(item_ids: str) -> list[tuple[str, str]]:
    drive_of = {i[0]: DEALS_DOCS for i in DEALS_ITEMS} | {i[0]: TAX_DOCS for i in TAX_ITEMS}
    return sorted((drive_of[i], i) for i in item_ids.split())


def run_access_cli(data_dir: Path, *args: str, index=None):
    """`plaza sync <args>` for the access commands (visible, explain) on `data_dir` (and on
    `index`'s PostgreSQL database when it is an open one there)."""
    group = click.Group("sync")
    register(group)
    env = {"PLAZA_DATA_DIR": str(data_dir), "PLAZA_DATABASE_URL": getattr(index, "url", None)}
    return CliRunner().invoke(group, list(args), env=env, catch_exceptions=False)


# -- the `plaza` command line ------------------------------------------------------------------


@pytest.fixture
def env(emulator, tmp_path):
    """PLAZA_* for the shared emulator and a data dir of this test's own (and a database of
    its own as PLAZA_DATABASE_URL when the backend is PostgreSQL)."""
    return sync_env(emulator, tmp_path / "data")


def plaza(env, *args: str):
    """`plaza <args>` run in process with `env`: click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def index_of(env):
    """The index `env` names (its data dir's, or PLAZA_DATABASE_URL's), open (the caller
    closes it)."""
    settings = SyncSettings.from_env({k: v for k, v in env.items() if v is not None})
    return open_index(settings.index_location)
