"""Discovery is not access: a document that a member reaches only through an organisation-wide
sharing link opens for them, but lists that push documents (a profile's "documents they
discuss", a tag page) leave it out until they interact with it.

The tenant (its own emulator, for this module): the fixtures' `document` stops inheriting and
keeps only the author (write) and the admin (read), then gets a "people in your organization"
link. So the reader reaches it through the link alone, the admin through a real grant, and the
guest not at all (guests hold no organisation links). Next to it, `other` is a file that the
author and reader both open through real grants. The author comments on both and tags both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlite_utils import Database

from overlay_app import access, db
from overlay_app.schema import MIGRATIONS
from tests.overlay_app.conftest import Api, PlazaEnv, sign_in, start_plaza_env

TAG = "orgwide"
Key = tuple[str, str]


@dataclass(frozen=True)
class Linked:
    """The module's tenant once the link is synced, and who is who in it."""

    env: PlazaEnv
    linked: Key  # the reader reaches it only through the organisation link
    other: Key  # the author and the reader reach it through real grants
    oid: dict[str, str]  # role -> Entra object id

    def opens(self, role: str, key: Key) -> bool:
        return self.env.tenant.can_open(self.oid[role], *key)


def shared_file(env: PlazaEnv, *roles: str) -> Key:
    """A file other than the fixtures' document that every one of `roles` can open."""
    tenant = env.tenant
    ids = [tenant.user(env.people[role]).id for role in roles]
    return next(
        key
        for key in sorted(tenant.visible_items(ids[0]))
        if key != env.document
        and not tenant.item(*key).folder
        and all(tenant.can_open(oid, *key) for oid in ids)
    )


@pytest.fixture(scope="module")
def linked(emulator_state: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Linked]:
    env = start_plaza_env(emulator_state, tmp_path_factory.mktemp("discovery-synced"))
    oid = {role: env.tenant.user(upn).id for role, upn in env.people.items()}
    d, i = env.document
    grants = [
        {"principal": {"kind": "user", "id": oid["author"]}, "roles": ["write"]},
        {"principal": {"kind": "user", "id": oid["admin"]}, "roles": ["read"]},
    ]
    env.control("POST", f"/items/{d}/{i}/permissions/break", {"grants": grants})
    env.control("POST", f"/items/{d}/{i}/links", {"scope": "organization", "type": "view"})
    env.sync(env.data_dir, people=False, documents=True)
    found = Linked(env, env.document, shared_file(env, "author", "reader"), oid)
    # The premises: who can open the linked document in SharePoint.
    assert all(found.opens(role, found.linked) for role in ("author", "admin", "reader"))
    assert not found.opens("guest", found.linked)
    yield found
    env.handle.stop()


@pytest.fixture
def discussed(linked: Linked, make_app: Callable[..., Flask]) -> tuple[Flask, dict[str, Api]]:
    """An app on the linked tenant where the author has commented on and tagged both files
    (the linked one first), and an API caller per role."""
    app = make_app(env=linked.env, writes_per_minute=10_000)
    env = linked.env
    callers = {
        role: Api(app.test_client(), env.handle.token("api", user=env.people[role]))
        for role in ("author", "reader", "admin", "guest")
    }
    for key in (linked.linked, linked.other):
        base = "/api/v1/documents/{}/{}".format(*key)
        answer = callers["author"].post(base + "/comments", json={"body": "worth a look"})
        assert answer.status_code == 201, answer.get_json()
        assert callers["author"].post(base + "/tags", json={"tag": TAG}).status_code == 201
    return app, callers


def profile_keys(caller: Api, author_id: str) -> list[Key]:
    """The author's "documents they discuss" as `caller` sees them (one page holds them)."""
    answer = caller.get(f"/api/v1/people/{author_id}/documents").get_json()
    keys = [(row["driveId"], row["itemId"]) for row in answer["value"]]
    assert answer["total"] == len(keys)
    return keys


def tag_keys(caller: Api) -> list[Key]:
    """The tag page's documents as `caller` sees them, by name (one page holds them)."""
    answer = caller.get(f"/api/v1/tags/{TAG}").get_json()
    keys = [(row["driveId"], row["itemId"]) for row in answer["value"]]
    assert answer["total"] == len(keys)
    return keys


def by_name(linked: Linked, keys: list[Key]) -> list[Key]:
    tenant = linked.env.tenant
    return sorted(keys, key=lambda key: (tenant.item(*key).name.casefold(), *key))


def test_a_link_only_document_opens_but_is_not_pushed(linked: Linked, discussed) -> None:
    _, callers = discussed
    author_id, both = linked.oid["author"], [linked.other, linked.linked]  # latest comment first
    reader = callers["reader"]
    assert reader.get("/api/v1/documents/{}/{}".format(*linked.linked)).status_code == 200
    assert profile_keys(reader, author_id) == [linked.other]
    assert tag_keys(reader) == [linked.other]

    # The admin holds a real grant on the linked document; the author wrote about both.
    admin_sees = [key for key in both if linked.opens("admin", key)]
    assert linked.linked in admin_sees
    assert profile_keys(callers["admin"], author_id) == admin_sees
    assert tag_keys(callers["admin"]) == by_name(linked, admin_sees)
    assert profile_keys(callers["author"], author_id) == both
    assert tag_keys(callers["author"]) == by_name(linked, both)


def test_the_pages_leave_it_out_too(linked: Linked, discussed) -> None:
    app, _ = discussed
    client = app.test_client()
    sign_in(client, linked.env.people["reader"])
    href = 'href="/documents/{}/{}"'
    document_page = client.get("/documents/{}/{}".format(*linked.linked))
    assert document_page.status_code == 200
    for url in (f"/people/{linked.oid['author']}", f"/tags/{TAG}", "/"):
        page = client.get(url).get_data(as_text=True)
        assert href.format(*linked.other) in page, url
        assert href.format(*linked.linked) not in page, url


def interact(kind: str, linked: Linked, callers: dict[str, Api]) -> None:
    """The reader comes to the linked document in one way (`kind`)."""
    base = "/api/v1/documents/{}/{}".format(*linked.linked)
    reader = callers["reader"]
    if kind == "comment":
        answer = reader.post(base + "/comments", json={"body": "found it through the link"})
    elif kind == "like":
        answer = reader.put(base + "/like")
    elif kind == "tag":
        answer = reader.post(base + "/tags", json={"tag": "mine"})
    elif kind == "chat":
        room = callers["author"].post(base + "/room")
        assert room.status_code == 201, room.get_json()
        answer = reader.post(f"/api/v1/rooms/{room.json['id']}/messages", json={"body": "hi"})
    else:  # mentioned: the author names the reader in a comment
        body = f"@[reader]({linked.oid['reader']}) have a look"
        answer = callers["author"].post(base + "/comments", json={"body": body})
    assert answer.status_code in (200, 201), answer.get_json()


@pytest.mark.parametrize("kind", ["comment", "like", "tag", "chat", "mention"])
def test_once_the_reader_interacted_it_is_listed(linked: Linked, discussed, kind: str) -> None:
    _, callers = discussed
    reader, author_id = callers["reader"], linked.oid["author"]
    assert linked.linked not in profile_keys(reader, author_id) + tag_keys(reader)
    interact(kind, linked, callers)
    # The profile lists by the author's latest comment: the mention is one, on the linked file.
    latest_first = [linked.other, linked.linked]
    if kind == "mention":
        latest_first.reverse()
    assert profile_keys(reader, author_id) == latest_first
    assert tag_keys(reader) == by_name(linked, [linked.other, linked.linked])
    # Only the reader interacted: nothing changes for anyone else's lists.
    assert linked.linked not in tag_keys(callers["guest"])


def test_a_guest_never_sees_it(linked: Linked, discussed) -> None:
    app, callers = discussed
    guest, base = callers["guest"], "/api/v1/documents/{}/{}".format(*linked.linked)
    assert guest.get(base).status_code == 404
    assert guest.post(base + "/comments", json={"body": "let me in"}).status_code == 404
    # An interaction left from a time the guest had access (say, a like before a revocation)
    # must not widen access: it only keeps documents that the guest may see.
    with app.app_context(), db.transaction() as conn:
        conn.execute(
            "INSERT INTO document_likes (drive_id, item_id, person_id, created_at)"
            " VALUES (?, ?, ?, '2026-01-01T00:00:00.000Z')",
            [*linked.linked, linked.oid["guest"]],
        )
    guest_sees = [linked.other] if linked.opens("guest", linked.other) else []
    assert profile_keys(guest, linked.oid["author"]) == guest_sees
    assert tag_keys(guest) == guest_sees


def test_the_interaction_query_reads_only_through_indexes(tmp_path: Path) -> None:
    """Every social table is reached by an index: a profile view never scans all messages."""
    social = Database(tmp_path / "overlay.db")
    MIGRATIONS.apply(social)
    plan = social.execute(
        "EXPLAIN QUERY PLAN " + access.INTERACTED_AMONG_SQL,
        {"keys": json.dumps([["drive", "item"]]), "person": "someone"},
    ).fetchall()
    scans = sorted({detail for *_, detail in plan if detail.startswith("SCAN")})
    assert scans == ["SCAN json_each VIRTUAL TABLE INDEX 1:", "SCAN w", "SCAN wanted"]
