"""Document search's trimming and matching on either engine (PLAZA_TEST_BACKEND), and what
only PostgreSQL has: its tsquery forms and their use of the GIN index items_search.

The index is test_search.py's: Ann sees the Tax library but its Private folder (the auditors'),
a tombstone ("Acme old report") and an item whose permissions are not read yet ("Acme waiting
report"); Bob, an auditor, also sees the Private folder and the Audit library.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace

import pytest

from sync import access, pg_schema, search_estimate, search_pg, search_rank
from sync.search import SearchFilters, _Caps, fts_query, matching_names
from sync.visibility import can_view, principals_param
from tests.postgres import backend_is_postgres
from tests.sync.conftest import insert_rows
from tests.sync.test_search import TAX_DOCS, build_index, ids

ANNS_ACME = ["acme", "budget", "resume", "q3", "script", "minutes"]


@pytest.fixture
def index(index_location):
    db = build_index(index_location)
    yield db
    db.close()


@pytest.mark.parametrize("text", ["acme", "report", "rep", "clients", "tax", "audit", "note"])
def test_a_person_finds_only_what_they_may_open(index, text: str) -> None:
    for person in ("ann", "bob"):
        principals = access.principal_set(index, person)
        page = access.search(index, person, text, per_page=100)
        assert page.total == len(page.hits)
        assert all(can_view(index, principals, hit.drive_id, hit.item_id) for hit in page.hits)
    assert access.search(index, "nobody", text).total == 0


def test_a_hidden_documents_title_never_matches(index) -> None:
    assert ids(access.search(index, "ann", "secret")) == []
    assert ids(access.search(index, "bob", "secret")) == ["secret"]
    # The Audit library's report, also by its site's title
    assert ids(access.search(index, "ann", "audit")) == []
    assert ids(access.search(index, "bob", "audit")) == ["audit", "a-root"]
    assert ids(access.search(index, "ann", "acme")) == ANNS_ACME
    assert access.search(index, "ann", "acme").total == 6


def test_archived_and_unread_items_never_match(index) -> None:
    # The tombstone's acl (inherited from the root) still admits both; search shows only
    # live documents, as on SQLite. Unread permissions admit nobody.
    for person in ("ann", "bob"):
        assert ids(access.search(index, person, "old")) == []
        assert ids(access.search(index, person, "waiting")) == []


@pytest.mark.parametrize("text", ["resume", "RESUME", "Résumé", "resu", "RÉS", "résumé acme"])
def test_accents_and_case_are_ignored(index, text: str) -> None:
    assert ids(access.search(index, "ann", text)) == ["resume"]


def test_a_phrase_lies_within_one_column(index) -> None:
    # A chunk of several words is a phrase. The folder "Acme" (its name) in the site "Tax"
    # (its site title) under /Clients (its path): no phrase runs from one column into the next.
    assert ids(access.search(index, "ann", "acme-tax")) == []
    assert ids(access.search(index, "ann", "tax/clients")) == []
    assert ids(access.search(index, "ann", "clients/acme")) == ["acme", "budget", "minutes", "q3"]
    assert ids(access.search(index, "ann", "acme-q3-rep")) == ["q3"]


# Names with punctuation and letters beyond ASCII, and what SQLite's FTS5 finds for a word.
PUNCTUATED = ["Ann\u2019s plan.docx", "Budget—2024.xlsx", "«Projet» final.docx", "file№5.txt",
              "1,000 items.txt", "C++ guide.txt", "naïve café.txt", "日本語テスト.txt",
              "x²y.txt"]  # fmt: skip
FOUND = {"s": "0", "plan": "0", "2024": "1", "projet": "2", "final": "2", "5": "3", "000": "4",
         "c": "5 6", "naive cafe": "6", "日本語": "7", "x": "1 8", "ann-s": "0"}  # fmt: skip
# Letters that PostgreSQL's unaccent folds and FTS5's remove_diacritics keeps: the one place
# where the engines differ (PostgreSQL finds more; the word as written is found on both).
FOLDED = ["Straße.txt", "Łódź.pdf", "Œuvre.pdf", "Ærø.txt", "ﬁnance.txt"]
FOLDED_FOUND = {"strasse": "0", "straße": "0", "lodz": "1", "łódź": "1", "oeuvre": "2",
                "aero": "3", "ærø": "3", "finance": "4", "ﬁnance": "4"}  # fmt: skip
ON_BOTH = {"straße", "łódź", "ærø", "ﬁnance"}


def add_files(db, names: list[str]) -> None:
    insert_rows(
        db,
        "items",
        ({"drive_id": TAX_DOCS, "item_id": f"p{n}", "parent_id": "t-root", "name": name,
          "path": f"/{name}", "site_id": "localhost,1,1", "site_title": "Tax",
          "perms_state": "inherited", "acl_item_id": "t-root"}
         for n, name in enumerate(names)),
    )  # fmt: skip


def found(db, text: str) -> list[str]:
    hits = access.search(db, "ann", text, per_page=100).hits
    return sorted(hit.item_id for hit in hits if re.fullmatch(r"p\d+", hit.item_id))


def test_punctuation_beyond_ascii_splits_words_as_in_fts5(index) -> None:
    add_files(index, PUNCTUATED)
    for text, expected in FOUND.items():
        assert found(index, text) == [f"p{n}" for n in expected.split()], text


def test_letters_folded_differently_by_the_engines(index) -> None:
    add_files(index, FOLDED)
    for text, expected in FOLDED_FOUND.items():
        on_this_engine = backend_is_postgres() or text in ON_BOTH
        assert found(index, text) == ([f"p{expected}"] if on_this_engine else []), text


def test_every_separator_splits_words_in_fts5() -> None:
    fts = sqlite3.connect(":memory:")
    fts.execute("CREATE VIRTUAL TABLE f USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    fts.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'row')")
    bounds = re.findall(r"\\u([0-9a-f]{4})(?:-\\u([0-9a-f]{4}))?", pg_schema.SEPARATORS)
    assert len(bounds) == 27
    for first, last in bounds:
        for code in range(int(first, 16), int(last or first, 16) + 1):
            fts.execute("DELETE FROM f")
            fts.execute("INSERT INTO f VALUES (?)", [f"a{chr(code)}b"])
            assert fts.execute("SELECT term FROM v").fetchall() == [("a",), ("b",)], hex(code)


def test_matching_names_marks_the_given_live_documents(index) -> None:
    keys = [(TAX_DOCS, "q3"), (TAX_DOCS, "old"), (TAX_DOCS, "budget")]
    rows = matching_names(index, fts_query("acme rep"), keys, "[", "]")
    assert rows == [
        (
            TAX_DOCS,
            "q3",
            "Acme Q3 report.docx",
            "/Clients/Acme/Acme Q3 report.docx",
            "Tax",
            "[Acme] Q3 [report].docx",
            "/Clients/[Acme]/[Acme] Q3 [report].docx",
        )
    ]


def test_filters_and_pages_past_the_end(index) -> None:
    page = access.search(index, "ann", "acme", SearchFilters(file_type="DOCX"), page=3)
    assert (ids(page), page.total, page.pages) == ([], 2, 1)


# -- PostgreSQL only (a cluster of its own whatever the backend) -----------------------------


def test_tsquery_text_mirrors_the_fts5_expression() -> None:
    assert search_pg.tsquery_text('"acme" "rep" *') == "'acme' & 'rep':*"
    assert search_pg.tsquery_text('"Acme" """Q3""" "rep"') == "'Acme' & 'Q3' & 'rep'"
    assert search_pg.tsquery_text('"acme q3" *') == (
        "(('acme':A <-> 'q3':*A) | ('acme':B <-> 'q3':*B) | ('acme':C <-> 'q3':*C))"
    )
    assert search_pg.tsquery_text(fts_query("it's a-b ()")) == (
        "(('it':A <-> 's':A) | ('it':B <-> 's':B) | ('it':C <-> 's':C))"
        " & (('a':A <-> 'b':*A) | ('a':B <-> 'b':*B) | ('a':C <-> 'b':*C))"
    )


@pytest.fixture(scope="module")
def large_pg_index(request: pytest.FixtureRequest):
    """The index on PostgreSQL with 5,000 more files that Ann sees, analysed."""
    db = build_index(request.getfixturevalue("postgres_cluster").new_database())
    insert_rows(
        db,
        "items",
        ({"drive_id": TAX_DOCS, "item_id": f"f{n}", "parent_id": "t-root",
          "name": f"File {n} {'zebra' if n % 1000 == 0 else 'plain'}.txt",
          "path": f"/File {n}.txt", "site_id": "localhost,1,1", "site_title": "Tax",
          "perms_state": "inherited", "acl_item_id": "t-root"}
         for n in range(5_000)),
    )  # fmt: skip
    db.execute("VACUUM ANALYZE")  # GIN's pending list merged: the planner costs the index as it is
    yield db
    db.close()


@pytest.mark.parametrize("form", ["few", "window"])
def test_every_form_finds_matches_through_the_gin_index(large_pg_index, form: str) -> None:
    conditions, params = SearchFilters(site_id="localhost,1,1").sql()
    sql = search_pg.form_sql(form, conditions)
    params |= {"tsquery": "'zebra'", "principals": '["everyone"]', "cap": 11, "seen_cap": 1_000}
    plan = "\n".join(row[0] for row in large_pg_index.execute(f"EXPLAIN {sql}", params))
    assert "items_search" in plan, plan
    assert "Seq Scan on items" not in plan, plan


def test_search_on_a_larger_index(large_pg_index) -> None:
    page = access.search(large_pg_index, "ann", "zebra")
    assert (ids(page), page.total) == (["f0", "f1000", "f2000", "f3000", "f4000"], 5)
    assert page.hits[0].name_html == "File 0 <mark>zebra</mark>.txt"
    assert ids(access.search(large_pg_index, "bob", "zebr", per_page=2, page=3)) == ["f4000"]


@pytest.mark.parametrize("person", ["ann", "bob"])
@pytest.mark.parametrize("text", ["zebra", "plain", "fil", "acme rep", "tax"])
def test_every_start_ranks_the_same_rows(large_pg_index, person: str, text: str) -> None:
    # The few form and the window from either start (sync/search.py's _ranked_pg picks by
    # cost): each gives every visible match, or with a cap the newest of them.
    principals = access.principal_set(large_pg_index, person)
    match, terms, filters = fts_query(text), search_rank.query_terms(text), SearchFilters().sql()

    def ranked(form: str, cap: int, seen_cap: int = -1) -> tuple[list, int] | None:
        found = search_pg.ranked(
            large_pg_index, principals, match, terms, form, filters, cap, 10**6, seen_cap
        )
        return found and found[:2]

    every = ranked("few", 10_001)
    assert every is not None and every[1] > 0
    assert ranked("window", 10_001) == ranked("window", 10_001, 10**9) == every
    newest = sorted(rowid for rowid, _ in every[0])[-3:]
    capped = ranked("window", 3)
    assert capped == ranked("window", 3, 10**9)
    assert (sorted(rowid for rowid, _ in capped[0]), capped[1]) == (newest, min(every[1], 3))


def test_the_few_form_gives_up_past_its_cap(large_pg_index) -> None:
    # "zebra" is in 5 items: the few form ranks them under a cap of 6, not of 5 (it gives up,
    # None, whoever may see them: nobody, here).
    def few(person: str, cap: int) -> tuple[list, int] | None:
        principals = access.principal_set(large_pg_index, person)
        match, filters = fts_query("zebra"), SearchFilters().sql()
        found = search_pg.ranked(large_pg_index, principals, match, "[]", "few", filters, cap, 2)
        if found is not None:  # with the rows of every visible match, as page_rows reads them
            assert found[2] == {
                r[0]: r for r in search_pg.page_rows(large_pg_index, list(found[2]))
            }
        return found and found[:2]

    first = large_pg_index.execute(
        "SELECT rowid FROM items WHERE item_id IN ('f0', 'f1000') ORDER BY rowid"
    ).fetchall()
    assert few("ann", 6) == ([(rowid, 0.0) for (rowid,) in first], 5)
    assert few("ann", 5) is None
    assert few("nobody", 6) == ([], 0)
    assert few("nobody", 5) is None


def window_plan(db, principals: frozenset[str], seen_cap: int) -> str:
    sql = search_pg.form_sql("window", "")
    params = {"tsquery": "'plain':*", "cap": 10_001, "seen_cap": seen_cap}
    rows = db.execute(f"EXPLAIN (ANALYZE) {sql}", params | principals_param(principals))
    return "\n".join(row[0] for row in rows)


def test_the_window_starts_from_the_fewer_rows(large_pg_index) -> None:
    # Ann sees about 5,030 items; "plain" is in 4,995 of them, "zebra" in 5.
    db, ann = large_pg_index, access.principal_set(large_pg_index, "ann")
    caps = _Caps(few=100, rank_cap=10_000, visible_set_cap=100_000)
    plain, zebra = (search_pg.match_estimate(db, fts_query(t)) for t in ("plain", "zebra"))
    assert (caps.may_be_few(zebra), caps.may_be_few(plain)) == (True, False)
    assert caps.seen_cap(plain) == 3 * plain and plain > 4_000
    assert replace(caps, visible_set_cap=1_000).seen_cap(plain) == 1_000
    assert replace(caps, few=2).seen_cap(zebra) == 15  # 3 times the 5 matches
    # Seen at most seen_cap: the matches are never read (nor the other way round).
    matches_first = re.compile(r"CTE Scan on matched m .*never executed")
    assert matches_first.search(window_plan(db, ann, caps.seen_cap(plain)))
    assert not matches_first.search(window_plan(db, ann, 1_000))


@pytest.mark.parametrize(
    "text", ["zebra", "plain", "pla", "file", "tax", "acme rep", "file 10", "Résumé", "nothing"]
)
def test_the_estimate_from_cached_statistics_is_the_planners(large_pg_index, text: str) -> None:
    search_estimate.forget()
    match = fts_query(text)
    cached = search_pg.match_estimate(large_pg_index, match)
    assert cached == search_pg.planner_estimate(large_pg_index, match)


def test_a_search_reads_the_statistics_once(large_pg_index) -> None:
    # Two statements for a few matches: the principal set and the few form (its page
    # carried); the statistics only for the first search of the process (and minute).
    search_estimate.forget()
    statements: list[str] = []
    large_pg_index.conn.set_trace_callback(statements.append)
    try:
        access.search(large_pg_index, "ann", "zebra")
        first = len(statements)
        access.search(large_pg_index, "ann", "zebr")
    finally:
        large_pg_index.conn.set_trace_callback(None)
    assert (first, len(statements) - first) == (3, 2), statements
    assert not any(sql.lstrip().startswith("EXPLAIN") for sql in statements)
