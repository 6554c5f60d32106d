"""`plaza migrate-to-postgres`: overlay.db written through the real app and API, copied into
a throwaway PostgreSQL database, verified, resumed after a stop, refused over foreign data,
and then served by the web app on PostgreSQL."""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from flask import Flask
from rich.console import Console

from overlay_app import db
from overlay_app.pg import conn as pg_conn
from overlay_app.pg import copy as pg_copy
from plaza.cli import main
from plaza.migrate_pg import run
from sync.leader import LEADER_FILE, FileElection
from tests.overlay_app.api_calls import answer, comments_path, posted, sent
from tests.postgres import PgCluster, sqlite_only

pytestmark = sqlite_only("the copy's source is overlay.db")

QUIET = Console(quiet=True)


class Stop(Exception):
    """Raised after some batches: a copy killed half way."""


def store_written_through_the_api(
    make_app: Callable[..., Flask], api, people: dict[str, str], document: tuple[str, str]
) -> Path:
    """overlay.db of an app used for a while: comments and a reply, likes, tags, a chat room
    with messages, follows, and the notifications these made."""
    app = make_app()
    author, reader = api(people["author"], on=app), api(people["reader"], on=app)
    first = posted(author, document, "First draft is up")
    posted(reader, document, "Looks good, one question", parent_id=first["id"])
    posted(reader, document, "Second thought")
    answer(reader.put(f"/api/v1/comments/{first['id']}/like"))
    answer(reader.put("/api/v1/documents/{}/{}/like".format(*document)))
    for tag in ("budget", "q3"):
        answer(
            author.post("/api/v1/documents/{}/{}/tags".format(*document), json={"tag": tag}), 201
        )
    room = answer(author.post("/api/v1/documents/{}/{}/room".format(*document)), 201)["id"]
    answer(reader.post("/api/v1/documents/{}/{}/room".format(*document)))
    for n in range(5):
        sent(author if n % 2 else reader, room, f"message {n}")
    answer(reader.put("/api/v1/follows", json={"kind": "document", "target": "/".join(document)}))
    path = app.extensions["plaza.settings"].social_path
    db.close(app)
    return path


def counts(url: str, tables: list[str]) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def sqlite_counts(path: Path, tables: list[str]) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


INDEX_TABLES = ["sites", "drives", "items", "acl", "item_holders", "people", "memberships"]
SOME = ["comments", "comment_likes", "document_likes", "tags", "messages", "follows"]


def test_a_full_copy_verifies_equal_and_the_app_serves_it_from_postgresql(
    make_app, api, people, document, postgres_url: str
) -> None:
    source = store_written_through_the_api(make_app, api, people, document)
    assert run(source, postgres_url, batch_size=2, console=QUIET) == 0

    expected = {
        "comments": 3,
        "comment_likes": 1,
        "document_likes": 1,
        "tags": 2,
        "messages": 5,
        "follows": 1,
    }
    assert counts(postgres_url, SOME) == expected == sqlite_counts(source, SOME)
    notifications = sqlite_counts(source, ["notifications"])["notifications"]
    assert notifications > 0
    assert counts(postgres_url, ["notifications"])["notifications"] == notifications
    # the index came along, into the schema plaza_index (the reader's access below needs it)
    index_path = source.parent / "index.db"
    on_sqlite = sqlite_counts(index_path, INDEX_TABLES)
    assert on_sqlite["items"] > 0 and on_sqlite["people"] > 0
    assert counts(postgres_url, [f"plaza_index.{t}" for t in INDEX_TABLES]) == {
        f"plaza_index.{t}": n for t, n in on_sqlite.items()
    }

    on_pg = make_app(database_url=postgres_url)
    reader = api(people["reader"], on=on_pg)
    thread = answer(reader.get(comments_path(document)))
    shown = sorted((c["body"], [r["body"] for r in c["replies"]]) for c in thread["comments"])
    assert shown == [
        ("First draft is up", ["Looks good, one question"]),
        ("Second thought", []),
    ]
    room = answer(reader.post("/api/v1/documents/{}/{}/room".format(*document)))["id"]
    after = sent(reader, room, "after the move")  # a fresh id: the identity was advanced
    assert after["body"] == "after the move"
    assert counts(postgres_url, ["messages"]) == {"messages": 6}


def test_a_stopped_copy_resumes_without_duplicates(
    make_app, api, people, document, postgres_cluster: PgCluster
) -> None:
    source = store_written_through_the_api(make_app, api, people, document)
    whole, stopped = postgres_cluster.new_database(False), postgres_cluster.new_database(False)
    assert run(source, whole, batch_size=2, console=QUIET) == 0

    committed: list[tuple[str, int]] = []

    def stop_after_four(table: str, rows: int) -> None:
        committed.append((table, rows))
        if len(committed) == 4:
            raise Stop(table)

    with pytest.raises(Stop):
        run(source, stopped, batch_size=2, console=QUIET, after_batch=stop_after_four)
    with psycopg.connect(stopped) as conn:
        progress = conn.execute(
            "SELECT table_name, rows_copied FROM plaza_copy_progress WHERE rows_copied > 0"
        ).fetchall()
    kept: dict[str, int] = {}
    for table, rows in committed:  # the four batches committed before the stop, no more
        kept[table] = kept.get(table, 0) + rows
    assert dict(progress) == kept
    assert counts(stopped, list(kept)) == kept

    assert run(source, stopped, batch_size=2, console=QUIET) == 0
    assert counts(stopped, SOME) == counts(whole, SOME)
    assert _digests(whole) == _digests(stopped)
    with psycopg.connect(stopped) as conn:
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT id FROM comments GROUP BY id HAVING count(*) > 1) d"
        ).fetchone()[0]
    assert duplicates == 0


def _digests(url: str) -> dict[str, tuple[int, str]]:
    target = pg_conn.connect(url)
    try:
        found = {}
        for table in ("comments", "messages", "notifications", "tags", "rate_events"):
            described = pg_copy._describe(target, table)
            with target.transaction():
                found[table] = pg_copy.row_digest(pg_copy.target_rows(target, described))
        return found
    finally:
        target.close()


def test_a_target_holding_other_data_is_refused_and_left_as_it_was(
    make_app, api, people, document, postgres_cluster: PgCluster
) -> None:
    source = store_written_through_the_api(make_app, api, people, document)
    url = postgres_cluster.new_database()
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO comments (id, drive_id, item_id, author_id, body, body_html,"
            " created_at) VALUES ('x', 'd', 'i', 'p', 'b', '<p>b</p>', '2026-01-01')"
        )
    result = CliRunner().invoke(
        main, ["migrate-to-postgres", "--data-dir", str(source.parent), "--to", url]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: refusing: target table comments already holds 1 row(s) not copied from this"
        " store; use an empty database\n"
    )
    assert counts(url, ["comments", "tags", "messages"]) == {
        "comments": 1,
        "tags": 0,
        "messages": 0,
    }


def test_without_a_target_the_command_says_so(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PLAZA_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["migrate-to-postgres", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no PostgreSQL target: set PLAZA_DATABASE_URL or pass --to postgresql://...\n"
    )


def test_a_running_scheduler_is_refused(tmp_path: Path, postgres_url: str) -> None:
    election = FileElection(tmp_path / LEADER_FILE)
    assert election.try_lead()
    try:
        result = CliRunner().invoke(
            main, ["migrate-to-postgres", "--data-dir", str(tmp_path), "--to", postgres_url]
        )
    finally:
        election.close()
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: refusing: plaza scheduler (process {os.getpid()} on {socket.gethostname()})"
        f" is running on {tmp_path}; stop it and the web app first\n"
    )


def test_a_store_of_an_older_plaza_is_refused_before_anything_is_written(
    tmp_path: Path, postgres_url: str
) -> None:
    with sqlite3.connect(tmp_path / "overlay.db") as old:
        old.execute("CREATE TABLE _sqlite_migrations (migration_set, name, applied_at)")
        old.execute("INSERT INTO _sqlite_migrations VALUES ('plaza.social', 'm001_discussion', 0)")
    old.close()
    result = CliRunner().invoke(
        main, ["migrate-to-postgres", "--data-dir", str(tmp_path), "--to", postgres_url]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: overlay.db lacks migrations m002_rate_events, ")
    assert result.stderr.endswith(": start this Plaza on it once first\n")
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
    assert tables == 0


def test_a_row_changed_after_the_copy_fails_the_verification(
    make_app, api, people, document, postgres_url: str
) -> None:
    source = store_written_through_the_api(make_app, api, people, document)
    assert run(source, postgres_url, console=QUIET) == 0
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE tags SET added_at = '2020-01-01T00:00:00.000Z' WHERE tag = 'q3'")
    shown = Console(record=True, width=200)
    assert run(source, postgres_url, console=shown) == 1
    assert shown.export_text().splitlines()[-1] == "differs: tags"
