"""The authorisation matrix: every route of the app, as five people.

Roles: the author of the discussion and another person ("reader") who can both open the
document, a member who cannot ("outsider"), an external guest who cannot, and nobody signed in.
Every (method, rule) of app.url_map has a case in authz_cases.py (a test fails on a route
without one); each case names the status each role gets. For those without access:
- anything derived from the document answers 404, the same answer (status, headers, body) as
  for a document or comment that does not exist;
- the document's title and the discussion's words appear in no body and no header;
- no write lands (checked on the rows at the end).
Signed out, pages (reads and form posts alike) redirect to sign-in and the API answers 401.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from overlay_app.db import open_social_store
from tests.overlay_app.authz_cases import (
    AUTHOR,
    CASES,
    GUEST,
    NO_ACCESS,
    OUTSIDER,
    READER,
    ROLES,
    SIGNED_OUT,
    TAG,
    Case,
)
from tests.overlay_app.conftest import Api, PlazaEnv, app_on_backend, csrf_token, sign_in

SAID = (
    "Matrix opening remark about the indemnity cap",
    "Matrix reply: the cap should be doubled",
    "Matrix mention for the reader",
)
CHAT = "Matrix chat: the closing date moved to Friday"
MISSING_ITEM = "01MISSINGMISSINGMISSINGMISSINGMISS"
MISSING_COMMENT = str(uuid.UUID(int=7))
MISSING_MESSAGE = "987654321"
NONCE = re.compile(r"nonce(-|=\")[A-Za-z0-9_\-]+")
VOLATILE_HEADERS = {"date", "content-security-policy", "set-cookie", "x-request-id"}


@dataclass
class World:
    """The app, the people's ways in, and the discussion the author and reader had."""

    app: Flask
    env: PlazaEnv
    upn: dict[str, str]
    oid: dict[str, str]
    pages: dict[str, FlaskClient]  # signed-in session per role (a bare client for signed_out)
    apis: dict[str, Api]  # bearer token per role (no token for signed_out)
    ids: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()

    @property
    def base(self) -> str:
        return f"/api/v1/documents/{self.ids['d']}/{self.ids['i']}"


def _api(app: Flask, token: str | None) -> Api:
    return Api(app.test_client(), token)


@pytest.fixture(scope="module")
def world(
    plaza_env: PlazaEnv,
    people: dict[str, str],
    document: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> World:
    data_dir: Path = tmp_path_factory.mktemp("authz-matrix")
    plaza_env.copy_index(data_dir)
    app = app_on_backend(plaza_env, data_dir, request, writes_per_minute=10_000)
    tenant = plaza_env.tenant
    upn = {role: people[role] for role in ROLES if role != SIGNED_OUT}
    oid = {role: tenant.user(u).id for role, u in upn.items()}
    pages = {SIGNED_OUT: app.test_client()}
    apis = {SIGNED_OUT: _api(app, None)}
    for role, name in upn.items():
        pages[role] = app.test_client()
        assert sign_in(pages[role], name).status_code == 302
        apis[role] = _api(app, plaza_env.handle.token("api", user=name))
    world = World(app, plaza_env, upn, oid, pages, apis)
    _discuss(world, document)
    return world


def _discuss(world: World, document: tuple[str, str]) -> None:
    """The author comments, the reader replies, the author mentions the reader, likes, tags,
    and opens the document's chat room with a message in it."""
    drive_id, item_id = document
    tenant = world.env.tenant
    item = tenant.item(drive_id, item_id)
    world.ids.update(d=drive_id, i=item_id, tag=TAG, author=world.oid[AUTHOR], css="plaza.css",
                     job="matrix-job", kind="comment",
                     site=tenant.site_of(drive_id).id, folder=item.parent_id,
                     reader_upn=world.upn[READER],
                     q=" ".join(re.findall(r"[A-Za-z]{4,}", item.name)[:2]))  # fmt: skip
    author, reader = world.apis[AUTHOR], world.apis[READER]
    first = author.post(world.base + "/comments", json={"body": SAID[0]})
    assert first.status_code == 201, first.get_json()
    reply = reader.post(
        world.base + "/comments", json={"body": SAID[1], "parent_id": first.json["id"]}
    )
    assert reply.status_code == 201, reply.get_json()
    mention = f"@[{world.upn[READER]}]({world.oid[READER]}) {SAID[2]}"
    assert author.post(world.base + "/comments", json={"body": mention}).status_code == 201
    assert author.put(world.base + "/like").status_code == 200
    assert reader.put(f"/api/v1/comments/{first.json['id']}/like").status_code == 200
    assert author.post(world.base + "/tags", json={"tag": TAG}).status_code == 201
    room = author.post(world.base + "/room")
    assert room.status_code == 201, room.get_json()
    said = author.post(f"/api/v1/rooms/{room.json['id']}/messages", json={"body": CHAT})
    assert said.status_code == 201, said.get_json()
    world.ids.update(c=first.json["id"], r=reply.json["id"], room=room.json["id"],
                     m=str(said.json["id"]))  # fmt: skip
    world.secrets = (item.name, *SAID, CHAT)


# -- calling a case --------------------------------------------------------------------------


def _fresh(world: World, kind: str | None) -> str:
    """Something new for a destructive case: the author's comment or chat message, a tag on
    the document, or a channel name."""
    author = world.apis[AUTHOR]
    if kind == "comment":
        made = author.post(world.base + "/comments", json={"body": "Matrix throwaway"})
        assert made.status_code == 201
        return made.json["id"]
    if kind == "message":
        made = author.post(f"/api/v1/rooms/{world.ids['room']}/messages", json={"body": "Bye"})
        assert made.status_code == 201
        return str(made.json["id"])
    if kind in ("tag", "name"):
        tag = f"matrix-{uuid.uuid4().hex[:8]}"
        if kind == "tag":
            assert author.post(world.base + "/tags", json={"tag": tag}).status_code == 201
        return tag
    return ""


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if callable(value):
        return value(ids)
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def call(world: World, case: Case, role: str, ids: dict[str, str]):
    """The response to `case` made by `role` with `ids` filled into its URL and body."""
    url, body = case.url(ids), _fill(case.body, ids)
    if case.rule.startswith("/api/"):
        return world.apis[role].call(case.method, url, json=body)
    client = world.pages[role]
    if case.own_session and role != SIGNED_OUT:
        client = world.app.test_client()
        sign_in(client, world.upn[role])
    if case.method == "GET":
        return client.get(url)
    form = dict(body or {})
    if role != SIGNED_OUT:
        form["csrf_token"] = csrf_token(client)
    return client.open(url, method=case.method, data=form)


def _missing_ids(case: Case, ids: dict[str, str]) -> dict[str, str]:
    """The same ids with the document, folder, comments, room and message replaced by ones
    that do not exist."""
    missing = {"i": MISSING_ITEM, "folder": MISSING_ITEM, "c": MISSING_COMMENT,
               "r": MISSING_COMMENT, "room": MISSING_COMMENT, "m": MISSING_MESSAGE}  # fmt: skip
    fresh = {"comment": MISSING_COMMENT, "message": MISSING_MESSAGE}.get(case.fresh or "")
    return {**ids, **missing, "fresh": fresh or ids["fresh"]}


def _comparable(response) -> tuple[int, dict[str, str], str]:
    headers = {
        name.lower(): NONCE.sub("nonce", value)
        for name, value in response.headers.items()
        if name.lower() not in VOLATILE_HEADERS
    }
    return response.status_code, headers, NONCE.sub("nonce", _text(response))


def _expected(world: World, case: Case, role: str) -> int:
    if case.oracle is None or role == SIGNED_OUT:
        return case.expect[role]
    tenant, d = world.env.tenant, world.ids["d"]
    visible = {key for key in tenant.visible_items(world.oid[role])}
    if case.oracle == "site":
        drives = {drive.id for drive in tenant.drives_of(world.ids["site"])}
        sees = any(drive_id in drives for drive_id, _ in visible)
    elif case.oracle == "drive":
        sees = any(drive_id == d for drive_id, _ in visible)
    else:
        folder = world.ids["folder"]
        sees = (d, folder) in visible or (
            folder == tenant.root(d).id and any(drive_id == d for drive_id, _ in visible)
        )
    return case.expect[READER] if sees else 404


def _text(response) -> str:
    """The body as text; a binary one (a photo) with its undecodable bytes replaced."""
    return response.get_data().decode("utf-8", "replace")


def _leaks(world: World, response) -> list[str]:
    text = _text(response)
    headers = " ".join(f"{name}: {value}" for name, value in response.headers.items())
    return [secret for secret in world.secrets if secret in text or secret in headers]


# -- the tests -------------------------------------------------------------------------------


def test_every_route_has_a_case(world: World) -> None:
    routes = {
        (method, rule.rule)
        for rule in world.app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(case.method, case.rule) for case in CASES}
    assert sorted(routes - covered) == [], "routes without a case in the matrix"
    assert sorted(covered - routes) == [], "cases for routes the app does not have"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_route(world: World, case: Case) -> None:
    problems: list[str] = []
    for role in ROLES:
        ids = {**world.ids, "fresh": _fresh(world, case.fresh)}
        response = call(world, case, role, ids)
        wanted = _expected(world, case, role)
        if response.status_code != wanted:
            problems.append(f"{role}: {response.status_code}, expected {wanted}")
        if role in NO_ACCESS:
            problems += [f"{role}: {secret!r} leaked" for secret in _leaks(world, response)]
        if role == SIGNED_OUT and response.status_code in (302, 303) and case.rule != "/signin":
            location = response.headers["Location"]
            if not location.startswith("/signin?next="):
                problems.append(f"{role}: redirected to {location}, not to sign-in")
        if role in (GUEST, OUTSIDER) and case.derived and response.status_code == 404:
            twin = call(world, case, role, _missing_ids(case, ids))
            if _comparable(response) != _comparable(twin):
                problems.append(f"{role}: 404 differs from a missing document's 404")
            twin.close()
        response.close()
    assert problems == []


def test_no_write_by_those_without_access_landed(world: World) -> None:
    checks = (
        "SELECT count(*) FROM comments WHERE author_id = :oid",
        "SELECT count(*) FROM comment_likes WHERE person_id = :oid",
        "SELECT count(*) FROM document_likes WHERE person_id = :oid",
        "SELECT count(*) FROM tags WHERE added_by = :oid",
        "SELECT count(*) FROM messages WHERE author_id = :oid AND room_id = :room",
        "SELECT count(*) FROM room_members WHERE person_id = :oid AND room_id = :room",
        "SELECT count(*) FROM read_markers WHERE person_id = :oid AND room_id = :room",
    )
    settings = world.app.extensions["plaza.settings"]
    conn = open_social_store(settings.data_dir, settings.database_url)
    try:
        for role in (GUEST, OUTSIDER):
            found = {"oid": world.oid[role], "room": world.ids["room"]}
            assert [conn.execute(sql, found).fetchone()[0] for sql in checks] == [0] * 7, role
    finally:
        conn.close()


def test_the_secrets_are_what_readers_see(world: World) -> None:
    """The leak check's control: the words it looks for are on the reader's pages."""
    ids = world.ids
    page = world.pages[READER].get(f"/documents/{ids['d']}/{ids['i']}").get_data(as_text=True)
    listed = world.apis[READER].get(f"/api/v1/documents/{ids['d']}/{ids['i']}/comments")
    assert [secret for secret in world.secrets if secret not in page] == []
    assert [said for said in SAID if said not in listed.get_data(as_text=True)] == []
