"""Comment search on PostgreSQL (overlay_app/search_sql.py) finds and marks what FTS5 finds
and marks on SQLite: the same comments in both engines, the same queries, the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from overlay_app.db import open_social
from overlay_app.discussion import store, store_search
from overlay_app.pg import conn as pg_conn
from overlay_app.pg import schema as pg_schema
from overlay_app.search_sql import snippet, tsquery_text
from sync.search import fts_query

OPEN, CLOSE = "\ue000", "\ue001"
KEY = ("drive-1", "item-1")
BODIES = (
    "The Café budget needs a second look.",
    "Résumé of the foo-bar meeting: indemnity caps, again?",
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    " fifteen sixteen seventeen indemnity eighteen nineteen twenty twentyone twentytwo"
    " twentythree twentyfour twentyfive twentysix",
    "Budgets are due, with <b>markup</b> & more.",
)


def _filled(conn) -> None:
    for n, body in enumerate(BODIES, start=1):
        store.insert_comment(conn, f"c{n}", KEY, None, "ann", (body, body), "2026-01-0{n}")


@pytest.fixture
def engines(postgres_url: str, tmp_path: Path) -> Iterator[tuple]:
    lite = open_social(tmp_path / "overlay.db")
    pg = pg_conn.connect(postgres_url)
    pg_schema.migrate(pg)
    _filled(lite)
    _filled(pg)
    yield lite, pg
    pg.close()
    lite.close()


@pytest.mark.parametrize(
    ("typed", "rowids"),
    [
        ("cafe", [1]),  # accents removed, case folded
        ("CAFÉ", [1]),
        ("budget", [1, 4]),  # the last word is a prefix
        ("budget needs", [1]),  # every word, the earlier ones whole
        ("budge needs", []),
        ("resume foo-bar", [2]),
        ("foo-ba", [2]),
        ("indemnity", [2, 3]),
        ('it\'s "quoted"', []),
        ("markup", [4]),
    ],
)
def test_both_engines_find_the_same_comments(engines, typed: str, rowids: list[int]) -> None:
    match = fts_query(typed)
    for conn in engines:
        assert sorted(row[2] for row in store_search.matching_comments(conn, match)) == rowids


@pytest.mark.parametrize("typed", ["cafe", "indemnity", "budget", "foo-bar", "markup"])
def test_both_engines_cut_and_mark_the_same_snippets(engines, typed: str) -> None:
    match = fts_query(typed)
    lite, pg = engines
    found = sorted(row[2] for row in store_search.matching_comments(lite, match))
    assert dict(store_search.comment_snippets(pg, found, match, OPEN, CLOSE)) == dict(
        store_search.comment_snippets(lite, found, match, OPEN, CLOSE)
    )


def test_the_fts5_expression_becomes_the_same_tsquery() -> None:
    assert tsquery_text(fts_query('Café it\'s "x" foo-ba')) == (
        "'Café' & 'it''s' & '\"x\"' & 'foo-ba':*"
    )
    assert tsquery_text(fts_query("back\\slash")) == "'back\\\\slash':*"


def test_a_long_text_is_cut_around_its_matches_with_ellipses() -> None:
    words = [f"w{n}" for n in range(30)]
    words[20] = f"{OPEN}hit{CLOSE}"
    cut = snippet(" ".join(words) + ".", OPEN, CLOSE)
    assert cut == "…" + " ".join(words[13:29]) + "…"
    assert snippet(f"{OPEN}hit{CLOSE} " + " ".join(words[1:]) + ".", OPEN, CLOSE) == (
        f"{OPEN}hit{CLOSE} " + " ".join(words[1:16]) + "…"
    )
