"""How many SQL statements the hot requests run, exactly, so that none creeps back.

On PostgreSQL each statement is a round trip (bench/README.md, "Overlay load on PostgreSQL:
where the time goes"): the count per request is what PostgreSQL pays beyond SQLite. Counted
on every store (index, social store, sessions) by tests/overlay_app/statement_trace.py. The
requests are those of bench/overlay_load.py: a signed-in reader's document page, a comment
POST through the JSON API (bearer token), and the reader's home page.

sqlite3's trace also reports what is no round trip: an `executemany` once per row, a
statement again at the start of each of its triggers, and FTS5's own statements ("-- "
lines, left out here: their number follows FTS5's segment merges). So the SQLite figures
are larger than the statements sent (a comment's insert is traced once per trigger, the
feed inbox's rows once each); on PostgreSQL each statement is traced once (an `executemany`
too, one pipeline).

Statements are not all round trips on PostgreSQL: the comment POST's transaction is pipelined
(sync/pg.PgHandle.transaction(pipelined=True)): BEGIN, the writer lock and the rate count go
out together and are one wait, the writes and COMMIT another. So its round trips are pinned
too (ROUND_TRIPS, counted from libpq's trace of the wire by statement_trace).

Before issue 17's work (main at 825d25a): page 24, POST 38 (PostgreSQL), home 26. Before the
POST read its feed's audience and levels outside the writer lock and pipelined its writes
(main at 27e760e): POST 24 (SQLite) and 19 (PostgreSQL, 19 round trips, 13 of them inside
the lock; now 12, 2 inside it). Before the feature switches and terms acceptances were held
per process on PostgreSQL (admin/held.py): page 18, POST 19 (12 round trips), home 23 there.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.overlay_app.conftest import Api
from tests.overlay_app.statement_trace import Statements, tally
from tests.postgres import backend_is_postgres

# request -> statements (SQLite, PostgreSQL)
EXPECTED = {
    "document page": (18, 17),
    "comment POST": (23, 17),
    "home page": (23, 22),
}
# request -> round trips to PostgreSQL
ROUND_TRIPS = {"document page": 17, "comment POST": 10, "home page": 22}


def counted(statements: list[str]) -> list[str]:
    """The statements that count on the tests' backend (see the module's docstring)."""
    return [sql for sql in statements if not sql.startswith("-- ")]


@pytest.fixture
def requests(app: Flask, api, sign_in, people, document) -> dict[str, Callable[[], object]]:
    """The three requests, on a document with comments, a like and a tag; the tracer is
    installed before the app's first request."""
    base = "/api/v1/documents/{}/{}".format(*document)
    author: Api = api(people["author"])
    fan: Api = api(people["reader"])
    for n in range(3):
        posted = author.post(base + "/comments", json={"body": f"note {n}"})
        assert posted.status_code == 201
    assert author.post(base + "/tags", json={"tag": "memo"}).status_code == 201
    assert fan.put(base + "/like").status_code == 200
    assert fan.put(f"/api/v1/comments/{posted.get_json()['id']}/like").status_code == 200
    reader = app.test_client()
    assert sign_in(reader, people["reader"]).status_code == 302

    def ok(response) -> None:
        assert response.status_code in (200, 201), response.status_code

    page = "/documents/{}/{}".format(*document)
    return {
        "document page": lambda: ok(reader.get(page)),
        "comment POST": lambda: ok(author.post(base + "/comments", json={"body": "again"})),
        "home page": lambda: ok(reader.get("/")),
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_statements_per_request(app: Flask, requests, name: str) -> None:
    statements = Statements(app)
    call = requests[name]
    for _ in range(2):  # caches filled (tag ranking, names, tokens)
        call()
    seen = counted(statements.of(call))
    expected = EXPECTED[name][1 if backend_is_postgres() else 0]
    assert len(seen) == expected, tally(seen)
    if backend_is_postgres():
        assert statements.round_trips == ROUND_TRIPS[name], tally(seen)
