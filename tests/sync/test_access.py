"""Access queries: principal sets, can_view, listings, explain and the CLI, first on a small
hand-built index with exact expectations, then end to end against the emulator's oracle.

The hand-built firm (one Tax site with a Documents library, one private Deals site):
- Ann is in Tax Team, which is in All Staff (and in Old Group, since deleted); Bob is in Tax
  Leadership, which is in All Partners; Carl is in no group; Gus is a guest; Dee is disabled;
  Gone is deleted.
- Site groups: Tax 3 (owners) holds Tax Leadership, Tax 4 (visitors) holds everyone, Tax 5
  (members) holds All Staff and Gus; Deals 3 holds All Partners.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sync import access
from sync.access import CAN_VIEW_OR_ARCHIVED_SQL, CAN_VIEW_SQL, CHILDREN_SQL, VISIBLE_KEYS_SQL
from sync.cli_access import register
from sync.db import open_index
from sync.engine import sync_documents, sync_people
from sync.targets import DocumentTarget
from tests.sync.emulated import connector_for, control, oracle

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


def build_firm(path: Path):
    db = open_index(path)
    db["sites"].insert_all([{"id": TAX, "title": "Tax"}, {"id": DEALS, "title": "Deals"}])
    db["drives"].insert_all(
        {"id": drive, "site_id": site, "name": "Documents"}
        for drive, site in ((TAX_DOCS, TAX), (DEALS_DOCS, DEALS))
    )
    columns = ("id", "upn", "display_name", "enabled", "guest", "deleted")
    db["people"].insert_all(dict(zip(columns, p, strict=True)) for p in PEOPLE)
    db["groups"].insert_all(
        {"id": g, "display_name": name, "deleted": int(g == "old")} for g, name in GROUPS.items()
    )
    db["group_members"].insert_all(
        {"group_id": g, "member_id": m, "member_type": "group" if m in GROUPS else "user"}
        for g, m in pairs(GROUP_MEMBERS)
    )
    db["memberships"].insert_all({"user_id": u, "group_id": g} for u, g in pairs(MEMBERSHIPS))
    db["site_group_members"].insert_all(
        {"site_id": s, "group_number": n, "principal": p} for s, n, p in SITE_GROUP_MEMBERS
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
        db["items"].insert(row)
        db["acl"].insert_all(
            {"drive_id": drive_id, "item_id": item_id, "principal": p, "role": r, "via": v}
            for p, r, v in (own if unique else [])
        )


@pytest.fixture
def firm(tmp_path: Path):
    db = build_firm(tmp_path / "index.db")
    yield db
    db.close()


def keys(item_ids: str) -> list[tuple[str, str]]:
    drive_of = {i[0]: DEALS_DOCS for i in DEALS_ITEMS} | {i[0]: TAX_DOCS for i in TAX_ITEMS}
    return sorted((drive_of[i], i) for i in item_ids.split())


def test_principal_sets(firm) -> None:
    assert access.principal_set(firm, "ann-oid") == {
        "user:ann-oid", "group:tax-team", "group:all-staff", "everyone", "link:organization",
        VISITORS, MEMBERS,
    }  # fmt: skip
    assert access.principal_set(firm, "bob-oid") == {
        "user:bob-oid", "group:tax-lead", "group:all-partners", "everyone", "link:organization",
        OWNERS, VISITORS, DEALS_OWNERS,
    }  # fmt: skip
    assert access.principal_set(firm, "gus-oid") == {"user:gus-oid", MEMBERS}
    for nobody in ("dee-oid", "gone-oid", "nobody@firm.example", ""):
        assert access.principal_set(firm, nobody) == frozenset()


def test_person_by_upn_in_any_case(firm) -> None:
    by_upn = access.principal_set(firm, "ann.lee@FIRM.example")
    assert by_upn == access.principal_set(firm, "ann-oid")


@pytest.mark.parametrize("person", sorted(SEES))
def test_visible_item_keys(firm, person: str) -> None:
    assert list(access.visible_item_keys(firm, person)) == keys(SEES[person])


@pytest.mark.parametrize("person", sorted(SEES))
def test_can_view_agrees_with_visible_keys(firm, person: str) -> None:
    every_item = [(TAX_DOCS, i[0]) for i in TAX_ITEMS] + [(DEALS_DOCS, i[0]) for i in DEALS_ITEMS]
    seen = sorted((d, i) for d, i in every_item if access.can_view(firm, person, d, i))
    assert seen == keys(SEES[person])


def test_can_view_unknown_item(firm) -> None:
    assert access.can_view(firm, "bob-oid", TAX_DOCS, "no-such-item") is False
    assert access.can_view(firm, "bob-oid", DEALS_DOCS, "plan") is False


def test_archived_items_stay_visible_to_their_last_acl_on_request(firm) -> None:
    """The tombstone old.docx inherited the Tax root (owners and members)."""
    for person, expected in (("ann-oid", True), ("gus-oid", True), ("carl-oid", False)):
        assert access.can_view(firm, person, TAX_DOCS, "old") is False
        assert access.can_view(firm, person, TAX_DOCS, "old", include_archived=True) is expected
    assert access.can_view(firm, "carl-oid", TAX_DOCS, "plan", include_archived=True) is True
    assert access.can_view(firm, "ann-oid", TAX_DOCS, "draft", include_archived=True) is False


def test_list_children_folders_first_then_name(firm) -> None:
    listed = access.list_children(firm, "bob-oid", TAX_DOCS, "shared")
    names = ["all-hands.pptx", "anon.docx", "org-link.pptx", "people-link.docx"]
    assert [child.name for child in listed] == names
    assert listed[0] == access.ListedItem(
        TAX_DOCS, "allhands", "all-hands.pptx", "/Shared/all-hands.pptx", None, False, "pptx",
        None, None, None,
    )  # fmt: skip
    root = access.list_children(firm, "bob-oid", TAX_DOCS, "tax-root")
    assert [(c.item_id, c.is_folder) for c in root] == [
        ("clients", True), ("public", True), ("shared", True),
    ]  # fmt: skip


def children(db, person: str, parent: str, **paging) -> list[str]:
    return [c.item_id for c in access.list_children(db, person, TAX_DOCS, parent, **paging)]


def test_list_children_is_trimmed_and_paged(firm) -> None:
    assert children(firm, "ann-oid", "shared") == ["allhands", "orglink"]
    assert children(firm, "carl-oid", "shared") == ["allhands", "orglink", "peoplelink"]
    pages = [children(firm, "bob-oid", "shared", limit=3, offset=o) for o in (0, 3, 6)]
    assert pages == [["allhands", "anon", "orglink"], ["peoplelink"], []]
    assert children(firm, "dee-oid", "shared") == []


def sentences(text: str) -> list[str]:
    """Paragraphs of `text` (separated by blank lines), each joined into one line."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]


EXPLAINED = {
    ("ann-oid", "brief"): """
        visible through site group 5 of site 'Tax', which holds group 'All Staff' (transitive
        via 'Tax Team'), granted write on the library root of 'Documents' in site 'Tax', from
        which the item inherits""",
    ("bob-oid", "plan"): """
        visible through group 'All Partners' (transitive via 'Tax Leadership'), granted write on
        folder /Clients/Acme, which has unique permissions and from which the item inherits""",
    ("bob-oid", "tax-root"): """
        visible through site group 3 of site 'Tax', which holds group 'Tax Leadership' (a direct
        member), granted owner on the library root of 'Documents' in site 'Tax'""",
    ("bob-oid", "public"): """
        visible through site group 3 of site 'Tax', which holds group 'Tax Leadership' (a direct
        member), granted owner on folder /Public, which has unique permissions

        visible through site group 4 of site 'Tax', which holds 'Everyone except external
        users', granted read on folder /Public, which has unique permissions""",
    ("carl-oid", "plan"): """
        visible through a direct grant to Carl Diaz (carl.diaz@firm.example), granted read on
        folder /Clients/Acme, which has unique permissions and from which the item inherits""",
    ("carl-oid", "peoplelink"): """
        visible through a link for specific people including Carl Diaz (carl.diaz@firm.example),
        granted read on file /Shared/people-link.docx, which has unique permissions""",
    ("ann-oid", "orglink"): """
        visible through a link for everyone in the organisation, granted read on file
        /Shared/org-link.pptx, which has unique permissions""",
    ("gus-oid", "shared"): """
        visible through site group 5 of site 'Tax', which holds Gus Guest (gus@client.example)
        directly, granted write on the library root of 'Documents' in site 'Tax', from which the
        item inherits""",
    ("ann-oid", "deal"): """
        not visible: the item inherits from the library root of 'Documents' in site 'Deals',
        which grants only site group 3 of site 'Deals' (owner)""",
    ("gus-oid", "handbook"): """
        not visible: the item inherits from folder /Public, whose unique permissions grant only
        site group 3 of site 'Tax' (owner) and site group 4 of site 'Tax' (read)

        Gus Guest (gus@client.example) is a guest: 'Everyone except external users' and links
        for the organisation leave guests out""",
    ("gus-oid", "allhands"): """
        not visible: the item has unique permissions, which grant only 'Everyone except external
        users' (read) and site group 3 of site 'Tax' (owner)

        Gus Guest (gus@client.example) is a guest: 'Everyone except external users' and links
        for the organisation leave guests out""",
    ("ann-oid", "anon"): """
        not visible: the item has unique permissions, which grant only an anonymous link (read)
        and site group 3 of site 'Tax' (owner)

        an anonymous link counts for nobody: no one is known to hold it""",
    ("ann-oid", "peoplelink"): """
        not visible: the item has unique permissions, which grant only site group 3 of site
        'Tax' (owner) and a link for specific people including Carl Diaz
        (carl.diaz@firm.example) (read)""",
    ("ann-oid", "legacy"): """
        not visible: the item has unique permissions, which grant only group 'Old Group'
        (read)""",
    ("carl-oid", "tax-root"): """
        not visible: the library root of 'Documents' in site 'Tax' grants only site group 3 of
        site 'Tax' (owner) and site group 5 of site 'Tax' (write)""",
    ("ann-oid", "empty"): "not visible: the item has unique permissions, which grant nobody",
    ("ann-oid", "draft"): "not visible: its permissions have not been read yet",
    ("ann-oid", "pending"): "not visible: its permissions have not been read yet",
    ("ann-oid", "failed-child"): """
        not visible: the permissions of folder /Failed could not be read (state 'failed'), so it
        stays hidden until a sync reads them""",
    ("bob-oid", "old"): "not visible: the item has been deleted",
    ("dee-oid", "brief"): """
        not visible: Dee Disabled (dee@firm.example) is disabled, and disabled accounts see
        nothing""",
    ("gone@firm.example", "brief"): """
        not visible: Gone Person (gone@firm.example) has been deleted, and deleted accounts see
        nothing""",
    ("nobody@firm.example", "brief"): "not visible: no person 'nobody@firm.example' in the index",
    ("ann-oid", "nope"): "not visible: no item b!tax/nope in the index",
}


@pytest.mark.parametrize(("person", "item"), list(EXPLAINED))
def test_explain(firm, person: str, item: str) -> None:
    drive = DEALS_DOCS if item.startswith("deal") else TAX_DOCS
    reasons = sentences(EXPLAINED[person, item])
    visible = reasons[0].startswith("visible")
    assert access.explain(firm, person, drive, item) == access.Explanation(visible, reasons)


def test_explain_agrees_with_can_view(firm) -> None:
    for person in SEES:
        for item_id, *_ in TAX_ITEMS:
            answer = access.explain(firm, person, TAX_DOCS, item_id)
            assert answer.visible == access.can_view(firm, person, TAX_DOCS, item_id)


def query_plan(db, sql: str) -> list[str]:
    params = {"drive_id": TAX_DOCS, "item_id": "plan", "parent_id": "shared",
              "principals": "[]", "limit": 10, "offset": 0}  # fmt: skip
    return [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def assert_indexed(plan: list[str]) -> None:
    """No full scan of items or acl (aliases i, h, a); only index searches on them."""
    assert not [step for step in plan if re.match(r"SCAN (i|h|a|items|acl)\b", step)], plan


@pytest.mark.parametrize("sql", [CAN_VIEW_SQL, CAN_VIEW_OR_ARCHIVED_SQL])
def test_can_view_plan_uses_indexes(firm, sql: str) -> None:
    plan = query_plan(firm, sql)
    assert_indexed(plan)
    assert "SEARCH i USING INDEX sqlite_autoindex_items_1 (drive_id=? AND item_id=?)" in plan
    acl_search = "SEARCH a USING COVERING INDEX sqlite_autoindex_acl_1"
    assert f"{acl_search} (drive_id=? AND item_id=? AND principal=?)" in plan


def test_list_children_plan_uses_indexes(firm) -> None:
    plan = query_plan(firm, CHILDREN_SQL)
    assert_indexed(plan)
    assert "SEARCH i USING INDEX items_by_parent (drive_id=? AND parent_id=?)" in plan


def test_visible_keys_plan_starts_from_the_principals(firm) -> None:
    plan = query_plan(firm, VISIBLE_KEYS_SQL)
    assert_indexed(plan)
    assert "SEARCH a USING COVERING INDEX acl_by_principal (principal=?)" in plan
    assert "SEARCH i USING INDEX items_by_acl (drive_id=? AND acl_item_id=?)" in plan


def run_cli(data_dir: Path, *args: str):
    group = click.Group("sync")
    register(group)
    env = {"PLAZA_DATA_DIR": str(data_dir)}
    return CliRunner().invoke(group, list(args), env=env, catch_exceptions=False)


def test_cli_visible(firm, tmp_path: Path) -> None:
    result = run_cli(tmp_path, "visible", "--user", "carl.diaz@firm.example")
    assert result.exit_code == 0
    assert result.output == "".join(f"{d}/{i}\n" for d, i in keys(SEES["carl-oid"]))


def test_cli_explain(firm, tmp_path: Path) -> None:
    result = run_cli(tmp_path, "explain", "--user", "ann-oid", "--item", f"{DEALS_DOCS}/deal")
    assert result.exit_code == 0
    assert result.output.splitlines() == sentences(EXPLAINED["ann-oid", "deal"])


NO_PEOPLE_JOB = "in the index (has the people job run?)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("visible --user nobody@firm.example", f"no person 'nobody@firm.example' {NO_PEOPLE_JOB}"),
        (f"explain --user nobody --item {TAX_DOCS}/plan", f"no person 'nobody' {NO_PEOPLE_JOB}"),
        (f"explain --user ann-oid --item {TAX_DOCS}/nope", "no item b!tax/nope in the index"),
        (
            "explain --user ann-oid --item plan",
            "--item takes DRIVE_ID/ITEM_ID, as `plaza sync visible` prints them; got 'plan'",
        ),
    ],
)
def test_cli_unknown_user_or_item(firm, tmp_path: Path, args: str, message: str) -> None:
    result = run_cli(tmp_path, *args.split())
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")


def test_cli_without_an_index(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "empty", "visible", "--user", "ann-oid")
    missing = tmp_path / "empty" / "index.db"
    assert result.exit_code == 1
    assert result.output == f"Error: no index at {missing}: run `plaza sync run` first\n"


# -- end to end: the emulator's tenant synced by the real engine, against its oracle ------------


def sync_tenant(handle, db) -> None:
    connector = connector_for(handle)
    sync_people(db, connector)
    sync_documents(db, connector, DocumentTarget(all_sites=True), page_size=50, workers=3)


@pytest.fixture(scope="module")
def synced(emulator, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("synced")
    db = open_index(data_dir / "index.db")
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
    _, data_dir = synced
    user = next(
        u for u in emulator.tenant.users.values() if u.user_type == "Guest" and u.account_enabled
    )
    expected = sorted(oracle(emulator, user.id))
    assert expected
    result = run_cli(data_dir, "visible", "--user", user.user_principal_name)
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


def test_search_is_trimmed_to_the_oracle(emulator, synced) -> None:
    db, _ = synced
    matching = {
        (d, i)
        for d, i in db.execute(
            """SELECT i.drive_id, i.item_id FROM items_fts JOIN items AS i ON i.rowid =
               items_fts.rowid WHERE items_fts MATCH 'docx' AND i.deleted = 0"""
        )
    }
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
    db = open_index(tmp_path / "index.db")
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
