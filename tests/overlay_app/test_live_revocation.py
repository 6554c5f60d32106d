"""Between a revocation in the tenant and the next sync: Graph's word, asked live and cached.

A fresh emulator; the author and the reader discuss the document (a comment mentioning the
reader, a like, a tag, a message in its chat room). Then the emulator's control API takes the
reader's access away (or disables their account) and nothing is synced: the index still admits
the reader. The live checks' clock is a fake one, so the cache window is walked exactly: the
remembered yes holds up to `live_check_seconds`, and the next read asks Graph again.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from overlay_app import access
from tests.overlay_app.conftest import Api, PlazaEnv, sign_in

SAID = "Live check: the escrow release moved to Friday"
TAG = "livecheck"
TTL = 60


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Discussion:
    """The author's and the reader's discussion, and the reader's two ways in."""

    def __init__(
        self, app: Flask, env: PlazaEnv, people: dict[str, str], document, signed_in: bool = True
    ) -> None:
        self.app, self.env, self.document = app, env, document
        self.clock = FakeMonotonic()
        access.live_checks(app).clock = self.clock
        access.account_checks(app).clock = self.clock
        self.reader_id = env.tenant.user(people["reader"]).id
        self.author = Api(app.test_client(), env.handle.token("api", user=people["author"]))
        self.bearer = Api(app.test_client(), env.handle.token("api", user=people["reader"]))
        self.browser: FlaskClient = app.test_client()
        if signed_in:  # else the reader has no delegated Graph token: checked app-only
            assert sign_in(self.browser, people["reader"]).status_code == 302
        self.session = Api(self.browser)
        base = self.base
        said = f"@[reader]({self.reader_id}) {SAID}"
        comment = self.author.post(base + "/comments", json={"body": said})
        assert comment.status_code == 201, comment.get_json()
        self.comment_id = comment.get_json()["id"]
        assert self.author.put(f"/api/v1/comments/{self.comment_id}/like").status_code == 200
        assert self.author.post(base + "/tags", json={"tag": TAG}).status_code == 201
        room = self.author.post(base + "/room")
        assert room.status_code == 201, room.get_json()
        self.room_id = room.get_json()["id"]
        assert self.bearer.post(base + "/room").status_code == 200  # the reader follows it
        message = self.author.post(f"/api/v1/rooms/{self.room_id}/messages", json={"body": SAID})
        assert message.status_code == 201, message.get_json()

    @property
    def base(self) -> str:
        return "/api/v1/documents/{}/{}".format(*self.document)

    def reads(self) -> list[str]:
        """The reads of the document's discussion and room."""
        return [
            self.base + "/comments",
            f"/api/v1/comments/{self.comment_id}",
            self.base + "/likes",
            f"/api/v1/comments/{self.comment_id}/likes",
            self.base + "/tags",
            f"/api/v1/rooms/{self.room_id}/messages",
        ]

    def statuses(self, who: Api) -> dict[str, int]:
        return {url: who.get(url).status_code for url in self.reads()}

    def replayed_rooms(self, who: Api) -> set[str]:
        """Rooms named by the events a replay from the start carries."""
        text = who.get("/api/v1/events?after=0").get_data(as_text=True)
        return {self.room_id} & {part for part in text.replace('"', " ").split()}


@pytest.fixture
def make_discussion(
    fresh_plaza_env: PlazaEnv,
    make_app: Callable[..., Flask],
    people: dict[str, str],
    document: tuple[str, str],
) -> Callable[[bool], Discussion]:
    def make(signed_in: bool) -> Discussion:
        app = make_app(env=fresh_plaza_env, live_check_seconds=TTL, writes_per_minute=10_000)
        return Discussion(app, fresh_plaza_env, people, document, signed_in)

    return make


@pytest.fixture
def discussion(make_discussion: Callable[[bool], Discussion]) -> Discussion:
    return make_discussion(True)


@pytest.mark.parametrize("way_in", ["session", "bearer"])
def test_a_revoked_reader_loses_the_discussion_within_the_window_without_a_sync(
    make_discussion: Callable[[bool], Discussion], people: dict[str, str], way_in: str
) -> None:
    """In the browser, Graph is asked with the reader's own token; a bearer caller who never
    signed in has none, and the app reads the item's permissions itself."""
    discussion = make_discussion(way_in == "session")
    reader = discussion.session if way_in == "session" else discussion.bearer
    assert set(discussion.statuses(reader).values()) == {200}  # Graph said yes: remembered
    assert discussion.replayed_rooms(reader) == {discussion.room_id}

    discussion.env.revoke_everyone_but(*discussion.document, people["author"])  # not synced
    discussion.clock.now += TTL - 1
    assert set(discussion.statuses(reader).values()) == {200}  # the remembered yes holds
    discussion.clock.now += 2
    assert discussion.statuses(reader) == dict.fromkeys(discussion.reads(), 404)
    assert discussion.replayed_rooms(reader) == set()
    # The author, still admitted by SharePoint, keeps it all.
    assert set(discussion.statuses(discussion.author).values()) == {200}


def test_lists_leave_out_a_document_whose_live_check_failed(
    discussion: Discussion, people: dict[str, str]
) -> None:
    reader = discussion.bearer

    def listed() -> dict[str, bool]:
        texts = {
            "notifications": reader.get("/api/v1/notifications"),
            "search": reader.get("/api/v1/search?q=escrow"),
            "chat search": reader.get("/api/v1/chat/search?q=escrow"),
            "tag": reader.get(f"/api/v1/tags/{TAG}"),
            "rooms": reader.get("/api/v1/rooms"),
        }
        return {name: SAID in r.get_data(as_text=True) or discussion.document[1]
                in r.get_data(as_text=True) for name, r in texts.items()}  # fmt: skip

    assert listed() == dict.fromkeys(listed(), True)
    discussion.env.revoke_everyone_but(*discussion.document, people["author"])  # not synced
    discussion.clock.now += TTL + 1
    assert listed() == dict.fromkeys(listed(), True)  # lists do not ask Graph themselves...
    assert reader.get(discussion.base + "/comments").status_code == 404
    assert listed() == dict.fromkeys(listed(), False)  # ...but the refusal is remembered
    discussion.clock.now += TTL + 1
    assert listed() == dict.fromkeys(listed(), True)  # and forgotten with the window


def test_a_person_disabled_in_entra_is_signed_out_within_the_window(
    discussion: Discussion,
) -> None:
    env, reader_id = discussion.env, discussion.reader_id
    assert discussion.session.get("/api/v1/me").status_code == 200
    assert discussion.bearer.get("/api/v1/me").status_code == 200
    env.control("PATCH", f"/users/{reader_id}", {"account_enabled": False})  # no people sync
    discussion.clock.now += TTL - 1
    assert discussion.bearer.get("/api/v1/me").status_code == 200  # remembered for the window
    discussion.clock.now += 2
    refused = discussion.bearer.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["message"] == (
        "The token's user cannot use Plaza (unknown or disabled)."
    )
    assert discussion.session.get("/api/v1/me").status_code == 401
    assert discussion.browser.get("/").headers["Location"] == "/signin?next=%2F"
    # The session is over: enabling the account again does not bring it back.
    env.control("PATCH", f"/users/{reader_id}", {"account_enabled": True})
    discussion.clock.now += TTL + 1
    assert discussion.session.get("/api/v1/me").status_code == 401
    assert discussion.bearer.get("/api/v1/me").status_code == 200
