"""Revoking someone's access in the tenant, then syncing, removes the document and its whole
discussion from everything they can reach in Plaza.

The author and the reader discuss the document (comments, a reply, a mention, likes, tags,
notifications both ways, a message in the document's chat room). Then the reader's access goes,
in the emulator, through its control API: either the document stops inheriting permissions and
keeps only the author's, or the reader leaves the group that was the only way in. After a sync,
every page and API answer the reader can ask for is checked: the document's own routes answer
404, and its title, the words of its discussion and its tag appear nowhere (lists, search,
notifications, profiles, chat, the event replay), and the counts they report drop by exactly
that document. The author, who kept access, still sees all of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.overlay_app.conftest import Api, PlazaEnv, resync, sign_in

TAG = "revocable"
SAID = {
    "author": "Revocation opening: the escrow terms changed overnight",
    "reader": "Revocation reply: escrow release needs two signatures",
    "chat": "Revocation chat: escrow agent called back",
}
WORD = "escrow"  # in both comments: what a search for the discussion would use


class Discussion:
    """The author's and reader's discussion of the document, and their ways in to the app."""

    def __init__(self, app: Flask, env: PlazaEnv, people: dict[str, str], document) -> None:
        self.app, self.env = app, env
        self.drive_id, self.item_id = document
        self.title = env.tenant.item(*document).name
        self.oid = {role: env.tenant.user(people[role]).id for role in ("author", "reader")}
        self.apis = {
            role: Api(app.test_client(), env.handle.token("api", user=people[role]))
            for role in ("author", "reader")
        }
        self.pages: dict[str, FlaskClient] = {}
        for role in ("author", "reader"):
            self.pages[role] = app.test_client()
            assert sign_in(self.pages[role], people[role]).status_code == 302
        self.ids: dict[str, str] = {}
        self.counts_before: dict[str, int] = {}

    @property
    def base(self) -> str:
        return f"/api/v1/documents/{self.drive_id}/{self.item_id}"

    def hold(self) -> None:
        author, reader = self.apis["author"], self.apis["reader"]
        mention = f"@[someone]({self.oid['reader']}) {SAID['author']}"
        first = author.post(self.base + "/comments", json={"body": mention})
        assert first.status_code == 201, first.get_json()
        reply = reader.post(
            self.base + "/comments", json={"body": SAID["reader"], "parent_id": first.json["id"]}
        )
        assert reply.status_code == 201, reply.get_json()
        self.ids.update(first=first.json["id"], reply=reply.json["id"])
        assert author.put(f"/api/v1/comments/{self.ids['reply']}/like").status_code == 200
        assert reader.put(f"/api/v1/comments/{self.ids['first']}/like").status_code == 200
        assert reader.put(self.base + "/like").status_code == 200
        assert author.put(self.base + "/like").status_code == 200
        assert reader.post(self.base + "/tags", json={"tag": TAG}).status_code == 201
        room = author.post(self.base + "/room")
        assert room.status_code == 201, room.get_json()
        self.ids["room"] = room.json["id"]
        chat = reader.post(
            f"/api/v1/rooms/{self.ids['room']}/messages", json={"body": SAID["chat"]}
        )
        assert chat.status_code == 201, chat.get_json()

    # -- what the reader can ask for ------------------------------------------------------------

    def document_urls(self) -> list[str]:
        """Routes about the document itself: 404 once access is gone."""
        d, i, first, reply = self.drive_id, self.item_id, self.ids["first"], self.ids["reply"]
        return [
            f"/documents/{d}/{i}",
            self.base,
            self.base + "/comments",
            self.base + "/likes",
            self.base + "/tags",
            f"/api/v1/comments/{first}",
            f"/api/v1/comments/{reply}",
            f"/api/v1/comments/{first}/likes",
            f"/api/v1/mentions/suggest?drive_id={d}&item_id={i}&q=a",
            f"/api/v1/rooms/{self.ids['room']}",
            f"/api/v1/rooms/{self.ids['room']}/messages",
            f"/chat/{self.ids['room']}",
        ]

    def listing_urls(self) -> list[str]:
        """Everything else the reader can open that could mention the document."""
        words = " ".join(re.findall(r"[A-Za-z]{4,}", self.title)[:2])
        folder = self.env.tenant.item(self.drive_id, self.item_id).parent_id
        author, reader = self.oid["author"], self.oid["reader"]
        urls = ["/", f"/drives/{self.drive_id}", f"/drives/{self.drive_id}/items/{folder}"]
        for q in (words, WORD, TAG):
            urls += [f"/search?q={q}", f"/api/v1/search?q={q}"]
        urls += [f"/search?tag={TAG}", f"/tags/{TAG}", f"/api/v1/tags/{TAG}"]
        urls += ["/notifications", "/api/v1/notifications", "/api/v1/sites", "/api/v1/me"]
        urls += [
            "/chat",
            "/api/v1/rooms",
            f"/api/v1/chat/search?q={WORD}",
            "/api/v1/events?after=0",
        ]
        for person in (author, reader):
            urls += [f"/people/{person}", f"/api/v1/people/{person}/documents"]
        urls += [f"/api/v1/drives/{self.drive_id}/items/{folder}/children"]
        # another document the reader still sees: its page suggests tags in use
        other = self.other_document()
        return [
            *urls,
            f"/documents/{other[0]}/{other[1]}",
            f"/api/v1/documents/{other[0]}/{other[1]}/tags",
        ]

    def other_document(self) -> tuple[str, str]:
        tenant = self.env.tenant
        for drive_id, item_id in tenant.visible_items(self.oid["reader"]):
            item = tenant.item(drive_id, item_id)
            if (drive_id, item_id) != (self.drive_id, self.item_id) and not item.folder:
                return drive_id, item_id
        raise AssertionError("the reader sees no other document")

    def counts(self, role: str) -> dict[str, int]:
        """Totals the reader's answers report: search hits for the discussion's word and the
        documents the author and the reader discuss."""
        found = {"search": self.get(role, f"/api/v1/search?q={WORD}").get_json()["total"]}
        for person in ("author", "reader"):
            answer = self.get(role, f"/api/v1/people/{self.oid[person]}/documents").get_json()
            found[person] = answer["total"]
        return found

    def get(self, role: str, url: str):
        if url.startswith("/api/"):
            return self.apis[role].get(url)
        return self.pages[role].get(url)

    def traces(self, url: str, response) -> list[str]:
        """The document's title, tag and discussion, wherever they show in a response (the
        tag only where the request did not name it: a page about a tag says its name)."""
        text = response.get_data(as_text=True)
        text += " ".join(f"{name}: {value}" for name, value in response.headers.items())
        marks = [self.title, *SAID.values()]
        if TAG not in url:
            marks += [TAG]
        return [mark for mark in marks if mark in text]


def assert_sees_everything(discussion: Discussion, role: str) -> None:
    for url in discussion.document_urls():
        assert discussion.get(role, url).status_code == 200, (role, url)
    page = discussion.get(role, discussion.document_urls()[0])
    assert [mark for mark in (discussion.title, *SAID.values()) if mark not in page.text] == []
    hits = discussion.get(role, f"/api/v1/search?q={WORD}").get_data(as_text=True)
    assert discussion.title in hits
    assert discussion.title in discussion.get(role, f"/tags/{TAG}").text
    other = discussion.other_document()
    tags = discussion.get(role, f"/api/v1/documents/{other[0]}/{other[1]}/tags").get_json()
    assert TAG in tags["suggestions"]


def assert_gone_for_reader(discussion: Discussion) -> None:
    problems: list[Any] = []
    for url in discussion.document_urls():
        response = discussion.get("reader", url)
        if response.status_code != 404:
            problems.append((url, response.status_code))
        problems += [(url, mark) for mark in discussion.traces(url, response)]
    for url in discussion.listing_urls():
        response = discussion.get("reader", url)
        if response.status_code not in (200, 404):
            problems.append((url, response.status_code))
        problems += [(url, mark) for mark in discussion.traces(url, response)]
    notifications = discussion.get("reader", "/api/v1/notifications").get_json()
    if notifications["unreadCount"] != 0 or notifications["notifications"] != []:
        problems.append(("notifications", notifications))
    before = discussion.counts_before
    wanted = {"search": 0, "author": before["author"] - 1, "reader": before["reader"] - 1}
    if discussion.counts("reader") != wanted:
        problems.append(("counts", discussion.counts("reader"), "wanted", wanted))
    assert problems == [], "\n".join(map(str, problems))


def assert_reader_cannot_write(discussion: Discussion) -> None:
    reader = discussion.apis["reader"]
    writes = [
        reader.post(discussion.base + "/comments", json={"body": "still here?"}),
        reader.put(discussion.base + "/like"),
        reader.delete(discussion.base + "/like"),
        reader.post(discussion.base + "/tags", json={"tag": "late"}),
        reader.patch(f"/api/v1/comments/{discussion.ids['reply']}", json={"body": "edit"}),
        reader.delete(f"/api/v1/comments/{discussion.ids['reply']}"),
    ]
    assert [response.status_code for response in writes] == [404] * len(writes)


def grant(kind: str, principal_id: str, role: str) -> dict[str, Any]:
    return {"principal": {"kind": kind, "id": principal_id}, "roles": [role]}


@pytest.fixture
def discussion(
    fresh_plaza_env: PlazaEnv,
    make_app: Callable[..., Flask],
    people: dict[str, str],
    document: tuple[str, str],
) -> Discussion:
    # The live check is off so what is tested is the synced index's trimming alone.
    app = make_app(env=fresh_plaza_env, live_check_seconds=0, writes_per_minute=10_000)
    found = Discussion(app, fresh_plaza_env, people, document)
    found.hold()
    assert_sees_everything(found, "reader")
    found.counts_before = found.counts("reader")
    assert found.counts_before["search"] == 1
    return found


def test_breaking_inheritance_without_the_reader_takes_it_all_away(
    discussion: Discussion,
) -> None:
    env, d, i = discussion.env, discussion.drive_id, discussion.item_id
    env.control("POST", f"/items/{d}/{i}/permissions/break",
                {"grants": [grant("user", discussion.oid["author"], "write")]})  # fmt: skip
    assert not env.tenant.can_open(discussion.oid["reader"], d, i)
    resync(discussion.app, people=True, documents=True)

    assert_gone_for_reader(discussion)
    assert_reader_cannot_write(discussion)
    assert_sees_everything(discussion, "author")


def test_leaving_the_only_group_that_grants_access_takes_it_all_away(
    discussion: Discussion,
) -> None:
    env, d, i = discussion.env, discussion.drive_id, discussion.item_id
    tenant, reader = env.tenant, discussion.oid["reader"]
    group = sorted(
        g for g in tenant.transitive_groups(reader) if reader in tenant.group(g).member_ids
    )[0]
    env.control("POST", f"/items/{d}/{i}/permissions/break",
                {"grants": [grant("user", discussion.oid["author"], "write"),
                            grant("group", group, "read")]})  # fmt: skip
    resync(discussion.app, people=True, documents=True)
    assert_sees_everything(discussion, "reader")  # the group still lets the reader in

    env.control("DELETE", f"/groups/{group}/members/{reader}")
    assert not tenant.can_open(reader, d, i)
    resync(discussion.app, people=True, documents=True)

    assert_gone_for_reader(discussion)
    assert_reader_cannot_write(discussion)
    assert_sees_everything(discussion, "author")
