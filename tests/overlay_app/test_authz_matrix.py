"""The authorisation matrix: every route of the app, as five people.

Roles: the author of the discussion and another person ("reader") who can both open the
document, a member who cannot ("outsider"), an external guest who cannot, and nobody signed in.
Every (method, rule) of app.url_map has a case here (a test fails on a route without one); each
case names the status each role gets. For those without access:
- anything derived from the document answers 404, the same answer (status, headers, body) as
  for a document or comment that does not exist;
- the document's title and the discussion's words appear in no body and no header;
- no write lands (checked on the rows at the end).
Signed out, pages redirect to sign-in and the API answers 401.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from overlay_app import create_app
from tests.overlay_app.conftest import Api, PlazaEnv, csrf_token, sign_in

SIGNED_OUT, GUEST, OUTSIDER, READER, AUTHOR = "signed_out", "guest", "outsider", "reader", "author"
ROLES = (SIGNED_OUT, GUEST, OUTSIDER, READER, AUTHOR)  # no-access roles first: their writes
NO_ACCESS = (SIGNED_OUT, GUEST, OUTSIDER)  # must find the world as the others left it
TAG = "matrix-tag"
SAID = (
    "Matrix opening remark about the indemnity cap",
    "Matrix reply: the cap should be doubled",
    "Matrix mention for the reader",
)
MISSING_ITEM = "01MISSINGMISSINGMISSINGMISSINGMISS"
MISSING_COMMENT = str(uuid.UUID(int=7))
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


def _api(app: Flask, token: str | None) -> Api:
    return Api(app.test_client(), token)


@pytest.fixture(scope="module")
def world(
    plaza_env: PlazaEnv,
    people: dict[str, str],
    document: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> World:
    data_dir: Path = tmp_path_factory.mktemp("authz-matrix")
    plaza_env.copy_index(data_dir)
    app = create_app(plaza_env.settings(data_dir, writes_per_minute=10_000))
    app.extensions["plaza.test_env"] = plaza_env
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
    """The author comments, the reader replies, the author mentions the reader, likes, tags."""
    drive_id, item_id = document
    tenant = world.env.tenant
    item = tenant.item(drive_id, item_id)
    folder = tenant.item(drive_id, item.parent_id)
    site = tenant.site_of(drive_id)
    base = f"/api/v1/documents/{drive_id}/{item_id}"
    author, reader = world.apis[AUTHOR], world.apis[READER]
    first = author.post(base + "/comments", json={"body": SAID[0]})
    assert first.status_code == 201, first.get_json()
    reply = reader.post(base + "/comments", json={"body": SAID[1], "parent_id": first.json["id"]})
    assert reply.status_code == 201, reply.get_json()
    mention = f"@[{world.upn[READER]}]({world.oid[READER]}) {SAID[2]}"
    assert author.post(base + "/comments", json={"body": mention}).status_code == 201
    assert author.put(base + "/like").status_code == 200
    assert reader.put(f"/api/v1/comments/{first.json['id']}/like").status_code == 200
    assert author.post(base + "/tags", json={"tag": TAG}).status_code == 201
    world.ids.update(
        d=drive_id,
        i=item_id,
        c=first.json["id"],
        r=reply.json["id"],
        tag=TAG,
        site=site.id,
        folder=folder.id,
        author=world.oid[AUTHOR],
        q=" ".join(re.findall(r"[A-Za-z]{4,}", item.name)[:2]),
    )
    world.secrets = (item.name, *SAID)


# -- the cases -------------------------------------------------------------------------------

# A form posted with no session meets the CSRF check before sign-in: 400 "the form expired"
# (nothing written, nothing shown), where a GET redirects to sign-in.
FORM_SIGNED_OUT = 400
DOC_READ = {SIGNED_OUT: 401, GUEST: 404, OUTSIDER: 404, READER: 200, AUTHOR: 200}
DOC_FORM = {SIGNED_OUT: FORM_SIGNED_OUT, GUEST: 404, OUTSIDER: 404, READER: 303, AUTHOR: 303}
TAG_FORM = {**DOC_FORM, READER: 302, AUTHOR: 302}  # tags.py redirects with 302, the rest 303
DOC_PAGE = {SIGNED_OUT: 302, GUEST: 404, OUTSIDER: 404, READER: 200, AUTHOR: 200}
OPEN_API = {SIGNED_OUT: 401, GUEST: 200, OUTSIDER: 200, READER: 200, AUTHOR: 200}
OPEN_PAGE = {SIGNED_OUT: 302, GUEST: 200, OUTSIDER: 200, READER: 200, AUTHOR: 200}
PUBLIC = dict.fromkeys(ROLES, 200)


def _with(base: dict[str, int], **changes: int) -> dict[str, int]:
    return {**base, **changes}


@dataclass(frozen=True)
class Case:
    """One route called one way. `url` is formatted with the world's ids (and `fresh`'s)."""

    method: str
    rule: str
    url: str
    expect: dict[str, int]  # role -> status; "oracle" cases fill it from the emulator
    body: dict[str, Any] | None = None  # JSON under /api, else form fields
    fresh: str | None = None  # "comment" or "tag": made anew before each role's call
    derived: bool = True  # derived from the document: no-access answers equal missing ones
    own_session: bool = False  # the call ends the session: use a throwaway sign-in
    oracle: str | None = None  # "site" / "drive" / "folder": expected status from the emulator

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"


DOC = "/documents/{d}/{i}"
API_DOC = "/api/v1/documents/{d}/{i}"
CASES = [
    # documents and their discussion, API
    Case("GET", "/api/v1/documents/<drive_id>/<item_id>", API_DOC, DOC_READ),
    Case("GET", "/api/v1/documents/<drive_id>/<item_id>/comments", API_DOC + "/comments", DOC_READ),
    Case(
        "POST",
        "/api/v1/documents/<drive_id>/<item_id>/comments",
        API_DOC + "/comments",
        _with(DOC_READ, reader=201, author=201),
        body={"body": "Matrix new remark", "parent_id": "{c}"},
    ),
    Case("GET", "/api/v1/documents/<drive_id>/<item_id>/likes", API_DOC + "/likes", DOC_READ),
    Case("PUT", "/api/v1/documents/<drive_id>/<item_id>/like", API_DOC + "/like", DOC_READ),
    Case("DELETE", "/api/v1/documents/<drive_id>/<item_id>/like", API_DOC + "/like", DOC_READ),
    Case("GET", "/api/v1/documents/<drive_id>/<item_id>/tags", API_DOC + "/tags", DOC_READ),
    Case(
        "POST",
        "/api/v1/documents/<drive_id>/<item_id>/tags",
        API_DOC + "/tags",
        _with(DOC_READ, reader=201, author=200),
        body={"tag": "matrix-second"},
    ),
    Case(
        "DELETE",
        "/api/v1/documents/<drive_id>/<item_id>/tags/<tag>",
        API_DOC + "/tags/{fresh}",
        _with(DOC_READ, reader=204, author=204),
        fresh="tag",
    ),
    Case("GET", "/api/v1/comments/<comment_id>", "/api/v1/comments/{c}", DOC_READ),
    Case(
        "PATCH",
        "/api/v1/comments/<comment_id>",
        "/api/v1/comments/{fresh}",
        _with(DOC_READ, reader=403),
        body={"body": "Matrix edited remark"},
        fresh="comment",
    ),
    Case(
        "DELETE",
        "/api/v1/comments/<comment_id>",
        "/api/v1/comments/{fresh}",
        _with(DOC_READ, reader=403, author=204),
        fresh="comment",
    ),
    Case("PUT", "/api/v1/comments/<comment_id>/like", "/api/v1/comments/{c}/like", DOC_READ),
    Case("DELETE", "/api/v1/comments/<comment_id>/like", "/api/v1/comments/{r}/like", DOC_READ),
    Case("GET", "/api/v1/comments/<comment_id>/likes", "/api/v1/comments/{c}/likes", DOC_READ),
    Case(
        "GET",
        "/api/v1/mentions/suggest",
        "/api/v1/mentions/suggest?drive_id={d}&item_id={i}&q=a",
        DOC_READ,
    ),
    # documents and their discussion, pages and forms
    Case("GET", "/documents/<drive_id>/<item_id>", DOC, DOC_PAGE),
    Case(
        "POST",
        "/documents/<drive_id>/<item_id>/comments",
        DOC + "/comments",
        DOC_FORM,
        body={"body": "Matrix form remark"},
    ),
    Case("POST", "/documents/<drive_id>/<item_id>/like", DOC + "/like", DOC_FORM, {"liked": "1"}),
    Case("POST", "/documents/<drive_id>/<item_id>/tags", DOC + "/tags", TAG_FORM, {"tag": TAG}),
    Case(
        "POST",
        "/documents/<drive_id>/<item_id>/tags/<tag>/delete",
        DOC + "/tags/{fresh}/delete",
        TAG_FORM,
        fresh="tag",
    ),
    Case(
        "POST",
        "/comments/<comment_id>/edit",
        "/comments/{fresh}/edit",
        DOC_FORM,
        {"body": "Matrix form edit"},
        fresh="comment",
    ),
    Case(
        "POST",
        "/comments/<comment_id>/delete",
        "/comments/{fresh}/delete",
        DOC_FORM,
        None,
        fresh="comment",
    ),
    Case("POST", "/comments/<comment_id>/like", "/comments/{c}/like", DOC_FORM, {"liked": "1"}),
    # browsing: who sees the site, library and folder comes from the emulator's own model
    Case("GET", "/sites/<site_id>", "/sites/{site}", DOC_PAGE, oracle="site"),
    Case("GET", "/drives/<drive_id>", "/drives/{d}", DOC_PAGE, oracle="drive"),
    Case(
        "GET",
        "/drives/<drive_id>/items/<item_id>",
        "/drives/{d}/items/{folder}",
        DOC_PAGE,
        oracle="folder",
    ),
    Case(
        "GET",
        "/api/v1/drives/<drive_id>/items/<item_id>/children",
        "/api/v1/drives/{d}/items/{folder}/children",
        DOC_READ,
        oracle="folder",
    ),
    # everyone signed in: trimmed lists
    Case("GET", "/", "/", OPEN_PAGE, derived=False),
    Case("GET", "/search", "/search?q={q}", OPEN_PAGE, derived=False),
    Case("GET", "/api/v1/search", "/api/v1/search?q={q}", OPEN_API, derived=False),
    Case("GET", "/tags/<tag>", "/tags/{tag}", OPEN_PAGE, derived=False),
    Case("GET", "/api/v1/tags/<tag>", "/api/v1/tags/{tag}", OPEN_API, derived=False),
    Case("GET", "/api/v1/sites", "/api/v1/sites", OPEN_API, derived=False),
    Case("GET", "/people", "/people?q=a", OPEN_PAGE, derived=False),
    Case("GET", "/people/<person_id>", "/people/{author}", OPEN_PAGE, derived=False),
    Case("GET", "/api/v1/people", "/api/v1/people?q=a", OPEN_API, derived=False),
    Case("GET", "/api/v1/people/<person_id>", "/api/v1/people/{author}", OPEN_API, derived=False),
    Case(
        "GET",
        "/api/v1/people/<person_id>/documents",
        "/api/v1/people/{author}/documents",
        OPEN_API,
        derived=False,
    ),
    Case("GET", "/notifications", "/notifications", OPEN_PAGE, derived=False),
    Case(
        "POST",
        "/notifications/read",
        "/notifications/read",
        _with(dict.fromkeys(ROLES, 303), signed_out=FORM_SIGNED_OUT),
        {"all": "1"},
        derived=False,
    ),
    Case("GET", "/api/v1/notifications", "/api/v1/notifications", OPEN_API, derived=False),
    Case(
        "POST",
        "/api/v1/notifications/read",
        "/api/v1/notifications/read",
        OPEN_API,
        {"all": True},
        derived=False,
    ),
    Case("GET", "/api/v1/me", "/api/v1/me", OPEN_API, derived=False),
    # public: sign-in, sign-out, the API's description, static files
    Case("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", PUBLIC, derived=False),
    Case("GET", "/static/<path:filename>", "/static/plaza.css", PUBLIC, derived=False),
    Case("GET", "/signin", "/signin?next=/search", dict.fromkeys(ROLES, 302), derived=False),
    Case(
        "GET",
        "/auth/callback",
        "/auth/callback?state=forged&code=forged",
        dict.fromkeys(ROLES, 400),
        derived=False,
    ),
    Case("GET", "/signout", "/signout", PUBLIC, derived=False),
    Case(
        "POST",
        "/signout",
        "/signout",
        _with(dict.fromkeys(ROLES, 302), signed_out=FORM_SIGNED_OUT),
        derived=False,
        own_session=True,
    ),
]


# -- calling a case --------------------------------------------------------------------------


def _fresh(world: World, kind: str | None) -> str:
    """A new comment by the author, or a new tag on the document, for a destructive case."""
    if kind is None:
        return ""
    base = f"/api/v1/documents/{world.ids['d']}/{world.ids['i']}"
    if kind == "comment":
        made = world.apis[AUTHOR].post(base + "/comments", json={"body": "Matrix throwaway"})
        assert made.status_code == 201
        return made.json["id"]
    tag = f"matrix-{uuid.uuid4().hex[:8]}"
    assert world.apis[AUTHOR].post(base + "/tags", json={"tag": tag}).status_code == 201
    return tag


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def call(world: World, case: Case, role: str, ids: dict[str, str]):
    """The response to `case` made by `role` with `ids` filled into its URL and body."""
    url, body = _fill(case.url, ids), _fill(case.body, ids)
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


def _missing_ids(ids: dict[str, str]) -> dict[str, str]:
    """The same ids with the document and comments replaced by ones that do not exist."""
    fresh_comment = ids["fresh"].count("-") == 4  # a comment id (a GUID), not a tag
    missing = {
        "i": MISSING_ITEM,
        "folder": MISSING_ITEM,
        "c": MISSING_COMMENT,
        "r": MISSING_COMMENT,
    }
    return {**ids, **missing, "fresh": MISSING_COMMENT if fresh_comment else ids["fresh"]}


def _comparable(response) -> tuple[int, dict[str, str], str]:
    headers = {
        name.lower(): NONCE.sub("nonce", value)
        for name, value in response.headers.items()
        if name.lower() not in VOLATILE_HEADERS
    }
    return response.status_code, headers, NONCE.sub("nonce", response.get_data(as_text=True))


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


def _leaks(world: World, response) -> list[str]:
    text = response.get_data(as_text=True)
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
        if role == SIGNED_OUT and response.status_code == 302 and case.rule != "/signin":
            location = response.headers["Location"]
            if not location.startswith("/signin?next="):
                problems.append(f"{role}: redirected to {location}, not to sign-in")
        if role in (GUEST, OUTSIDER) and case.derived and response.status_code == 404:
            twin = call(world, case, role, _missing_ids(ids))
            if _comparable(response) != _comparable(twin):
                problems.append(f"{role}: 404 differs from a missing document's 404")
            twin.close()
        response.close()
    assert problems == []


def test_no_write_by_those_without_access_landed(world: World) -> None:
    social = world.app.extensions["plaza.settings"].social_path
    conn = sqlite3.connect(social)
    try:
        for role in (GUEST, OUTSIDER):
            oid = world.oid[role]
            counts = [
                conn.execute(sql, [oid]).fetchone()[0]
                for sql in (
                    "SELECT count(*) FROM comments WHERE author_id = ?",
                    "SELECT count(*) FROM comment_likes WHERE person_id = ?",
                    "SELECT count(*) FROM document_likes WHERE person_id = ?",
                    "SELECT count(*) FROM tags WHERE added_by = ?",
                )
            ]
            assert counts == [0, 0, 0, 0], role
    finally:
        conn.close()


def test_the_secrets_are_what_readers_see(world: World) -> None:
    """The leak check's control: the words it looks for are on the reader's pages."""
    ids = world.ids
    page = world.pages[READER].get(f"/documents/{ids['d']}/{ids['i']}").get_data(as_text=True)
    listed = world.apis[READER].get(f"/api/v1/documents/{ids['d']}/{ids['i']}/comments")
    assert [secret for secret in world.secrets if secret not in page] == []
    assert [said for said in SAID if said not in listed.get_data(as_text=True)] == []
