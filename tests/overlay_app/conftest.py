"""Shared fixtures for the web app: a synced tenant, the app, and real sign-in.

- `plaza_env` (session): its own emulator (seed 7) and a data dir where a first sync (people,
  then every site's documents) has run. Treat its emulator as read-only; `fresh_plaza_env`
  gives a new emulator + synced data dir for a test that changes the tenant.
- `people`: UPNs by part played: "author" and "reader" (members who can open `document`),
  "outsider" (a member who cannot), "guest" (an external user, who cannot either), "disabled"
  (an account disabled in Entra), "admin" (a member of the admin group, none of the others).
- `document`: (drive_id, item_id) of a file the author and reader can open, the others not.
- `make_app(**settings)` / `app`: create_app on a per-test data dir (a copy of the synced
  index, a fresh overlay.db and auth.db); `clock` is the sessions' clock (`clock.advance(s)`).
- `client`: a Flask test client; `sign_in(client, upn)` signs in through the emulator's real
  sign-in page (GET /signin, the authorize page with requests, POST login + password, then
  /auth/callback with the code and state) and returns the callback's response.
- `api(who)`: JSON calls; `who` a UPN (a real bearer token for Plaza's API from the emulator)
  or a signed-in test client (its cookie, plus X-CSRF-Token on writes).
- `resync(app, people=True, documents=False)`: syncs the emulator into that app's index.
- `env.control(method, path, body)`: the emulator's control API; `env.revoke_everyone_but(...)`
  leaves one person able to open an item (in the emulator; a resync brings it to Plaza).
- `csrf_token(client)`: the session's CSRF token, read from a page's <meta name="csrf-token">.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from overlay_app import create_app, db
from sync.db import open_index
from sync.engine import Connector, sync_documents, sync_people
from sync.targets import DocumentTarget
from tests.overlay_app.plaza_env import PlazaEnv, start_plaza_env
from tests.postgres import backend_is_postgres, index_at


@pytest.fixture(scope="session", autouse=True)
def _stores_backend(request: pytest.FixtureRequest) -> None:
    """With PLAZA_TEST_BACKEND=postgres, the cluster holding both stores (tests/postgres.py)."""
    if backend_is_postgres():
        request.getfixturevalue("postgres_cluster")


@pytest.fixture(scope="session")
def plaza_env(emulator_state: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlazaEnv]:
    env = start_plaza_env(emulator_state, tmp_path_factory.mktemp("plaza-synced"))
    yield env
    env.handle.stop()


@pytest.fixture
def fresh_plaza_env(emulator_state: Path, tmp_path: Path) -> Iterator[PlazaEnv]:
    env = start_plaza_env(emulator_state, tmp_path / "fresh-synced")
    yield env
    env.handle.stop()


# -- who and what --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def people(plaza_env: PlazaEnv) -> dict[str, str]:
    return dict(plaza_env.people)


@pytest.fixture(scope="session")
def document(plaza_env: PlazaEnv) -> tuple[str, str]:
    return plaza_env.document


# -- the app -------------------------------------------------------------------------------


class Clock:
    """The sessions' clock: real time plus however far a test has travelled."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_app(
    plaza_env: PlazaEnv, tmp_path: Path, clock: Clock, request: pytest.FixtureRequest
) -> Callable[..., Flask]:
    """create_app on a fresh data dir holding a copy of the synced index (settings override).
    PLAZA_TEST_BACKEND=postgres: the social store and the sessions (auth.db's tables, in schema
    plaza_auth) in a fresh PostgreSQL database instead."""
    made = 0

    def make(env: PlazaEnv | None = None, **overrides: Any) -> Flask:
        nonlocal made
        made += 1
        source = env or plaza_env
        data_dir = tmp_path / f"plaza-{made}"
        source.copy_index(data_dir)
        overrides.setdefault("extra", {"testing": True, "clock": clock})
        return app_on_backend(source, data_dir, request, **overrides)

    return make


def app_on_backend(
    env: PlazaEnv, data_dir: Path, request: pytest.FixtureRequest, **overrides: Any
) -> Flask:
    """create_app over `data_dir` (holding a copy of the synced index: env.copy_index) on the
    tests' backend. On PostgreSQL both stores live in that copy's database, closed and
    dropped when `request`'s scope ends (a module's, for a module-scoped fixture)."""
    settings = env.settings(data_dir, **overrides)
    app = create_app(settings)
    app.extensions["plaza.test_env"] = env
    if settings.get("database_url"):
        drop_when_done(request, settings, data_dir)
        request.addfinalizer(lambda: db.close(app))
    return app


def drop_when_done(request: pytest.FixtureRequest, settings: dict[str, Any], data_dir: Path):
    """On PostgreSQL, drops the database `env.settings(data_dir)` made for the test's stores
    when `request`'s scope ends (not one the test brought itself)."""
    url = settings.get("database_url")
    if url and backend_is_postgres() and url == index_at(data_dir / "index.db"):
        cluster = request.getfixturevalue("postgres_cluster")
        request.addfinalizer(lambda: drop_database(cluster, url))


def drop_database(cluster: Any, url: str) -> None:
    """Drops a test's database once its app is closed: hundreds of copies left to the end of
    the session cost gigabytes of disk and minutes to delete."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def resync(app: Flask, people: bool = True, documents: bool = False) -> None:
    """Runs a sync from the app's emulator into the app's own index."""
    env: PlazaEnv = app.extensions["plaza.test_env"]
    env.sync(app.extensions["plaza.settings"].data_dir, people=people, documents=documents)


@pytest.fixture(name="resync")
def resync_fixture() -> Callable[..., None]:
    return resync


# -- signing in ----------------------------------------------------------------------------

CREDENTIALS_FORM = re.compile(r'<form method="post" action="([^"]+)" class="credentials">')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def sign_in(client: FlaskClient, upn: str, next_url: str | None = None):
    """Signs `upn` in through the emulator's sign-in page; the /auth/callback response."""
    app: Flask = client.application
    env: PlazaEnv = app.extensions["plaza.test_env"]
    start = client.get("/signin", query_string={"next": next_url} if next_url else None)
    assert start.status_code == 302, start.status_code
    authorize_url = start.headers["Location"]
    with env.handle.session() as browser:
        page = browser.get(authorize_url, timeout=30)
        assert page.status_code == 200, page.text
        action = html.unescape(CREDENTIALS_FORM.search(page.text).group(1))
        posted = browser.post(
            env.handle.base_url + action,
            data={"login": upn, "password": env.info["password"]},
            allow_redirects=False,
            timeout=30,
        )
    assert posted.status_code == 302, posted.text
    back = urlsplit(posted.headers["Location"])
    public_url = app.extensions["plaza.settings"].public_url
    assert f"{back.scheme}://{back.netloc}" == public_url, back
    return client.get(f"{back.path}?{back.query}")


@pytest.fixture(name="sign_in")
def sign_in_fixture() -> Callable[..., Any]:
    return sign_in


def csrf_token(client: FlaskClient) -> str | None:
    """The session's CSRF token as pages carry it (None when no CSRF layer is installed)."""
    page = client.get("/signout")
    found = CSRF_META.search(page.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else None


@pytest.fixture(name="csrf_token")
def csrf_token_fixture() -> Callable[[FlaskClient], str | None]:
    return csrf_token


class Api:
    """JSON calls to /api/v1 as one person: by bearer token, or by a signed-in client."""

    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token
        self._csrf: str | None = None

    def _headers(self, method: str, headers: dict[str, str] | None) -> dict[str, str]:
        sent = dict(headers or {})
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        elif method != "GET":
            if self._csrf is None:
                self._csrf = csrf_token(self.client) or ""
            sent.setdefault("X-CSRF-Token", self._csrf)
        return sent

    def call(self, method: str, path: str, json: Any = None, headers=None, **kwargs):
        return self.client.open(
            path, method=method, json=json, headers=self._headers(method, headers), **kwargs
        )

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs):
        return self.call("POST", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs):
        return self.call("PUT", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs):
        return self.call("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.call("DELETE", path, **kwargs)


@pytest.fixture
def api(app: Flask) -> Callable[..., Api]:
    """`api(upn)` or `api(client)`; `api(upn, other_app)` for an app made with make_app."""
    tokens: dict[tuple[str, int], str] = {}

    def for_whom(who: str | FlaskClient, on: Flask | None = None) -> Api:
        if isinstance(who, FlaskClient):
            return Api(who)
        target = on or app
        env: PlazaEnv = target.extensions["plaza.test_env"]
        if (who, id(env)) not in tokens:
            tokens[(who, id(env))] = env.handle.token("api", user=who)
        return Api(target.test_client(), tokens[(who, id(env))])

    return for_whom


# -- a SQLite deployment, whatever the backend ---------------------------------------------


@pytest.fixture(scope="session")
def sqlite_synced_index(plaza_env: PlazaEnv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """plaza_env's tenant synced into an index.db file even when PLAZA_TEST_BACKEND=postgres
    (on SQLite: plaza_env's own), for tests of a SQLite deployment (its files, a move from
    them to PostgreSQL). Read it or copy it (`copy_sqlite_index`); never write it."""
    if not backend_is_postgres():
        return plaza_env.data_dir / "index.db"
    path = tmp_path_factory.mktemp("plaza-sqlite-synced") / "index.db"
    index = open_index(path)
    try:
        connector = Connector.from_env(plaza_env.connector_env)
        sync_people(index, connector)
        sync_documents(index, connector, DocumentTarget(all_sites=True))
    finally:
        index.close()
    return path


def copy_sqlite_index(source: Path, data_dir: Path) -> Path:
    """The index.db file `source` copied whole into `data_dir` (sqlite3's backup API)."""
    import sqlite3

    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / "index.db"
    reading, writing = sqlite3.connect(source), sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        reading.close()
        writing.close()
    return target


@pytest.fixture
def make_sqlite_app(
    plaza_env: PlazaEnv, sqlite_synced_index: Path, tmp_path: Path, clock: Clock
) -> Callable[..., Flask]:
    """make_app on SQLite files whatever the backend: a data dir of its own holding a copy
    of `sqlite_synced_index`, where overlay.db and auth.db are made."""
    made = 0

    def make(**overrides: Any) -> Flask:
        nonlocal made
        made += 1
        data_dir = tmp_path / f"plaza-sqlite-{made}"
        copy_sqlite_index(sqlite_synced_index, data_dir)
        overrides.setdefault("extra", {"testing": True, "clock": clock})
        app = create_app(plaza_env.settings(data_dir, database_url="", **overrides))
        app.extensions["plaza.test_env"] = plaza_env
        return app

    return make
