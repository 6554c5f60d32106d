"""What a request reuses, and what it must not keep: auth.db connections lent from the worker's
pool (never lent inside a transaction, never shared with a forked child), the principal set read
once per request (and afresh by the next one), and a comment's Markdown parsed once per write.

Counted from outside our code: SQL statements through sqlite3's trace callback (on
PostgreSQL, the index handle's set_trace_callback, which sync/pg.py shapes like it), and
markdown-it's own parse method.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
import sqlite_utils
from flask import Flask
from flask.testing import FlaskClient
from markdown_it import MarkdownIt

from overlay_app import access, db
from overlay_app.auth import sessions
from sync.db import open_index, transaction
from sync.trimming import principal_set

GROUPS_OF_PERSON = "FROM memberships AS m"  # in sync.trimming's principal set, nowhere else
VISIBLE_AMONG = "i.drive_id = k.value ->> 0"  # in access.filter_visible's query


def signed_in(app: Flask, sign_in: Callable, upn: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, upn).status_code == 302
    return client


def page_of(document: tuple[str, str]) -> str:
    return f"/documents/{document[0]}/{document[1]}"


@pytest.fixture
def lent_auth(app: Flask) -> list[tuple[sqlite_utils.Database, bool]]:
    """(the auth.db connection, whether it was inside a transaction) as each request began its
    view; registered before the app serves its first request."""
    seen: list[tuple[sqlite_utils.Database, bool]] = []

    @app.before_request
    def record() -> None:
        handle = sessions.store()
        seen.append((handle, handle.conn.in_transaction))

    return seen


@pytest.fixture
def index_statements(app: Flask) -> list[list[str]]:
    """The SQL that each request's views run on index.db, request by request."""
    statements: list[list[str]] = []

    @app.before_request
    def trace() -> None:
        statements.append([])
        db.index().conn.set_trace_callback(statements[-1].append)

    @app.teardown_request
    def untrace(_error: BaseException | None) -> None:
        db.index().conn.set_trace_callback(None)  # lent since trace(): given back after this

    return statements


# -- auth.db from the pool -----------------------------------------------------------------


def test_one_auth_connection_serves_request_after_request(
    app, lent_auth, sign_in, people, document
):
    reader = signed_in(app, sign_in, people["reader"])
    lent_auth.clear()
    for _ in range(3):
        assert reader.get(page_of(document)).status_code == 200
    assert len(lent_auth) == 3
    assert all(handle is lent_auth[0][0] for handle, _ in lent_auth)
    assert [in_transaction for _, in_transaction in lent_auth] == [False, False, False]


def test_a_transaction_left_open_is_rolled_back_before_the_connection_is_lent_again(
    app, lent_auth, caplog
):
    def forgets_to_commit() -> str:
        store = sessions.store()
        store.execute("BEGIN")
        store.execute(
            f"INSERT INTO {sessions.table('token_caches')} (person_id, cache, updated_at)"
            " VALUES ('nobody', ?, 0)",
            [b"\0"],
        )
        return "left open"

    forgets_to_commit.plaza_public = True  # type: ignore[attr-defined]
    app.add_url_rule("/test-only/forgets-to-commit", view_func=forgets_to_commit)
    client = app.test_client()
    assert client.get("/test-only/forgets-to-commit").get_data(as_text=True) == "left open"
    assert client.get("/test-only/forgets-to-commit").status_code == 200
    assert lent_auth[0][0] is lent_auth[1][0]
    assert [in_transaction for _, in_transaction in lent_auth] == [False, False]
    assert caplog.messages.count("a request ended inside a transaction; rolled back") == 2
    with app.app_context():
        kept = f"SELECT count(*) FROM {sessions.table('token_caches')}"
        assert tuple(sessions.store().execute(kept).fetchone()) == (0,)


def test_a_forked_worker_opens_its_own_auth_connection(
    app, lent_auth, sign_in, people, document, monkeypatch
):
    reader = signed_in(app, sign_in, people["reader"])
    assert reader.get(page_of(document)).status_code == 200
    parent_handle, parent_pid = lent_auth[-1][0], app.extensions["plaza.db_pools"]["pid"]
    monkeypatch.setattr(db.os, "getpid", lambda: parent_pid + 1)  # as in a forked child
    assert reader.get(page_of(document)).status_code == 200
    assert lent_auth[-1][0] is not parent_handle
    assert app.extensions["plaza.db_pools"]["pid"] == parent_pid + 1
    # The parent's connection was neither used nor closed by the child.
    kept = f"SELECT count(*) FROM {sessions.table('sessions', parent_handle)}"
    assert tuple(parent_handle.execute(kept).fetchone()) == (1,)
    parent_handle.close()


# -- the principal set -----------------------------------------------------------------------


def test_a_document_page_reads_the_principal_set_once(
    app, api, index_statements, sign_in, people, document
):
    """The page checks the document and trims the tag suggestions (one document is tagged):
    two consumers of the reader's principal set, one read of it."""
    tagged = api(people["author"]).post(
        f"/api/v1/documents/{document[0]}/{document[1]}/tags", json={"tag": "memo"}
    )
    assert tagged.status_code == 201
    reader = signed_in(app, sign_in, people["reader"])
    index_statements.clear()
    page = reader.get(page_of(document))
    assert page.status_code == 200
    assert "memo" in page.get_data(as_text=True)
    reads = [sql for sql in index_statements[0] if GROUPS_OF_PERSON in sql]
    assert len(reads) == 1


def test_a_document_page_reuses_the_tag_ranking_until_the_tags_change(
    app, api, index_statements, sign_in, people, document
):
    """Ranking the tag suggestions checks every tagged document at once (one more batch
    visibility query than the page's breadcrumbs need); the next page reuses the ranking, and
    a tag added meanwhile has it counted again."""
    author = api(people["author"])
    tags_url = f"/api/v1/documents/{document[0]}/{document[1]}/tags"
    assert author.post(tags_url, json={"tag": "memo"}).status_code == 201
    reader = signed_in(app, sign_in, people["reader"])
    index_statements.clear()
    assert reader.get(page_of(document)).status_code == 200
    assert reader.get(page_of(document)).status_code == 200
    assert author.post(tags_url, json={"tag": "draft"}).status_code == 201
    page = reader.get(page_of(document))
    assert page.status_code == 200
    assert "draft" in page.get_data(as_text=True)
    batches = [sum(VISIBLE_AMONG in sql for sql in index_statements[n]) for n in (0, 1, 3)]
    assert batches[0] == batches[1] + 1 == batches[2]


def test_a_folder_page_reads_the_principal_set_once(
    app, index_statements, sign_in, people, document
):
    """The page checks the library, the folder itself and the folders above it, and lists the
    folder's children trimmed: four consumers of the reader's principal set, one read of it."""
    index = open_index(db.index_location(app.extensions["plaza.settings"]))
    folder_id, name = index.execute(
        "SELECT parent_id, name FROM items WHERE drive_id = ? AND item_id = ?", list(document)
    ).fetchone()
    index.close()
    reader = signed_in(app, sign_in, people["reader"])
    index_statements.clear()
    page = reader.get(f"/drives/{document[0]}/items/{folder_id}")
    assert page.status_code == 200
    assert html.escape(name) in page.get_data(as_text=True)  # the listing ran, and admits it
    reads = [sql for sql in index_statements[0] if GROUPS_OF_PERSON in sql]
    assert len(reads) == 1


def test_the_principal_set_lives_one_request(app, people):
    """Read once per request, even if the index changes meanwhile; the next request reads it
    afresh; outside a request (the event pump, scripts) it is read every time."""
    index = open_index(db.index_location(app.extensions["plaza.settings"]))  # as a sync's
    reader = index.execute(
        "SELECT id FROM people WHERE lower(upn) = lower(?)", [people["reader"]]
    ).fetchone()[0]

    def set_groups(kept: bool) -> None:
        """Takes the reader out of every group (user id 'x' meanwhile), or back in."""
        old, new = ("x", reader) if kept else (reader, "x")
        with transaction(index) as conn:
            conn.execute("UPDATE memberships SET user_id = ? WHERE user_id = ?", [new, old])

    with app.test_request_context("/"):
        before = access.principals_of(reader)
        assert any(key.startswith("group:") for key in before)
        set_groups(kept=False)
        assert access.principals_of(reader) == before
    with app.test_request_context("/"):
        after = access.principals_of(reader)
    assert after == principal_set(index, reader)
    assert after < before and not any(key.startswith("group:") for key in after)
    set_groups(kept=True)
    with app.app_context():
        assert access.principals_of(reader) == before
        set_groups(kept=False)
        assert access.principals_of(reader) == after
    index.close()


# -- Markdown once per write -----------------------------------------------------------------


@pytest.fixture
def markdown_parses(monkeypatch) -> list[str]:
    """Every body markdown-it parses."""
    parsed: list[str] = []
    original = MarkdownIt.parse

    def counted(self, src, env=None):
        parsed.append(src)
        return original(self, src, env)

    monkeypatch.setattr(MarkdownIt, "parse", counted)
    return parsed


def test_a_comment_with_a_mention_is_parsed_once_per_write(
    app, api, people, document, markdown_parses, plaza_env
):
    author = api(people["author"])
    reader_id = plaza_env.tenant.user(people["reader"]).id
    body = f"See **this**, @[Reader]({reader_id})"
    created = author.post(
        f"/api/v1/documents/{document[0]}/{document[1]}/comments", json={"body": body}
    )
    assert created.status_code == 201, created.get_json()
    assert f'<a class="mention" href="/people/{reader_id}"' in created.json["bodyHtml"]
    assert markdown_parses == [body]
    markdown_parses.clear()
    edited = author.patch(f"/api/v1/comments/{created.json['id']}", json={"body": body + "!"})
    assert edited.status_code == 200, edited.get_json()
    assert markdown_parses == [body + "!"]
