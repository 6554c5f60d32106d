"""Trimmed full-text search on a small hand-built index: ranking, prefixes, snippets, paging,
filters, hostile input, and that hidden items never change a total, a page, a score, an order
or a snippet.

Ann is an ordinary member: she sees the Tax library through "everyone" on its root, except a
folder restricted to its owners, a tombstone and an item whose permissions are not read yet.
The Audit library grants only the auditors group (Bob): all hidden from Ann.
"""

from __future__ import annotations

import re

import pytest

from sync import access, search_rank
from sync.access import SearchFilters
from sync.db import open_index
from sync.search import fts_query, ranked_sql, search_documents
from tests.postgres import sqlite_only
from tests.sync.conftest import insert_rows

# Of the items, item_holders or acl tables (by their aliases).
FULL_SCAN = re.compile(r"SCAN (i|h|a|ih|items|acl|item_holders)\b")
TAX, AUDIT = "localhost,1,1", "localhost,2,2"
TAX_DOCS, AUDIT_DOCS = "b!tax", "b!audit"

EVERYONE_READS = [("everyone", "read"), ("group:auditors", "owner")]
AUDITORS_ONLY = [("group:auditors", "owner")]
# item id, parent, name (folders have no extension), modified_at, own acl (None = inherits;
# "pending" = not read yet)
TAX_ITEMS = [
    ("t-root", None, "", "2024-01-01T00:00:00Z", EVERYONE_READS),
    ("clients", "t-root", "Clients", "2024-01-02T00:00:00Z", None),
    ("acme", "clients", "Acme", "2024-01-03T00:00:00Z", None),
    ("q3", "acme", "Acme Q3 report.docx", "2024-03-10T09:30:00Z", None),
    ("budget", "acme", "Acme budget.xlsx", "2024-01-15T12:00:00Z", None),
    ("minutes", "acme", "Board minutes.docx", "2024-02-20T08:00:00Z", None),
    ("resume", "clients", "Résumé Acme.pdf", "2024-02-29T23:59:59Z", None),
    ("script", "clients", "<script>alert(1)</script> acme & co.txt", "2024-04-01T00:00:00Z", None),
    ("reports", "t-root", "Reports", "2024-01-04T00:00:00Z", None),
    ("quarterly", "reports", "Quarterly report.pdf", "2024-02-01T10:00:00Z", None),
    ("private", "t-root", "Private", "2024-01-05T00:00:00Z", AUDITORS_ONLY),
    ("secret", "private", "Acme secret report.docx", "2024-03-01T00:00:00Z", None),
    ("old", "clients", "Acme old report.docx", "2023-12-01T00:00:00Z", None),  # a tombstone
    ("waiting", "t-root", "Acme waiting report.docx", "2024-03-02T00:00:00Z", "pending"),
]
# Plain notes, whose names tie (the same length, in the same folder) but for their number.
TAX_ITEMS += [("archive", "t-root", "Archive", "2023-01-01T00:00:00Z", None)] + [
    (f"note-{n}", "archive", f"Note {n}.txt", "2023-01-01T00:00:00Z", None) for n in range(24)
]
AUDIT_ITEMS = [
    ("a-root", None, "", "2024-01-01T00:00:00Z", AUDITORS_ONLY),
    ("audit", "a-root", "Acme audit report.docx", "2024-03-03T00:00:00Z", None),
]


def add_library(db, drive_id, site_id, site_title, items) -> None:
    """Items with derived paths and acl holders, as the engine stores them."""
    paths, holders = {}, {}
    for item_id, parent, name, modified_at, own in items:
        paths[item_id] = "/" if parent is None else f"{paths[parent].rstrip('/')}/{name}"
        unique = isinstance(own, list)
        holders[item_id] = item_id if unique else None if own == "pending" else holders[parent]
        folder = "." not in name
        row = {"drive_id": drive_id, "item_id": item_id, "parent_id": parent, "name": name,
               "path": paths[item_id], "web_url": f"https://localhost/{drive_id}{paths[item_id]}",
               "is_folder": int(folder), "is_root": int(parent is None),
               "file_type": None if folder else name.rsplit(".", 1)[-1], "site_id": site_id,
               "site_title": site_title, "modified_at": modified_at, "modified_by_name": "Ann Lee",
               "perms_state": "ok" if unique else "inherited", "acl_item_id": holders[item_id],
               "deleted": int(item_id == "old")}  # fmt: skip
        insert_rows(db, "items", [row])
        insert_rows(
            db,
            "acl",
            ({"drive_id": drive_id, "item_id": item_id, "principal": principal, "role": role}
             for principal, role in (own if unique else [])),
        )  # fmt: skip


def build_index(location):
    """Ann's and Bob's index (module docstring) at `location`."""
    db = open_index(location)
    insert_rows(db, "sites", [{"id": TAX, "title": "Tax"}, {"id": AUDIT, "title": "Audit"}])
    add_drives(db, [(TAX_DOCS, TAX, "Documents"), (AUDIT_DOCS, AUDIT, "Documents")])
    insert_rows(
        db,
        "people",
        ({"id": name, "upn": f"{name}@firm.example", "display_name": name.title()}
         for name in ("ann", "bob")),
    )  # fmt: skip
    insert_rows(db, "groups", [{"id": "auditors", "display_name": "Auditors"}])
    insert_rows(db, "memberships", [{"user_id": "bob", "group_id": "auditors"}])
    add_library(db, TAX_DOCS, TAX, "Tax", TAX_ITEMS)
    add_library(db, AUDIT_DOCS, AUDIT, "Audit", AUDIT_ITEMS)
    return db


@pytest.fixture
def index(index_location):
    db = build_index(index_location)
    yield db
    db.close()


def add_drives(db, drives) -> None:
    insert_rows(db, "drives", ({"id": d, "site_id": s, "name": n} for d, s, n in drives))


def ids(page) -> list[str]:
    return [hit.item_id for hit in page.hits]


def test_ranks_name_matches_above_path_matches(index) -> None:
    page = access.search(index, "ann", "clients")
    assert ids(page) == ["clients", "acme", "resume", "budget", "minutes", "q3", "script"]
    assert page.total == 7
    # Below the folder named Clients, the paths that hold the word: the shorter the higher.
    scores = [18.7279, 4.4147, 3.9759, 3.7714, 3.7079, 3.6769, 3.2673]
    assert [round(hit.score, 4) for hit in page.hits] == scores


def test_shorter_names_rank_higher(index) -> None:
    page = access.search(index, "ann", "rep")
    assert ids(page) == ["reports", "quarterly", "q3"]
    assert [round(hit.score, 4) for hit in page.hits] == [9.3639, 7.779, 7.3043]


def test_whole_words_rank_above_prefixes(index) -> None:
    # "Reports" holds "report" only as a prefix; the two files hold the whole word.
    page = access.search(index, "ann", "report")
    assert ids(page) == ["q3", "quarterly", "reports"]
    assert [round(hit.score, 4) for hit in page.hits] == [14.6086, 14.3515, 9.3639]
    # When every match is a prefix, the order is the whole word's (scores halved).
    acm, acme = access.search(index, "ann", "acm"), access.search(index, "ann", "acme")
    assert [round(h.score * 2, 4) for h in acm.hits] == [round(h.score, 4) for h in acme.hits]


def test_equal_scores_go_by_name(index) -> None:
    # "Note 3.txt" and "Note 12.txt" both sit in /Archive: a shorter name, then by name.
    page = access.search(index, "ann", "note", per_page=12)
    expected = [f"note-{n}" for n in range(10)] + ["note-10", "note-11"]
    assert (ids(page), page.total) == (expected, 24)
    assert len({hit.score for hit in page.hits[:10]}) == 1


def test_hidden_items_change_nothing(index) -> None:
    # Bob also sees the private folder's secret and the Audit library; neither of them sees the
    # tombstone or the item whose permissions are unknown.
    bobs = access.search(index, "bob", "report")
    assert (ids(bobs), bobs.total) == (["q3", "audit", "quarterly", "secret", "reports"], 5)
    anns = access.search(index, "ann", "report")
    assert (ids(anns), anns.total) == (["q3", "quarterly", "reports"], 3)


# Ann sees two more files holding "acme" and "budget", one more of each word than the other.
BALANCED = [
    ("m-root", None, "", "2024-01-01T00:00:00Z", EVERYONE_READS),
    ("acme-twice", "m-root", "Acme acme budget.docx", "2024-04-01T00:00:00Z", None),
    ("budget-twice", "m-root", "Acme budget budget.docx", "2024-04-01T00:00:00Z", None),
]
# Hidden from Ann: names full of the words she searches for, whole and as longer words; and
# "budget" made commoner than "acme" (under bm25, the two files above then swapped places).
HIDDEN_HOLDERS = [("h-root", None, "", "2024-01-01T00:00:00Z", AUDITORS_ONLY)] + [
    (f"h-{n}", "h-root", name, "2024-05-01T00:00:00Z", None)
    for n, name in enumerate(
        ["Acme report.docx", "Acme acme acme.docx", "Acmeco reporting.docx", "Clients.txt",
         "Report report report.pdf", "Note.txt", "Acme Q3 report draft.docx", "Acme budget.xlsx",
         "Budgets acme.xlsx"] * 6 + ["Budget.xlsx"] * 40
    )
]  # fmt: skip


@pytest.mark.parametrize(
    "text", ["acme", "acm", "report", "rep", "acme rep", "clients", "note", "acme budget", "acme b"]
)
def test_hidden_rows_holding_the_words_move_no_score_and_no_order(index, text: str) -> None:
    add_drives(index, [("b!more", TAX, "More"), ("b!hidden", AUDIT, "More")])
    add_library(index, "b!more", TAX, "Tax", BALANCED)
    before = access.search(index, "ann", text, per_page=100)
    add_library(index, "b!hidden", AUDIT, "Audit", HIDDEN_HOLDERS)
    after = access.search(index, "ann", text, per_page=100)
    assert ids(after) == ids(before)
    assert after == before  # the scores too
    assert len(access.search(index, "bob", text, per_page=100).hits) > len(before.hits)


def test_last_term_is_a_prefix(index) -> None:
    assert ids(access.search(index, "ann", "acme rep")) == ["q3"]
    assert ids(access.search(index, "ann", "ACM")) == ids(access.search(index, "ann", "acme"))
    assert ids(access.search(index, "ann", "rep acme")) == []  # only the last term is a prefix


def test_diacritics_are_ignored(index) -> None:
    assert ids(access.search(index, "ann", "resume")) == ["resume"]


def test_highlights_and_snippets_are_escaped_html(index) -> None:
    [q3] = access.search(index, "ann", "acme rep").hits
    assert q3.name_html == "<mark>Acme</mark> Q3 <mark>report</mark>.docx"
    q3_path = "/Clients/<mark>Acme</mark>/<mark>Acme</mark> Q3 <mark>report</mark>.docx"
    assert q3.snippet_html == q3_path
    [script] = access.search(index, "ann", "alert").hits
    escaped = "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt; acme &amp; co.txt"
    assert script.name_html == escaped
    [minutes] = access.search(index, "ann", "acme board").hits
    assert minutes.name_html == "<mark>Board</mark> minutes.docx"
    assert minutes.snippet_html == "/Clients/<mark>Acme</mark>/<mark>Board</mark> minutes.docx"


def test_hit_fields(index) -> None:
    [q3] = access.search(index, "ann", "q3").hits
    name, path = "Acme Q3 report.docx", "/Clients/Acme/Acme Q3 report.docx"
    assert (q3.drive_id, q3.item_id, q3.name, q3.path) == (TAX_DOCS, "q3", name, path)
    assert q3.web_url == f"https://localhost/b!tax{path}"
    assert (q3.site_id, q3.site_title, q3.is_folder, q3.file_type) == (TAX, "Tax", False, "docx")
    assert (q3.modified_at, q3.modified_by_name) == ("2024-03-10T09:30:00Z", "Ann Lee")


def test_paging(index) -> None:
    pages = [access.search(index, "ann", "acme", page=n, per_page=4) for n in (1, 2, 3)]
    expected = [["acme", "budget", "resume", "q3"], ["script", "minutes"], []]
    assert [ids(p) for p in pages] == expected
    assert [(p.total, p.page, p.per_page, p.pages) for p in pages] == [
        (6, 1, 4, 2), (6, 2, 4, 2), (6, 3, 4, 2),
    ]  # fmt: skip
    clamped = access.search(index, "ann", "acme", page=0, per_page=1000)
    assert (clamped.page, clamped.per_page, len(clamped.hits)) == (1, 100, 6)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"file_type": "PDF"}, "resume"),
        ({"file_type": ".docx"}, "q3 minutes"),
        ({"site_id": TAX}, "acme budget resume q3 script minutes"),
        ({"site_id": AUDIT}, ""),
        ({"drive_id": AUDIT_DOCS}, ""),
        ({"modified_after": "2024-02-29"}, "resume q3 script"),
        ({"modified_before": "2024-02-29"}, "acme budget minutes"),
        ({"modified_after": "2024-02-01", "modified_before": "2024-03-01"}, "resume minutes"),
        # 2024-03-01T00:00:00+01:00 is 2024-02-29T23:00:00Z: the Résumé (23:59:59Z) is not before
        ({"modified_after": "2024-02-01", "modified_before": "2024-03-01T00:00+01:00"}, "minutes"),
        (SearchFilters(file_type="xlsx", modified_before="2024-02-01"), "budget"),
    ],
)
def test_filters(index, filters, expected: str) -> None:
    page = access.search(index, "ann", "acme", filters)
    assert (ids(page), page.total) == (expected.split(), len(expected.split()))


def test_unknown_filter_is_refused(index) -> None:
    with pytest.raises(ValueError, match="unknown search filter"):
        access.search(index, "ann", "acme", {"author": "ann"})


HOSTILE = ["", "   ", '"', '""', "AND", "acme AND", "NOT acme", "(", ")", "*", "acme*",
           "NEAR(acme", "name:acme", "^acme", "-acme", "+", "acme OR budget", "{name}: acme",
           "'", "_", "acme\x00"]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_never_raises(index, text: str) -> None:
    page = access.search(index, "ann", text)
    assert page.total == len(page.hits)
    assert set(ids(page)) <= {"acme", "q3", "budget", "resume", "script", "minutes"}


def test_fts_query_quotes_every_chunk() -> None:
    assert fts_query('Acme "Q3" rep') == '"Acme" """Q3""" "rep" *'
    assert fts_query("NEAR( OR -x") == '"NEAR(" "OR" "-x" *'
    assert fts_query(" ( ) * ") is None


def test_person_by_upn_or_unknown(index) -> None:
    assert access.search(index, "ann@FIRM.example", "acme").total == 6
    assert access.search(index, "nobody", "acme") == access.SearchPage([], 0, 1, 20)


@sqlite_only("FTS5 query plans")
def test_search_plan_uses_indexes(index) -> None:
    sql, params = ranked_sql(SearchFilters(file_type="pdf", modified_after="2024-01-01"))
    params |= {"match": '"acme" *', "principals": "[]", "limit": 10, "offset": 0, "terms": "[]"}
    search_rank.install(index.conn)
    plan = [row[3] for row in index.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert not [step for step in plan if FULL_SCAN.match(step)], plan
    assert "SCAN f VIRTUAL TABLE INDEX 0:M3" in plan
    assert "SEARCH i USING INTEGER PRIMARY KEY (rowid=?)" in plan
    assert "SEARCH a USING COVERING INDEX acl_by_principal (principal=?)" in plan


# -- the forms a search takes by how many items match (sync/search.py, FEW_MATCHES, RANK_CAP) --


def test_the_few_and_holders_forms_find_the_same(index) -> None:
    principals = access.principal_set(index, "ann")
    few = search_documents(index, principals, "acme", SearchFilters(), few=100, rank_cap=100)
    holders = search_documents(index, principals, "acme", SearchFilters(), few=0, rank_cap=100)
    assert few == holders == access.search(index, "ann", "acme")
    assert (few.total, few.total_is_exact) == (6, True)


# Past the rank cap the window is read through the holders join (someone who sees more than
# visible_set_cap items) or through the set of the person's items: the same answers.
WINDOWS = pytest.mark.parametrize("visible_set_cap", [0, 1_000], ids=["joined", "seen"])


@WINDOWS
def test_past_the_rank_cap_the_newest_visible_matches_are_ranked(
    index, visible_set_cap: int
) -> None:
    # "acme" is in 10 items' names or paths, hidden ones included (the Audit library's report,
    # the newest, first of all). Past a cap of 3, the 4 newest matches Ann may see are ranked
    # and 4 is a lower bound of her total.
    principals = access.principal_set(index, "ann")
    caps = {"few": 0, "rank_cap": 3, "visible_set_cap": visible_set_cap}
    page = search_documents(index, principals, "acme", SearchFilters(), **caps)
    assert (page.total, page.total_is_exact) == (4, False)
    assert ids(page) == ["budget", "resume", "script", "minutes"]
    second = search_documents(index, principals, "acme", SearchFilters(), 2, 3, **caps)
    assert second.hits == page.hits[3:]
    narrowed = search_documents(index, principals, "acme", SearchFilters(file_type="docx"), **caps)
    assert (ids(narrowed), narrowed.total_is_exact) == (["q3", "minutes"], True)


@WINDOWS
def test_a_window_that_does_not_fill_finds_what_the_holders_form_finds(
    index, visible_set_cap: int
) -> None:
    principals = access.principal_set(index, "ann")
    window = search_documents(index, principals, "acme", SearchFilters(), few=0, rank_cap=9,
                              visible_set_cap=visible_set_cap)  # fmt: skip
    holders = search_documents(index, principals, "acme", SearchFilters(), few=0, rank_cap=100)
    assert (window.total, window.total_is_exact) == (6, True)
    assert (window.hits, window.total) == (holders.hits, holders.total)


@WINDOWS
@pytest.mark.parametrize("rank_cap", [3, 12])
def test_hidden_matches_past_the_rank_cap_change_nothing(
    index, rank_cap: int, visible_set_cap: int
) -> None:
    # 30 more items hold "acme" where only the auditors may look: the search takes another
    # form for everyone (more than the cap match), yet Ann's pages, scores and total stay the
    # same.
    principals = access.principal_set(index, "ann")
    caps = {"few": 0, "rank_cap": rank_cap, "visible_set_cap": visible_set_cap}
    before = search_documents(index, principals, "acme", SearchFilters(), **caps)
    hidden = [("h-root", None, "", "2024-01-01T00:00:00Z", AUDITORS_ONLY)] + [
        (f"h-{n}", "h-root", f"Acme file {n}.docx", "2024-05-01T00:00:00Z", None) for n in range(30)
    ]
    add_drives(index, [("b!hidden", AUDIT, "Hidden")])
    add_library(index, "b!hidden", AUDIT, "Audit", hidden)
    after = search_documents(index, principals, "acme", SearchFilters(), **caps)
    assert after == before
    assert (after.total, after.total_is_exact) == ((4, False) if rank_cap == 3 else (6, True))


@sqlite_only("FTS5 query plans")
@pytest.mark.parametrize("form", ["few", "holders", "window", "window_seen"])
def test_every_form_uses_indexes(index, form: str) -> None:
    sql, params = ranked_sql(SearchFilters(site_id=TAX), form)
    params |= {"match": '"acme" *', "principals": '["everyone"]', "limit": 10, "offset": 0,
               "cap": 2, "terms": "[]"}  # fmt: skip
    search_rank.install(index.conn)
    plan = [row[3] for row in index.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert not [step for step in plan if FULL_SCAN.match(step)], plan
    assert any(re.match(r"SCAN f VIRTUAL TABLE INDEX \d+:M", step) for step in plan), plan
    # The window walks the matches newest first and stops: only the page is ever sorted.
    assert plan.count("USE TEMP B-TREE FOR ORDER BY") == 1, plan
