"""The one access check over a small index written by hand, with exact expected answers.

The index below holds one site with two libraries and people of every kind, so each rule of
overlay_app/access.py is met once: visible, invisible, unknown ACL, failed permission read,
empty ACL, archived (item deleted, folder deleted with its child, library removed), guest,
disabled, deleted and unknown people. The live check against the emulator is in
test_access_live.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import pytest

from overlay_app import access, create_app, db
from overlay_app.errors import NotFound
from overlay_app.identity import GUEST, MEMBER, Person
from sync import visibility
from sync.db import open_index, transaction

SITE, DRIVE, GONE_DRIVE = "localhost,site-1,web-1", "b!drive-1", "b!drive-gone"

PEOPLE = {  # id -> (upn, display name, enabled, guest, deleted)
    "ann": ("ann@firm.test", "Ann Archer", 1, 0, 0),
    "bea": ("bea@firm.test", "Bea Baker", 1, 0, 0),
    "cal": ("cal@firm.test", "Cal Cole", 1, 0, 0),
    "gus": ("gus_guest.test#EXT#@firm.test", "Gus Guest", 1, 1, 0),
    "dan": ("dan@firm.test", "Dan Disabled", 0, 0, 0),
    "zed": ("zed@firm.test", "Zed Deleted", 1, 0, 1),
}
# item id -> (parent, name, unique perms, perms_state, acl holder, deleted, acl principals)
ITEMS = {
    "root": (None, "root", 1, "ok", "root", 0, ["user:ann", "user:dan", "user:zed"]),
    "public": ("root", "Public.docx", 1, "ok", "public", 0, ["everyone"]),
    "tax": ("root", "Tax.xlsx", 1, "ok", "tax", 0, ["group:g-tax", "user:gus"]),
    "notes": ("root", "Notes.txt", 0, "inherited", "root", 0, []),
    "site-group": ("root", "Board.pptx", 1, "ok", "site-group", 0, [f"sitegroup:{SITE}:3"]),
    "orphan": ("root", "Orphan.pdf", 0, "inherited", None, 0, []),
    "failed": ("root", "Failed.pdf", 1, "failed", "failed", 0, ["user:ann"]),
    "unread": ("root", "Unread.pdf", 1, "unknown", "unread", 0, []),
    "empty": ("root", "Empty.pdf", 1, "ok", "empty", 0, []),
    "old": ("root", "Old.docx", 1, "ok", "old", 1, ["user:ann"]),
    "archive": ("root", "Archive", 1, "ok", "archive", 1, ["user:bea"]),
    "child": ("archive", "Child.docx", 0, "inherited", "archive", 1, []),
    "stray": ("root", "Stray.docx", 0, "inherited", "archive", 0, []),  # live, dead holder
}
ALL_KEYS = [(DRIVE, item_id) for item_id in ITEMS] + [(GONE_DRIVE, "gone"), (DRIVE, "nope")]


def build_index(path) -> None:
    index = open_index(path)
    with transaction(index) as conn:
        conn.execute("INSERT INTO sites (id, name, title) VALUES (?, 'legal', 'Legal')", [SITE])
        conn.execute(
            "INSERT INTO drives (id, site_id, name, removed) VALUES (?, ?, 'Documents', 0),"
            " (?, ?, 'Old library', 1)",
            [DRIVE, SITE, GONE_DRIVE, SITE],
        )
        for person_id, (upn, name, enabled, guest, deleted) in PEOPLE.items():
            conn.execute(
                "INSERT INTO people (id, upn, display_name, enabled, guest, deleted)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [person_id, upn, name, enabled, guest, deleted],
            )
        conn.execute("INSERT INTO groups (id, display_name) VALUES ('g-tax', 'Tax team')")
        conn.execute("INSERT INTO memberships (user_id, group_id) VALUES ('bea', 'g-tax')")
        conn.execute(
            "INSERT INTO site_group_members (site_id, group_number, principal)"
            " VALUES (?, 3, 'user:cal')",
            [SITE],
        )
        for item_id, (parent, name, unique, state, holder, deleted, acl) in ITEMS.items():
            add_item(conn, DRIVE, item_id, parent, name, unique, state, holder, deleted, acl)
        add_item(conn, GONE_DRIVE, "gone", None, "Gone.docx", 1, "ok", "gone", 0, ["user:ann"])


def add_item(conn, drive_id, item_id, parent, name, unique, state, holder, deleted, acl):
    conn.execute(
        "INSERT INTO items (drive_id, item_id, parent_id, name, path, web_url, is_folder,"
        " is_root, file_type, size, created_by_name, modified_at, modified_by_name, site_id,"
        " site_title, list_id, list_item_id, has_unique_perms, perms_state, acl_item_id,"
        " deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 10, 'Ann Archer',"
        " '2026-01-02T03:04:05Z', 'Bea Baker', ?, 'Legal', 'list-1', ?, ?, ?, ?, ?)",
        [drive_id, item_id, parent, name, f"/{name}", f"https://sp.test/{name}",
         int("." not in name), int(parent is None), name.rpartition(".")[2] or None, SITE,
         len(item_id), unique, state, holder, deleted],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO acl (drive_id, item_id, principal, role) VALUES (?, ?, ?, 'read')",
        [(drive_id, item_id, principal) for principal in acl],
    )


@pytest.fixture
def app(tmp_path):
    build_index(tmp_path / "index.db")
    return create_app(
        {
            "data_dir": tmp_path,
            "secret_key": "s" * 40,
            "authority": "https://login.test/tenant-1",
            "tenant_id": "tenant-1",
            "client_id": "client-1",
            "client_secret": "secret",
        }
    )


def person(person_id: str) -> Person:
    upn, name, _enabled, guest, _deleted = PEOPLE.get(person_id, (person_id, person_id, 1, 0, 0))
    return Person(person_id, name, upn, bool(guest), frozenset({GUEST if guest else MEMBER}))


def audit_rows(app) -> list[tuple]:
    with app.app_context():
        return list(db.social().execute("SELECT actor_id, action, target, detail FROM audit"))


VISIBLE = {  # who sees what: every other (person, key) pair is refused
    "ann": {"root", "public", "notes", "old", "gone"},
    # archive and child: their last ACL names Bea, but the live root above them does not
    "bea": {"public", "tax"},
    "cal": {"public", "site-group"},
    "gus": {"tax"},
    "dan": set(),
    "zed": set(),
    "eve": set(),  # not in the index at all
}


@pytest.mark.parametrize("person_id", sorted(VISIBLE))
def test_filter_visible_gives_exactly_what_each_person_may_see(app, person_id):
    with app.test_request_context():
        visible = access.filter_visible(person(person_id), ALL_KEYS)
    assert {item_id for _drive, item_id in visible} == VISIBLE[person_id]


@pytest.mark.parametrize("person_id", sorted(VISIBLE))
def test_require_document_and_can_see_agree_with_filter_visible(app, person_id):
    with app.test_request_context():
        for drive_id, item_id in ALL_KEYS:
            expected = item_id in VISIBLE[person_id]
            assert access.can_see(person_id, drive_id, item_id) is expected, item_id
            if expected:
                document = access.require_document(person(person_id), drive_id, item_id)
                assert document.key == (drive_id, item_id)
            else:
                with pytest.raises(NotFound) as refused:
                    access.require_document(person(person_id), drive_id, item_id)
                assert str(refused.value) == "Not found."


def test_document_is_built_from_items_sites_and_drives(app):
    with app.test_request_context():
        document = access.require_document(person("bea"), DRIVE, "tax")
        archived = access.require_document(person("ann"), DRIVE, "old")
        gone = access.require_document(person("ann"), GONE_DRIVE, "gone")
    assert asdict(document) == {
        "drive_id": DRIVE,
        "item_id": "tax",
        "name": "Tax.xlsx",
        "path": "/Tax.xlsx",
        "web_url": "https://sp.test/Tax.xlsx",
        "site_id": SITE,
        "site_title": "Legal",
        "drive_name": "Documents",
        "is_folder": False,
        "file_type": "xlsx",
        "size": 10,
        "modified_at": "2026-01-02T03:04:05Z",
        "modified_by_name": "Bea Baker",
        "created_by_name": "Ann Archer",
        "archived": False,
        "list_id": "list-1",
        "list_item_id": 3,
    }
    assert (archived.name, archived.archived, archived.is_folder) == ("Old.docx", True, False)
    assert (gone.drive_name, gone.archived) == ("Old library", True)


def test_every_refused_read_is_audited_with_ids_only(app):
    with app.test_request_context():
        for person_id, item_id in (("cal", "tax"), ("bea", "nope"), ("eve", "public")):
            with pytest.raises(NotFound):
                access.require_document(person(person_id), DRIVE, item_id)
    assert audit_rows(app) == [
        ("cal", "access.denied", f"document:{DRIVE}/tax", "not visible"),
        ("bea", "access.denied", f"document:{DRIVE}/nope", "unknown item"),
        ("eve", "access.denied", f"document:{DRIVE}/public", "not visible"),
    ]


def test_a_refusal_inside_a_write_transaction_is_still_audited(app):
    with app.test_request_context():
        with pytest.raises(NotFound), db.transaction():
            access.require_document(person("cal"), DRIVE, "tax")
        assert list(db.social().execute("SELECT count(*) FROM audit")) == [(0,)]
    assert audit_rows(app) == [("cal", "access.denied", f"document:{DRIVE}/tax", "not visible")]


def test_require_comment_follows_its_document(app):
    with app.test_request_context():
        with db.transaction() as conn:
            conn.execute(
                "INSERT INTO comments (id, drive_id, item_id, author_id, body, body_html,"
                " created_at) VALUES ('c1', ?, 'tax', 'bea', 'Totals?', '<p>Totals?</p>',"
                " '2026-01-03T00:00:00Z')",
                [DRIVE],
            )
        comment, document = access.require_comment(person("gus"), "c1")
        assert (comment["id"], comment["body"], comment["parent_id"]) == ("c1", "Totals?", None)
        assert document.key == (DRIVE, "tax")
        for person_id, comment_id in (("cal", "c1"), ("bea", "c2")):
            with pytest.raises(NotFound):
                access.require_comment(person(person_id), comment_id)
    assert audit_rows(app) == [
        ("cal", "access.denied", f"document:{DRIVE}/tax", "comment:c1"),
        ("bea", "access.denied", "comment:c2", "unknown comment"),
    ]


def test_filter_visible_asks_the_index_the_same_number_of_times_for_any_number_of_keys(app):
    def statements_for(keys) -> int:
        seen: list[str] = []
        with app.test_request_context():
            db.index().conn.set_trace_callback(seen.append)
            access.filter_visible(person("bea"), keys)
        return len(seen)

    one = statements_for(ALL_KEYS[:1])
    assert one == statements_for(ALL_KEYS) == statements_for(ALL_KEYS * 20)
    assert statements_for([]) == 0


def query_plan(app, sql: str, params: dict) -> str:
    with app.app_context():
        rows = db.index().execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(row[3] for row in rows)


def test_visibility_queries_use_the_indexes(app):
    principals = '["everyone", "group:g-tax", "user:bea"]'
    one = query_plan(
        app,
        visibility.DOCUMENT_SQL,
        {"drive_id": DRIVE, "item_id": "tax", "principals": principals},
    )
    keys = json.dumps(ALL_KEYS)
    bulk = query_plan(app, visibility.VISIBLE_AMONG_SQL, {"keys": keys, "principals": principals})
    for plan in (one, bulk):
        assert "SCAN i" not in plan and "SCAN h" not in plan and "SCAN a" not in plan, plan
        assert "SEARCH i USING INDEX sqlite_autoindex_items_1" in plan, plan


# -- the live check, against the emulator and a real sync (tests/overlay_app/conftest.py) --------


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def strip_nonce(text: str) -> str:
    """`text` without the per-request CSP nonce (header and script attribute)."""
    return re.sub(r"nonce(-|=\")[A-Za-z0-9_-]+", r"nonce\1", text)


def same_headers(response) -> list[tuple[str, str]]:
    return sorted((name, strip_nonce(value)) for name, value in response.headers)


def test_a_revoked_reader_loses_the_page_once_the_live_answer_expires(
    fresh_plaza_env, make_app, people, document, sign_in, resync
):
    app = make_app(env=fresh_plaza_env, live_check_seconds=60)
    clock = FakeMonotonic()
    access.live_checks(app).clock = clock
    drive_id, item_id = document
    name = fresh_plaza_env.tenant.item(drive_id, item_id).name
    reader = app.test_client()
    sign_in(reader, people["reader"])
    page, api = f"/documents/{drive_id}/{item_id}", f"/api/v1/documents/{drive_id}/{item_id}"
    assert reader.get(api).get_json()["name"] == name  # Graph said yes: remembered for 60 s
    assert name in reader.get(page).get_data(as_text=True)

    fresh_plaza_env.revoke_everyone_but(drive_id, item_id, people["author"])
    clock.now += 59
    assert reader.get(api).status_code == 200  # the index and the cached answer still agree
    clock.now += 2
    refused = reader.get(api)
    missing = reader.get("/api/v1/documents/b!no-such-drive/no-such-item")
    assert refused.status_code == missing.status_code == 404
    assert refused.get_data() == missing.get_data()
    assert same_headers(refused) == same_headers(missing)
    assert name not in refused.get_data(as_text=True)
    refused_page = reader.get(page)
    missing_page = reader.get("/documents/b!no-such-drive/no-such-item")
    assert refused_page.status_code == missing_page.status_code == 404
    assert name not in refused_page.get_data(as_text=True)
    assert strip_nonce(refused_page.get_data(as_text=True)) == strip_nonce(
        missing_page.get_data(as_text=True)
    )

    author = app.test_client()
    sign_in(author, people["author"])
    assert author.get(api).status_code == 200  # still granted, in Graph and in the index
    with app.app_context():
        rows = list(db.social().execute("SELECT actor_id, action, target, detail FROM audit"))
    reader_id = fresh_plaza_env.tenant.user(people["reader"]).id
    target = f"document:{drive_id}/{item_id}"
    live_refusal = (reader_id, "access.denied.live", target, "graph refused")
    unknown = (reader_id, "access.denied", "document:b!no-such-drive/no-such-item", "unknown item")
    assert rows == [live_refusal, unknown, live_refusal, unknown]

    # Without a delegated token (a bearer-only caller, never signed in here) the app reads the
    # item's permissions itself: the index, not synced since the revocation, still admits the
    # reader, but the live check refuses at once...
    bearer_app = make_app(env=fresh_plaza_env)
    token = fresh_plaza_env.handle.token("api", user=people["reader"])
    bearer = bearer_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert bearer.get(api, headers=headers).status_code == 404
    # ...and after the next sync the index refuses too.
    resync(bearer_app, people=False, documents=True)
    assert bearer.get(api, headers=headers).status_code == 404
    with bearer_app.app_context():
        rows = list(db.social().execute("SELECT actor_id, action, target, detail FROM audit"))
    assert rows == [live_refusal, (reader_id, "access.denied", target, "not visible")]


def test_a_document_deleted_in_sharepoint_stays_archived_for_its_last_readers(
    fresh_plaza_env, make_app, people, document, sign_in, resync
):
    app = make_app(env=fresh_plaza_env)
    drive_id, item_id = document
    name = fresh_plaza_env.tenant.item(drive_id, item_id).name
    fresh_plaza_env.control("DELETE", f"/items/{drive_id}/{item_id}")
    resync(app, people=False, documents=True)
    reader, outsider = app.test_client(), app.test_client()
    sign_in(reader, people["reader"])
    sign_in(outsider, people["outsider"])
    api = f"/api/v1/documents/{drive_id}/{item_id}"
    answer = reader.get(api).get_json()  # no live check: Graph answers 404 to everyone now
    assert (answer["name"], answer["archived"]) == (name, True)
    assert outsider.get(api).status_code == 404
    with app.test_request_context():
        assert access.can_see(person_id_of(fresh_plaza_env, people["reader"]), drive_id, item_id)
        outsider_id = person_id_of(fresh_plaza_env, people["outsider"])
        assert not access.can_see(outsider_id, drive_id, item_id)


def person_id_of(env, upn: str) -> str:
    return env.tenant.user(upn).id
