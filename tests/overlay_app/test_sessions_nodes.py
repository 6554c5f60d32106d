"""Sessions and token caches shared by web nodes through PostgreSQL (schema plaza_auth): two
apps made by create_app on one database, as two nodes behind a load balancer, with real
sign-in through the emulator. And the token cache's one read-modify-write, on either engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from overlay_app import create_app, dialect
from overlay_app.admin import health
from overlay_app.auth import pg_schema, sessions
from overlay_app.auth import views as auth
from overlay_app.pg import conn as pg_conn
from sync.db import open_index
from tests.overlay_app.test_auth import cookie_value, session_rows, token_cache_blobs
from tests.postgres import PgCluster, database_with_index


@pytest.fixture
def two_nodes(
    make_app: Callable[..., Flask], postgres_cluster: PgCluster, plaza_env, tmp_path
) -> Callable:
    """`two_nodes(**settings)`: two apps on one fresh PostgreSQL database (the index in it)."""
    made = 0

    def make(**settings) -> tuple[Flask, Flask]:
        nonlocal made
        made += 1
        key = f"two-nodes-{tmp_path.name}-{made}"
        url = database_with_index(postgres_cluster, plaza_env.data_dir / "index.db", key)
        return make_app(database_url=url, **settings), make_app(database_url=url, **settings)

    return make


def signed_in_on(node: Flask, sign_in: Callable, upn: str) -> tuple[FlaskClient, str]:
    """A browser signed in through `node`; and its session cookie's value."""
    browser = node.test_client()
    answer = sign_in(browser, upn)
    assert answer.status_code == 302
    return browser, cookie_value(answer)


def same_browser_on(node: Flask, session_id: str) -> FlaskClient:
    """The browser's next request, sent by the load balancer to `node`."""
    browser = node.test_client()
    browser.set_cookie("plaza", session_id)
    return browser


def person_id(plaza_env, upn: str) -> str:
    return plaza_env.tenant.user(upn).id


# -- one history -----------------------------------------------------------------------------


def test_the_postgresql_history_mirrors_auth_db_name_for_name() -> None:
    sqlite_names = [m.name for m in sessions.MIGRATIONS._migrations]
    assert [name for name, _ in pg_schema.MIGRATIONS] == sqlite_names == ["m001_sessions"]


def test_migrating_twice_applies_nothing_the_second_time(postgres_url: str) -> None:
    handle = pg_conn.connect(postgres_url)
    try:
        assert pg_schema.migrate(handle) == ["m001_sessions"]
        assert pg_schema.migrate(handle) == []
        tables = handle.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'plaza_auth'"
            " ORDER BY 1"
        ).fetchall()
        assert [row[0] for row in tables] == ["plaza_migrations", "sessions", "token_caches"]
    finally:
        handle.close()


# -- two nodes -------------------------------------------------------------------------------


def test_signed_in_on_one_node_is_signed_in_on_the_other(two_nodes, sign_in, people, plaza_env):
    first, second = two_nodes()
    _, session_id = signed_in_on(first, sign_in, people["author"])
    me = same_browser_on(second, session_id).get("/api/v1/me")
    assert me.status_code == 200
    assert me.get_json()["id"] == person_id(plaza_env, people["author"])
    author = person_id(plaza_env, people["author"])
    assert session_rows(first) == session_rows(second) == [(author,)]
    # Neither node keeps a file of its own: both read plaza_auth.
    for node in (first, second):
        assert not node.extensions["plaza.settings"].auth_path.exists()


def test_sign_out_on_one_node_ends_the_session_on_the_other(two_nodes, sign_in, people, csrf_token):
    first, second = two_nodes()
    on_first, session_id = signed_in_on(first, sign_in, people["reader"])
    on_second = same_browser_on(second, session_id)
    assert on_second.get("/api/v1/me").status_code == 200
    token = csrf_token(on_second)
    assert (
        on_second.post("/signout", data={"csrf_token": token} if token else {}).status_code == 302
    )
    assert on_first.get("/api/v1/me").status_code == 401
    assert same_browser_on(first, session_id).get("/api/v1/me").status_code == 401
    assert session_rows(first) == [] and token_cache_blobs(first) == []


def test_expired_sessions_are_refused_by_every_node(two_nodes, clock, sign_in, people):
    first, second = two_nodes(session_idle_minutes=1)
    _, session_id = signed_in_on(first, sign_in, people["author"])
    clock.advance(50)
    assert same_browser_on(second, session_id).get("/api/v1/me").status_code == 200
    clock.advance(50)  # the second node's request kept it alive
    assert same_browser_on(first, session_id).get("/api/v1/me").status_code == 200
    clock.advance(61)
    assert same_browser_on(second, session_id).get("/api/v1/me").status_code == 401
    assert session_rows(first) == []
    assert same_browser_on(first, session_id).get("/api/v1/me").status_code == 401


def test_a_session_id_planted_before_sign_in_is_worthless_on_every_node(two_nodes, sign_in, people):
    first, second = two_nodes()
    before = cookie_value(first.test_client().get("/signin"))  # a session made on one node
    after = cookie_value(sign_in(same_browser_on(second, before), people["author"]))
    assert after != before
    assert same_browser_on(first, after).get("/api/v1/me").status_code == 200
    assert same_browser_on(first, before).get("/api/v1/me").status_code == 401
    assert same_browser_on(second, before).get("/api/v1/me").status_code == 401


def test_a_sign_in_on_one_node_sweeps_sessions_expired_on_another(
    two_nodes, clock, sign_in, people, plaza_env
):
    first, second = two_nodes(session_idle_minutes=1)
    signed_in_on(first, sign_in, people["author"])
    clock.advance(61)
    signed_in_on(second, sign_in, people["reader"])
    assert session_rows(first) == [(person_id(plaza_env, people["reader"]),)]


def test_the_absolute_timeout_holds_across_nodes(two_nodes, clock, sign_in, people):
    first, second = two_nodes(session_idle_minutes=60, session_max_hours=1)
    _, session_id = signed_in_on(first, sign_in, people["author"])
    clock.advance(59 * 60)
    assert same_browser_on(second, session_id).get("/api/v1/me").status_code == 200
    clock.advance(2 * 60)
    assert same_browser_on(second, session_id).get("/api/v1/me").status_code == 401
    assert session_rows(second) == []


def test_the_token_cache_signed_in_on_one_node_serves_the_other(
    two_nodes, sign_in, people, plaza_env
):
    first, second = two_nodes()
    signed_in_on(first, sign_in, people["reader"])
    with second.test_request_context("/"):
        person = auth.load_person(person_id(plaza_env, people["reader"]))
        token = auth.delegated_graph_token(person)
    assert token is not None
    with plaza_env.handle.session() as graph:
        me = graph.get(
            f"{plaza_env.info['graph_url']}/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    assert me.status_code == 200 and me.json()["id"] == person_id(plaza_env, people["reader"])


def test_a_refresh_on_one_node_is_kept_for_the_other(
    fresh_plaza_env, make_app, postgres_cluster, sign_in, people, tmp_path
):
    synced = fresh_plaza_env.data_dir / "index.db"
    url = database_with_index(postgres_cluster, synced, f"refresh-{tmp_path.name}")
    first = make_app(env=fresh_plaza_env, database_url=url)
    second = make_app(env=fresh_plaza_env, database_url=url)
    rule = {"kind": "token_lifetime", "seconds": 60, "count": 1}  # the sign-in's tokens: 1 min
    fresh_plaza_env.control("POST", "/faults", {"rules": [rule]})
    signed_in_on(first, sign_in, people["reader"])
    [(_, signed_in_cache)] = token_cache_blobs(first)
    reader = person_id(fresh_plaza_env, people["reader"])
    with second.test_request_context("/"):
        assert auth.delegated_graph_token(auth.load_person(reader)) is not None  # refreshed
    [(_, refreshed_cache)] = token_cache_blobs(first)
    assert refreshed_cache != signed_in_cache
    with first.test_request_context("/"):
        kept = sessions.load_token_cache(reader)
    assert kept is not None and kept.stored == refreshed_cache


# -- the token cache's read-modify-write, on either engine -----------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request, make_app: Callable[..., Flask]) -> tuple[Flask, Flask]:
    """Two apps sharing one sessions store: PostgreSQL, or one data dir's auth.db (SQLite
    files whatever the suite's backend)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_cluster").new_database()
        return make_app(database_url=url), make_app(database_url=url)
    first = request.getfixturevalue("make_sqlite_app")()
    settings = first.extensions["plaza.settings"]
    env = first.extensions["plaza.test_env"]
    second = env.settings(settings.data_dir, database_url="", extra=settings.extra)
    return first, create_app(second)


def refreshed(node: Flask, person: str, state: str, read: sessions.TokenCache) -> bool:
    with node.test_request_context("/"):
        return sessions.save_refreshed_token_cache(person, state, read)


def kept_state(node: Flask, person: str) -> str | None:
    with node.test_request_context("/"):
        kept = sessions.load_token_cache(person)
    return None if kept is None else kept.state


def test_of_two_refreshes_from_one_state_the_first_is_kept(nodes) -> None:
    first, second = nodes
    with first.test_request_context("/"):
        sessions.save_token_cache("p1", '{"signed": "in"}')
        read_by_first = sessions.load_token_cache("p1")
    with second.test_request_context("/"):
        read_by_second = sessions.load_token_cache("p1")
    assert read_by_first == read_by_second
    assert refreshed(first, "p1", '{"refreshed": "first"}', read_by_first) is True
    assert refreshed(second, "p1", '{"refreshed": "second"}', read_by_second) is False
    assert kept_state(second, "p1") == '{"refreshed": "first"}'


def test_a_refresh_never_overwrites_a_new_sign_in_nor_undoes_a_sign_out(nodes) -> None:
    first, second = nodes
    with first.test_request_context("/"):
        sessions.save_token_cache("p2", '{"signed": "in"}')
        before = sessions.load_token_cache("p2")
    with second.test_request_context("/"):
        sessions.save_token_cache("p2", '{"signed": "in again"}')
    assert refreshed(first, "p2", '{"refreshed": "old"}', before) is False
    assert kept_state(first, "p2") == '{"signed": "in again"}'
    with second.test_request_context("/"):
        again = sessions.load_token_cache("p2")
        sessions.forget_token_cache("p2")  # signed out
    assert refreshed(first, "p2", '{"refreshed": "late"}', again) is False
    assert kept_state(first, "p2") is None


def test_a_refresh_racing_another_on_postgresql_waits_and_is_dropped(two_nodes) -> None:
    """The second node's write blocks on the first's row lock, then finds the row changed:
    PostgreSQL re-checks `cache = ?` on the committed row, so the first refresh stays."""
    first, second = two_nodes()
    with first.test_request_context("/"):
        sessions.save_token_cache("p3", '{"signed": "in"}')
        read = sessions.load_token_cache("p3")
    outcome: list[bool] = []
    racing = threading.Thread(
        target=lambda: outcome.append(refreshed(second, "p3", '{"refreshed": "second"}', read))
    )
    with first.test_request_context("/"):
        handle = sessions.store()
        handle.execute("BEGIN")
        assert sessions.save_refreshed_token_cache("p3", '{"refreshed": "first"}', read)
        racing.start()
        _wait_for_a_lock_wait(first.extensions["plaza.settings"].database_url)
        handle.execute("COMMIT")
    racing.join(timeout=30)
    assert outcome == [False]
    assert kept_state(second, "p3") == '{"refreshed": "first"}'


def _wait_for_a_lock_wait(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as watcher:
        for _ in range(200):
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the second refresh never waited for the first")


def test_without_a_database_url_sessions_stay_in_auth_db(
    make_sqlite_app, sign_in, people, plaza_env
):
    app = make_sqlite_app()  # a SQLite deployment whatever the suite's backend
    signed_in_on(app, sign_in, people["author"])
    assert app.extensions["plaza.settings"].auth_path.is_file()
    with app.app_context():
        assert not dialect.is_postgres(sessions.store())
        assert sessions.table("sessions") == "sessions"
    assert session_rows(app) == [(person_id(plaza_env, people["author"]),)]


# -- health ----------------------------------------------------------------------------------


def test_health_sizes_the_sessions_store_in_postgresql(two_nodes, sign_in, people) -> None:
    first, _ = two_nodes()
    signed_in_on(first, sign_in, people["author"])
    settings = first.extensions["plaza.settings"]
    index = open_index(settings.database_url)
    try:
        shown = health.gather(index, settings.data_dir)["sizes"]["bytes"]
    finally:
        index.close()
    assert sorted(shown) == ["PostgreSQL plaza_auth", "PostgreSQL plaza_index", "PostgreSQL public"]
    assert all(size > 0 for size in shown.values())
