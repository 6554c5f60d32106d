"""The feed read from each person's inbox (written at activity time), through HTTP: likes,
tags and document chat are activity on the document's conversation (one entry each, newest
first, with why); cursor pages walk the inbox; an unfollow, a hiding, a deleted chat message
and a deleted comment change the feed at once, because trimming and reasons are decided at
read time, never by the inbox."""

from __future__ import annotations

from overlay_app.feed import store as feed_store
from tests.overlay_app.admin_staff import moderator_group, staff_app
from tests.overlay_app.api_calls import answer, document_room, posted, sent
from tests.overlay_app.app_rows import rows, title_of, who
from tests.overlay_app.conftest import Api
from tests.overlay_app.test_follow_feed import feed, follow, other_documents
from tests.postgres import sqlite_only


def path(document) -> str:
    return "/api/v1/documents/{}/{}".format(*document)


def shown(app, entries) -> list[tuple]:
    return [(e["title"], e["lastActivity"], e["excerpt"], e["lastActor"]["displayName"])
            for e in entries]  # fmt: skip


def conversation(document) -> str:
    return "doc:{}/{}".format(*document)


def test_likes_tags_and_document_chat_are_activity_on_the_conversation(
    app, api, people, document, plaza_env
):
    author, reader = api(people["author"]), api(people["reader"])
    name, reader_id = who(app, people["author"])["displayName"], who(app, people["reader"])["id"]
    first, second = other_documents(plaza_env, reader_id, document, 2)
    follow(reader, "person", who(app, people["author"])["id"])
    follow(reader, "tag", "indemnity")
    posted(author, document, "On the cap")
    posted(author, first, "On the first")
    assert author.put(path(document) + "/like").status_code == 200
    assert author.put(path(document) + "/like").status_code == 200  # a second like is none
    assert shown(app, feed(reader)["entries"]) == [
        (title_of(app, document), "like", "Liked the document", name),
        (title_of(app, first), "comment", "On the first", name),
    ]
    assert author.post(path(second) + "/tags", json={"tag": "Indemnity"}).status_code == 201
    room = document_room(author, first)
    sent(author, room["id"], "Chat on the first")
    entries = feed(reader)["entries"]
    assert shown(app, entries) == [
        (title_of(app, first), "message", "Chat on the first", name),
        (title_of(app, second), "tag", "Tagged #indemnity", name),
        (title_of(app, document), "like", "Liked the document", name),
    ]
    assert entries[1]["why"] == [
        "Tagged #indemnity, which you follow",
        f"{name}, whom you follow, took part",
    ]
    assert entries[1]["document"] == {
        "driveId": second[0], "itemId": second[1], "name": title_of(app, second)
    }  # fmt: skip
    # One inbox row per conversation, in the feed's order.
    inbox = "SELECT conversation FROM feed_inbox WHERE person_id = ? ORDER BY at DESC"
    assert rows(app, inbox, [reader_id]) == [
        (conversation(first),),
        (conversation(second),),
        (conversation(document),),
    ]
    # Cursor pages walk the inbox: two, then the last one and no cursor.
    page1 = feed(reader, limit=2)
    page2 = feed(reader, limit=2, cursor=page1["nextCursor"])
    assert shown(app, page1["entries"]) + shown(app, page2["entries"]) == shown(app, entries)
    assert page2["nextCursor"] is None
    # Taking the like back: the conversation ends at its comment again, and moves down.
    assert author.delete(path(document) + "/like").status_code == 200
    assert shown(app, feed(reader)["entries"])[2] == (
        title_of(app, document), "comment", "On the cap", name
    )  # fmt: skip
    # Unfollowing the tag, then the person: the reasons are decided at read time, at once.
    # (The author is on the reader's team: that reason stays.)
    reader.delete("/api/v1/follows", query_string={"kind": "tag", "target": "indemnity"})
    assert [e["why"] for e in feed(reader)["entries"]] == [
        [f"{name}, whom you follow, took part"]
    ] * 3
    author_id = who(app, people["author"])["id"]
    reader.delete("/api/v1/follows", query_string={"kind": "person", "target": author_id})
    assert [(e["title"], e["why"]) for e in feed(reader)["entries"]] == [
        (title_of(app, first), [f"{name} on your team took part"]),
        (title_of(app, second), [f"{name} on your team took part"]),
        (title_of(app, document), [f"{name} on your team took part"]),
    ]


def stranger(app, env, author_id: str) -> tuple[str, tuple[str, str]]:
    """A member, none of the cast, not around the author (so nothing the author does reaches
    their inbox but through what they follow), and a file both can open."""
    from overlay_app import db
    from sync import directory

    with app.app_context():
        around = set(directory.around(db.index(), author_id, 30))
    tenant = env.tenant
    shared = [k for k in tenant.visible_items(author_id) if not tenant.item(*k).folder]
    for user in sorted(tenant.users.values(), key=lambda u: u.id):
        if (
            user.user_type != "Member"
            or not user.account_enabled
            or user.deleted
            or user.id in around
            or user.user_principal_name in env.people.values()
        ):
            continue  # fmt: skip
        seen = set(tenant.visible_items(user.id))
        both = [key for key in shared if key in seen]
        if both:
            return user.user_principal_name, both[0]
    raise AssertionError("no stranger shares a file with the author")


def test_a_new_follow_brings_the_conversations_already_there(app, api, people, plaza_env):
    author = api(people["author"])
    author_id = who(app, people["author"])["id"]
    upn, document = stranger(app, plaza_env, author_id)
    reader = api(upn)
    posted(author, document, "Before anyone followed")
    assert feed(reader) == {"entries": [], "nextCursor": None}
    follow(reader, "document", "{}/{}".format(*document))
    [entry] = feed(reader)["entries"]
    assert (entry["excerpt"], entry["why"]) == (
        "Before anyone followed", ["You follow this document"]
    )  # fmt: skip
    # Following the author too: one entry still, two reasons.
    follow(reader, "person", author_id)
    [entry] = feed(reader)["entries"]
    name = who(app, people["author"])["displayName"]
    assert entry["why"] == ["You follow this document", f"{name}, whom you follow, took part"]


def test_hiding_and_deleting_change_the_feed_at_once(make_app, plaza_env, people, document):
    app = staff_app(make_app, plaza_env)
    _, moderator_upn = moderator_group(plaza_env)

    def api(upn: str) -> Api:
        return Api(app.test_client(), plaza_env.handle.token("api", user=upn))

    author, reader, moderator = api(people["author"]), api(people["reader"]), api(moderator_upn)
    follow(reader, "document", "{}/{}".format(*document))
    kept = posted(author, document, "A fair point")
    rude = posted(author, document, "A rude point")

    def act(kind: str, target: str, verb: str) -> None:
        body = {"kind": kind, "targetId": target, "act": verb, "reason": "Rude"}
        assert moderator.post("/api/v1/admin/moderation", json=body).status_code == 200

    def latest() -> tuple:
        [entry] = feed(reader)["entries"]
        return entry["lastActivity"], entry["excerpt"], entry["lastActivityAt"]

    assert latest() == ("comment", "A rude point", rude["createdAt"])
    act("comment", rude["id"], "hide")  # the conversation ends at the comment before
    assert latest() == ("comment", "A fair point", kept["createdAt"])
    act("comment", rude["id"], "restore")
    assert latest() == ("comment", "A rude point", rude["createdAt"])
    # A chat message on the document, hidden: back to the comment; deleted the same way.
    room = document_room(author, document)
    message = sent(author, room["id"], "Chat: a rude remark")
    assert latest()[:2] == ("message", "Chat: a rude remark")
    act("message", message["id"], "hide")
    assert latest() == ("comment", "A rude point", rude["createdAt"])
    other = sent(author, room["id"], "Chat: a second remark")
    assert latest()[:2] == ("message", "Chat: a second remark")
    assert author.delete(f"/api/v1/messages/{other['id']}").status_code == 204
    assert latest() == ("comment", "A rude point", rude["createdAt"])
    # Hiding the last live activity takes the conversation out of every feed.
    act("comment", rude["id"], "hide")
    assert author.delete(f"/api/v1/comments/{kept['id']}").status_code == 204
    assert feed(reader) == {"entries": [], "nextCursor": None}
    assert rows(app, "SELECT count(*) FROM feed_inbox") == [(0,)]


@sqlite_only("its query plans")
def test_the_inbox_is_read_through_its_index(app):
    from overlay_app import db

    with app.app_context():
        plan = db.social().execute(
            "EXPLAIN QUERY PLAN " + feed_store.INBOX,
            {"person": "x", "at": "9", "conversation": "", "batch": 10},
        )
        details = " | ".join(row[3] for row in plan)
    assert "feed_inbox_by_time (person_id=? AND at<?)" in details or (
        "feed_inbox_by_time (person_id=? AND (at,conversation)<(?,?))" in details
    ), details
    assert "SCAN x" not in details and "SCAN a " not in details + " ", details


def test_answer_contract_is_additive(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    follow(reader, "document", "{}/{}".format(*document))
    posted(author, document, "A word")
    [entry] = answer(reader.get("/api/v1/feed"))["entries"]
    assert sorted(entry) == [
        "document", "excerpt", "kind", "lastActivity", "lastActivityAt", "lastActor", "title",
        "url", "why",
    ]  # fmt: skip


def test_the_fan_out_reaches_everyone_whose_colleagues_name_the_actor(app, people):
    """directory.around is a superset of the reverse of directory.colleagues (what the feed's
    reasons read), for every active person of the tenant as the actor."""
    from overlay_app import db
    from sync import directory

    with app.app_context():
        index = db.index()
        everyone = [row[0] for row in index.execute(
            f"SELECT id FROM people WHERE {directory.ACTIVE} ORDER BY id")]  # fmt: skip
        named_by: dict[str, set[str]] = {person: set() for person in everyone}
        for person in everyone:
            team, practice = directory.colleagues(index, person, 30)
            for actor in {*team, *practice}:
                named_by.setdefault(actor, set()).add(person)
        missed = {
            actor: sorted(readers - set(directory.around(index, actor, 30)))
            for actor, readers in named_by.items()
        }
    assert {actor: m for actor, m in missed.items() if m} == {}
    assert len(everyone) > 10


def test_a_deleted_document_leaves_every_feed_at_once(
    fresh_plaza_env, make_app, api, people, document
):
    from tests.overlay_app.conftest import resync

    app = make_app(fresh_plaza_env)
    author, reader = api(people["author"], app), api(people["reader"], app)
    follow(reader, "document", "{}/{}".format(*document))
    posted(author, document, "Before the deletion")
    assert [e["excerpt"] for e in feed(reader)["entries"]] == ["Before the deletion"]
    fresh_plaza_env.control("DELETE", "/items/{}/{}".format(*document))
    resync(app, people=False, documents=True)
    assert feed(reader) == {"entries": [], "nextCursor": None}
    assert feed(author) == {"entries": [], "nextCursor": None}  # archived: in no feed
    # The inbox still holds it (nothing there is trusted): trimming took it out.
    ids = sorted([who(app, people["author"])["id"], who(app, people["reader"])["id"]])
    held = "SELECT person_id FROM feed_inbox WHERE conversation = ? ORDER BY person_id"
    found = [pid for (pid,) in rows(app, held, [conversation(document)]) if pid in ids]
    assert found == ids
