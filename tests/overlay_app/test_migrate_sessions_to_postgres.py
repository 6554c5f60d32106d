"""`plaza migrate-to-postgres` and auth.db: the sign-ins and token caches of a SQLite
deployment copied into PostgreSQL's plaza_auth schema, verified, resumed after a stop, refused
over foreign data; and the people signed in before the move still signed in after it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from rich.console import Console

from overlay_app import db
from overlay_app.auth import views as auth
from plaza.migrate_pg import copy_index, run
from tests.overlay_app.test_sessions_nodes import same_browser_on, signed_in_on
from tests.postgres import PgCluster

QUIET = Console(quiet=True)
AUTH_TABLES = ["plaza_auth.sessions", "plaza_auth.token_caches"]


class Stop(Exception):
    """Raised after some batches: a copy killed half way."""


def signed_in_deployment(
    make_sqlite_app: Callable[..., Flask], sign_in: Callable, people: dict[str, str]
) -> tuple[Path, dict[str, str]]:
    """A SQLite deployment's data dir (its files whatever PLAZA_TEST_BACKEND says: the move
    starts from them) after two sign-ins: overlay.db's path, and each person's session cookie."""
    app = make_sqlite_app()
    cookies = {who: signed_in_on(app, sign_in, people[who])[1] for who in ("author", "reader")}
    path = app.extensions["plaza.settings"].social_path
    db.close(app)
    return path, cookies


def counts(url: str, tables: list[str]) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_people_signed_in_before_the_move_are_signed_in_after_it(
    make_app, make_sqlite_app, sign_in, people, plaza_env, postgres_url: str
) -> None:
    overlay, cookies = signed_in_deployment(make_sqlite_app, sign_in, people)
    shown = Console(record=True, width=200)
    assert run(overlay, postgres_url, batch_size=1, console=shown) == 0
    report = shown.export_text()
    for table in AUTH_TABLES:
        assert table in report
    assert report.splitlines()[-1].startswith("all ") and "verified equal" in report
    assert counts(postgres_url, AUTH_TABLES) == {
        "plaza_auth.sessions": 2,
        "plaza_auth.token_caches": 2,
    }

    node = make_app(database_url=postgres_url)
    for who, cookie in cookies.items():
        me = same_browser_on(node, cookie).get("/api/v1/me")
        assert me.status_code == 200
        assert me.get_json()["id"] == plaza_env.tenant.user(people[who]).id
    with node.test_request_context("/"):  # the token cache decrypts and serves Graph
        reader = auth.load_person(plaza_env.tenant.user(people["reader"]).id)
        assert auth.delegated_graph_token(reader) is not None


def test_a_stopped_copy_of_auth_db_resumes_without_duplicates(
    make_sqlite_app, sign_in, people, postgres_cluster: PgCluster
) -> None:
    overlay, _ = signed_in_deployment(make_sqlite_app, sign_in, people)
    url = postgres_cluster.new_database(migrated=False)

    def stop_in_sessions(table: str, rows: int) -> None:
        if table == "plaza_auth.sessions":
            raise Stop(table)

    with pytest.raises(Stop):
        run(overlay, url, batch_size=1, console=QUIET, after_batch=stop_in_sessions)
    assert counts(url, AUTH_TABLES) == {"plaza_auth.sessions": 1, "plaza_auth.token_caches": 0}
    assert run(overlay, url, batch_size=1, console=QUIET) == 0
    assert counts(url, AUTH_TABLES) == {"plaza_auth.sessions": 2, "plaza_auth.token_caches": 2}
    with psycopg.connect(url) as conn:
        progress = conn.execute(
            "SELECT table_name, rows_copied, done FROM plaza_auth.plaza_copy_progress ORDER BY 1"
        ).fetchall()
    assert progress == [("sessions", 2, 1), ("token_caches", 2, 1)]


def test_a_session_changed_after_the_copy_fails_the_verification(
    make_sqlite_app, sign_in, people, postgres_url: str
) -> None:
    overlay, _ = signed_in_deployment(make_sqlite_app, sign_in, people)
    assert run(overlay, postgres_url, console=QUIET) == 0
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE plaza_auth.sessions SET last_seen = last_seen + 1")
    shown = Console(record=True, width=200)
    assert run(overlay, postgres_url, console=shown) == 1
    assert shown.export_text().splitlines()[-1] == "differs: plaza_auth.sessions"


def test_sessions_already_in_postgresql_are_refused(
    make_app, make_sqlite_app, sign_in, people, postgres_cluster: PgCluster, capsys
) -> None:
    overlay, _ = signed_in_deployment(make_sqlite_app, sign_in, people)
    url = postgres_cluster.new_database()
    assert all(table.matches for table in copy_index(overlay.with_name("index.db"), url))
    node = make_app(database_url=url)  # a node already serving from PostgreSQL
    signed_in_on(node, sign_in, people["author"])
    with pytest.raises(SystemExit) as stopped:
        run(overlay, url, console=QUIET)
    assert stopped.value.code == 1
    assert capsys.readouterr().err == (
        "Error: refusing: target table plaza_auth.sessions already holds 1 row(s) not copied"
        " from this store; use an empty database\n"
    )
    assert counts(url, ["comments", "plaza_auth.token_caches"]) == {
        "comments": 0,
        "plaza_auth.token_caches": 1,
    }


def test_an_auth_db_of_a_newer_plaza_is_refused_before_anything_is_written(
    make_sqlite_app, sign_in, people, postgres_url: str, capsys
) -> None:
    overlay, _ = signed_in_deployment(make_sqlite_app, sign_in, people)
    with sqlite3.connect(overlay.with_name("auth.db")) as auth_db:
        auth_db.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('plaza.auth', 'm999_future', '2030-01-01')"
        )
    auth_db.close()
    with pytest.raises(SystemExit):
        run(overlay, postgres_url, console=QUIET)
    assert capsys.readouterr().err == "Error: auth.db was written by a newer Plaza (m999_future)\n"
    with psycopg.connect(postgres_url) as conn:
        schemas = conn.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema IN ('public', 'plaza_auth')"
        ).fetchone()[0]
    assert schemas == 0
