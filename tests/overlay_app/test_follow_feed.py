"""Follow and the "For you" feed through HTTP: following is trimmed like reading, the feed has
one entry per conversation, newest first, says why, pages by cursor, and loses an entry at
once when its comment is deleted or access is revoked."""

from __future__ import annotations

from overlay_app.feed import store as feed_store
from tests.overlay_app.api_calls import NOT_FOUND, answer, posted, sent
from tests.overlay_app.app_rows import title_of, who
from tests.postgres import sqlite_only


def follow(api, kind: str, target: str, status: int = 200):
    return answer(api.put("/api/v1/follows", json={"kind": kind, "target": target}), status)


def feed(api, **query) -> dict:
    return answer(api.get("/api/v1/feed", query_string=query))


def doc_key(document) -> str:
    return "{}/{}".format(*document)


def other_documents(env, reader_id: str, document, count: int) -> list[tuple[str, str]]:
    """Files the reader can open besides `document`, in the emulator's order."""
    tenant, found = env.tenant, []
    for drive_id, item_id in tenant.visible_items(reader_id):
        item = tenant.item(drive_id, item_id)
        if (drive_id, item_id) != tuple(document) and not item.folder:
            found.append((drive_id, item_id))
        if len(found) == count:
            return found
    raise AssertionError("the reader sees too few documents")


def test_following_is_trimmed_like_reading(app, api, people, document):
    reader, outsider = api(people["reader"]), api(people["outsider"])
    assert follow(reader, "document", doc_key(document)) == {
        "kind": "document",
        "target": doc_key(document),
        "url": "/documents/" + doc_key(document),
    }
    follow(reader, "document", doc_key(document))  # twice is once
    # Someone who cannot open it gets exactly the answer of a missing document.
    assert follow(outsider, "document", doc_key(document), 404) == NOT_FOUND
    missing = f"{document[0]}/01MISSINGMISSINGMISSINGMISSINGMISS"
    assert follow(outsider, "document", missing, 404) == NOT_FOUND
    assert answer(outsider.get("/api/v1/follows")) == {"follows": []}
    listed = answer(reader.get("/api/v1/follows"))["follows"]
    assert [(f["kind"], f["target"], f["label"], f["level"]) for f in listed] == [
        ("document", doc_key(document), title_of(app, document), None)
    ]
    assert follow(reader, "tag", "  Indemnity ")["target"] == "indemnity"
    assert follow(reader, "person", who(app, people["author"])["id"])["kind"] == "person"
    bad = reader.put("/api/v1/follows", json={"kind": "planet", "target": "x"})
    assert answer(bad, 400)["error"]["code"] == "badRequest"
    gone = reader.delete("/api/v1/follows", query_string={"kind": "tag", "target": "indemnity"})
    assert gone.status_code == 204
    kinds = [f["kind"] for f in answer(reader.get("/api/v1/follows"))["follows"]]
    assert sorted(kinds) == ["document", "person"]


def test_one_entry_per_conversation_newest_first_with_why(app, api, people, document, plaza_env):
    author, reader = api(people["author"]), api(people["reader"])
    reader_id = who(app, people["reader"])["id"]
    first, second = other_documents(plaza_env, reader_id, document, 2)
    follow(reader, "document", doc_key(document))
    follow(reader, "person", who(app, people["author"])["id"])
    posted(author, document, "Opening remark on the cap")
    posted(author, document, "Second remark on the cap")
    author_name = who(app, people["author"])["displayName"]
    entries = feed(reader)["entries"]
    assert [(e["title"], e["excerpt"], e["lastActor"]["displayName"]) for e in entries] == [
        (title_of(app, document), "Second remark on the cap", author_name)
    ]
    assert entries[0]["why"][0] == "You follow this document"
    assert f"{author_name}, whom you follow, took part" in entries[0]["why"]
    # Two more conversations; the reader took part in one of them.
    own = posted(reader, first, "Reader on the first")
    posted(author, second, "Author on the second")
    titles = [e["title"] for e in feed(reader)["entries"]]
    assert titles == [title_of(app, second), title_of(app, first), title_of(app, document)]
    assert feed(reader)["entries"][1]["why"] == ["You took part in this conversation"]
    # Paged by cursor: one at a time, the same order, then no cursor.
    page1 = feed(reader, limit=1)
    page2 = feed(reader, limit=1, cursor=page1["nextCursor"])
    page3 = feed(reader, limit=1, cursor=page2["nextCursor"])
    assert [p["entries"][0]["title"] for p in (page1, page2, page3)] == titles
    assert feed(reader, limit=1, cursor=page3["nextCursor"]) == {"entries": [], "nextCursor": None}
    bad = reader.get("/api/v1/feed", query_string={"cursor": "forged"})
    assert answer(bad, 400)["error"]["code"] == "badRequest"
    # Deleting the only comment takes the conversation out at once.
    assert reader.delete(f"/api/v1/comments/{own['id']}").status_code == 204
    assert [e["title"] for e in feed(reader)["entries"]] == [
        title_of(app, second), title_of(app, document)
    ]  # fmt: skip


def test_revocation_takes_the_entry_out_at_once(fresh_plaza_env, make_app, api, people, document):
    app = make_app(fresh_plaza_env)
    author, reader = api(people["author"], app), api(people["reader"], app)
    follow(reader, "document", doc_key(document))
    posted(author, document, "Before the revocation")
    assert len(feed(reader)["entries"]) == 1
    fresh_plaza_env.revoke_everyone_but(*document, people["author"])
    fresh_plaza_env.sync(app.extensions["plaza.settings"].data_dir, people=False)
    assert feed(reader) == {"entries": [], "nextCursor": None}
    assert answer(reader.get("/api/v1/follows")) == {"follows": []}  # kept, shown nowhere
    assert len(feed(author)["entries"]) == 1


@sqlite_only("its query plans")
def test_each_arm_of_the_feed_reads_through_its_index(app):
    from overlay_app import db

    wanted = {"conversations": "sqlite_autoindex_feed_activity_1",
              "drives": "feed_activity_by_drive", "actor": "feed_actors_by_actor",
              "tags": "tags_by_tag"}  # fmt: skip
    with app.app_context():
        for arm, index in wanted.items():
            plan = (
                db.social()
                .execute(
                    "EXPLAIN QUERY PLAN " + feed_store.ARMS[arm],
                    {"values": "[]", "value": "x", "at": "9", "batch": 10},
                )
                .fetchall()
            )
            details = " | ".join(row[3] for row in plan)
            assert "SCAN a " not in details + " " and "SCAN x" not in details, details
            assert "SCAN t " not in details + " " and index in details, (arm, details)


def test_a_followed_library_or_folder_brings_what_lies_inside(app, api, people, document):
    from overlay_app import db
    from sync import visibility

    author, reader = api(people["author"]), api(people["reader"])
    with app.app_context():
        root = visibility.root_item_id(db.index(), document[0])
        folders = [f for f, _ in visibility.ancestors(db.index(), *document)]
    posted(author, document, "Inside the library")
    follow(reader, "folder", f"{document[0]}/{root}")
    [entry] = feed(reader)["entries"]
    assert "In a library you follow" in entry["why"]
    reader.delete(
        "/api/v1/follows", query_string={"kind": "folder", "target": f"{document[0]}/{root}"}
    )
    follow(reader, "folder", f"{document[0]}/{folders[-1]}")  # the nearest folder (or the root)
    [entry] = feed(reader)["entries"]
    wanted = "In a library you follow" if folders[-1] == root else "In a folder you follow"
    assert wanted in entry["why"]


def set_level(api, kind: str, target: str, level: str) -> None:
    answer(api.put("/api/v1/levels", json={"kind": kind, "target": target, "level": level}))


def titles(api) -> list[str]:
    return [entry["title"] for entry in feed(api)["entries"]]


def test_muting_a_document_its_folder_a_tag_or_a_channel_takes_it_out_of_the_feed(
    app, api, people, document, plaza_env
):
    author, reader = api(people["author"]), api(people["reader"])
    key, title = doc_key(document), title_of(app, document)
    parent = plaza_env.tenant.item(*document).parent_id
    follow(reader, "document", key)
    posted(author, document, "A remark the reader may not want")
    assert titles(reader) == [title]
    set_level(reader, "document", key, "muted")
    assert titles(reader) == []
    set_level(reader, "document", key, "default")
    assert titles(reader) == [title]
    # The most specific level wins, as for notifications: a watched document in a muted folder.
    set_level(reader, "folder", f"{document[0]}/{parent}", "muted")
    assert titles(reader) == []
    set_level(reader, "document", key, "watching")
    assert titles(reader) == [title]
    set_level(reader, "document", key, "default")
    set_level(reader, "folder", f"{document[0]}/{parent}", "default")
    answer(author.post(f"/api/v1/documents/{key}/tags", json={"tag": "noise"}), 201)
    set_level(reader, "tag", "noise", "muted")
    assert titles(reader) == []
    set_level(reader, "tag", "noise", "default")
    assert titles(reader) == [title]
    # A muted channel, followed, leaves the feed; a mention there still notifies (test_levels).
    room = answer(author.post("/api/v1/rooms", json={"kind": "channel", "name": "chatter"}), 201)
    follow(reader, "channel", room["id"])
    sent(author, room["id"], "Small talk")
    assert titles(reader) == ["#chatter", title]
    set_level(reader, "channel", room["id"], "muted")
    assert titles(reader) == [title]
