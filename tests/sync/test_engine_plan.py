"""The engine's pure parts and its derivation SQL on small hand-made inputs: permissions to
principal keys, the page plan, and path/URL/ACL recomputation of subtrees.

Inputs are Graph JSON shaped as Microsoft documents it (parsed by the real connector models),
and a real index in tmp_path for the SQL.
"""

from __future__ import annotations

from connector.models import DriveItem, Permission
from sync.apply import apply_page, load_known
from sync.db import open_index, transaction
from sync.plan import DriveContext, KnownItem, plan_page
from sync.principals import AclEntry, acl_of, principal_of_claim
from sync.targets import DocumentTarget
from tests.postgres import index_at

SITE = "contoso.sharepoint.com,1111,2222"
DRIVE = DriveContext("b!docs", SITE, "Tax")
PEOPLE = {"ann@contoso.com": "ann-oid", "gus_x.com#ext#@contoso.com": "gus-oid"}
BASE = "https://contoso.sharepoint.com/sites/tax/Shared%20Documents"


def resolve(upn: str) -> str | None:
    return PEOPLE.get(upn.lower())


# -- principals ---------------------------------------------------------------------------------


def test_permissions_become_principal_keys_with_their_strongest_role():
    raw = [
        {"id": "3", "roles": ["owner"],
         "grantedToV2": {"siteGroup": {"id": "3", "displayName": "Tax Owners",
                                       "loginName": "Tax Owners"}}},
        {"id": "u", "roles": ["read"], "grantedToV2": {
            "user": {"id": "bob-oid", "displayName": "Bob"},
            "siteUser": {"id": "12", "loginName": "i:0#.f|membership|bob@contoso.com"}}},
        {"id": "u2", "roles": ["write"], "grantedToV2": {"user": {"id": "bob-oid"}}},
        {"id": "g", "roles": ["write"], "grantedToV2": {
            "group": {"id": "grp-1", "displayName": "Tax Team"},
            "siteUser": {"id": "40", "loginName": "c:0t.c|tenant|grp-1"}}},
        {"id": "e", "roles": ["read"], "grantedToV2": {"siteUser": {
            "id": "7", "loginName": "c:0-.f|rolemanager|spo-grid-all-users/tenant-1"}}},
        {"id": "c", "roles": ["read"], "grantedToV2": {"siteUser": {
            "id": "13", "loginName": "i:0#.f|membership|Ann@contoso.com"}}},
        {"id": "x", "roles": ["read"], "grantedToV2": {"siteUser": {
            "id": "14", "loginName": "i:0#.f|membership|nobody@contoso.com"}}},
        {"id": "o", "roles": ["read"], "link": {"scope": "organization", "type": "view"}},
        {"id": "a", "roles": ["write"], "link": {"scope": "anonymous", "type": "edit"}},
        {"id": "s", "roles": ["read"], "link": {"scope": "users", "type": "view"},
         "grantedToIdentitiesV2": [{"user": {"id": "ann-oid"}}, {"user": {"id": "gus-oid"}}]},
        {"id": "z", "roles": ["read"], "link": {"scope": "existingAccess", "type": "view"}},
        {"id": "app", "roles": ["write"], "grantedToV2": {"application": {"id": "app-1"}}},
    ]  # fmt: skip
    acl = acl_of([Permission.from_graph(p) for p in raw], SITE, resolve)
    assert acl == [
        AclEntry("everyone", "read"),
        AclEntry("group:grp-1", "write"),
        AclEntry("link:anonymous", "write", "link"),
        AclEntry("link:organization", "read", "link"),
        AclEntry(f"sitegroup:{SITE}:3", "owner"),
        AclEntry("user:ann-oid", "read"),
        AclEntry("user:ann-oid", "read", "link"),
        AclEntry("user:bob-oid", "write"),
        AclEntry("user:gus-oid", "read", "link"),
    ]


def test_sharepoint_claims_map_to_principals_or_are_dropped():
    assert principal_of_claim("c:0o.c|federateddirectoryclaimprovider|grp-2", resolve) == (
        "group:grp-2"
    )
    assert principal_of_claim("c:0o.c|federateddirectoryclaimprovider|grp-2_o", resolve) is None
    assert principal_of_claim("i:0#.f|membership|gus_x.com#EXT#@contoso.com", resolve) == (
        "user:gus-oid"
    )
    assert principal_of_claim("c:0(.s|true", resolve) == "everyone"
    assert principal_of_claim("i:0i.t|ms.sp.ext|app@tenant", resolve) is None
    assert principal_of_claim(None, resolve) is None


# -- plan ------------------------------------------------------------------------------------------


def item(item_id, name, parent="root-id", folder=False, **extra) -> DriveItem:
    raw = {"id": item_id, "name": name, "eTag": f'"{{{item_id}}},1"',
           "parentReference": {"driveId": "b!docs", "id": parent}, **extra}  # fmt: skip
    raw["folder" if folder else "file"] = {"childCount": 0} if folder else {}
    return DriveItem.from_graph(raw, "b!docs")


def known(item_id, name, parent, path, unique=False, state="inherited", deleted=False):
    holder = item_id if unique else "root-id"
    return KnownItem(item_id, parent, name, f'"{{{item_id}}},1"', f"{BASE}{path}", path, holder,
                     path is not None and "." not in name, unique, state, deleted)  # fmt: skip


def test_plan_decides_upserts_permissions_and_rederivation():
    index = {
        "root-id": known("root-id", "root", None, "", unique=True, state="ok"),
        "a": known("a", "A", "root-id", "/A", unique=True, state="ok"),
        "b": known("b", "B", "root-id", "/B"),
        "c": known("c", "c.docx", "b", "/B/c.docx"),
        "gone": known("gone", "gone.txt", "b", "/B/gone.txt"),
    }
    page = [
        item("a", "A", folder=True),  # lost its `shared` facet: inherits again
        item("b", "B2", folder=True, shared={}),  # renamed and now unique
        item("c", "c.docx", parent="a", **{"@microsoft.graph.sharedChanged": "True"}),  # moved
        item("n", "n.pdf", parent="b", shared={"scope": "users"}),  # new, unique
        item("x", "x.xlsx", parent="b"),  # new, filtered out by file type
        item("o", "o.docx", parent="unknown-folder"),  # new, parent not indexed yet
    ]
    target = DocumentTarget(file_types=("docx", "pdf"))
    plan = plan_page(DRIVE, page, ["gone", "never-seen"], index, target)
    assert [r.item_id for r in plan.upserts] == ["a", "b", "c", "n", "o"]
    assert [r.has_unique_perms for r in plan.upserts] == [0, 1, 0, 1, 0]
    assert plan.read_permissions == ["b", "n"]
    assert plan.drop_permissions == ["a"]
    assert plan.tombstones == ["gone"]
    derived = [(r.path, r.acl_item_id) for r in plan.upserts]
    assert derived == [
        ("/A", "root-id"), ("/B2", "b"), ("/A/c.docx", "root-id"), ("/B2/n.pdf", "n"),
        (None, None),
    ]  # fmt: skip
    assert plan.rederive == ["a", "b"]  # folders whose subtrees must follow
    assert plan.old_web_urls == {"a": f"{BASE}/A", "b": f"{BASE}/B", "c": f"{BASE}/B/c.docx",
                                 "n": None, "o": None}  # fmt: skip
    assert (plan.added, plan.updated, plan.moved) == (2, 1, 1)


def test_a_full_round_rereads_every_unique_item_and_marks_rows():
    index = {"root-id": known("root-id", "root", None, "", unique=True, state="ok")}
    root = DriveItem.from_graph({"id": "root-id", "name": "root", "root": {}, "folder": {},
                                 "parentReference": {"driveId": "b!docs"}})  # fmt: skip
    plan = plan_page(DRIVE, [root], [], index, DocumentTarget(), round_id="r1")
    assert plan.read_permissions == ["root-id"]
    assert plan.rederive == []
    assert (plan.upserts[0].path, plan.upserts[0].acl_item_id) == ("", "root-id")
    assert plan.upserts[0].seen_round == "r1"
    assert plan.upserts[0].parent_id is None


# -- derivation --------------------------------------------------------------------------------


def index_with_library(tmp_path):
    db = open_index(index_at(tmp_path / "index.db"))
    with transaction(db) as conn:
        conn.execute("INSERT INTO sites (id, title) VALUES (?, 'Tax')", [SITE])
        conn.execute("INSERT INTO drives (id, site_id, name) VALUES ('b!docs', ?, 'Docs')", [SITE])
    return db
    db.close()


def test_moving_a_folder_rederives_its_subtree(tmp_path):
    db = index_with_library(tmp_path)
    rows = [
        ("root-id", None, "root", "", 1), ("a", "root-id", "A", "/A", 1),
        ("b", "root-id", "B", "/B", 0), ("s", "b", "Sub", "/B/Sub", 0),
        ("f", "s", "f.docx", "/B/Sub/f.docx", 0), ("u", "s", "u.docx", "/B/Sub/u.docx", 1),
        ("v", "u", "v.docx", "/B/Sub/u.docx/v.docx", 0),
    ]  # fmt: skip
    for item_id, parent, name, path, unique in rows:
        holder = item_id if unique else None
        db.execute(
            "INSERT INTO items (drive_id, item_id, parent_id, name, path, web_url, "
            "has_unique_perms, perms_state, acl_item_id) VALUES ('b!docs', ?, ?, ?, ?, ?, ?, "
            "'ok', ?)",
            [item_id, parent, name, path, f"{BASE}{path}", unique, holder],
        )
    with transaction(db) as conn:
        conn.execute("UPDATE items SET acl_item_id = 'root-id' WHERE acl_item_id IS NULL")
        conn.execute("UPDATE items SET acl_item_id = 'u' WHERE item_id = 'v'")
    page = [item("b", "B", parent="a", folder=True, webUrl=f"{BASE}/A/B")]  # B moves into A
    with transaction(db) as conn:
        index = load_known(conn, "b!docs", {"b", "a"})
        plan = plan_page(DRIVE, page, [], index, DocumentTarget())
        apply_page(conn, "b!docs", plan, {}, DocumentTarget(), "2026-01-01T00:00:00Z")
    derived = db.execute(
        "SELECT item_id, path, web_url, acl_item_id FROM items ORDER BY item_id"
    ).fetchall()
    assert derived == [
        ("a", "/A", f"{BASE}/A", "a"),
        ("b", "/A/B", f"{BASE}/A/B", "a"),
        ("f", "/A/B/Sub/f.docx", f"{BASE}/A/B/Sub/f.docx", "a"),
        ("root-id", "", f"{BASE}", "root-id"),
        ("s", "/A/B/Sub", f"{BASE}/A/B/Sub", "a"),
        ("u", "/A/B/Sub/u.docx", f"{BASE}/A/B/Sub/u.docx", "u"),
        ("v", "/A/B/Sub/u.docx/v.docx", f"{BASE}/A/B/Sub/u.docx/v.docx", "u"),
    ]
    db.close()


def test_an_orphan_has_no_path_or_acl_until_its_parent_arrives(tmp_path):
    db = index_with_library(tmp_path)
    root = DriveItem.from_graph(
        {"id": "root-id", "name": "root", "root": {}, "folder": {}, "webUrl": BASE,
         "parentReference": {"driveId": "b!docs"}}
    )  # fmt: skip
    pages = [
        [root, item("o", "o.docx", parent="p", webUrl=f"{BASE}/P/o.docx")],
        [item("p", "P", folder=True, webUrl=f"{BASE}/P")],
    ]
    states = []
    for page in pages:
        with transaction(db) as conn:
            index = load_known(conn, "b!docs", {i.id for i in page} | {"root-id", "p"})
            plan = plan_page(DRIVE, page, [], index, DocumentTarget())
            acls = {"root-id": [AclEntry("everyone", "read")]}
            apply_page(conn, "b!docs", plan, acls, DocumentTarget(), "2026-01-01T00:00:00Z")
        row = db.execute("SELECT path, acl_item_id FROM items WHERE item_id = 'o'").fetchone()
        states.append(row)
    assert states == [(None, None), ("/P/o.docx", "root-id")]
    db.close()
