"""Document search on PostgreSQL: sync/search.py's forms over items.search_vector (GIN).

sync.search.search_documents and matching_names dispatch here when the index is in
PostgreSQL (sync.dialect.is_postgres). The answer is SQLite's, field for field:

- Matching: the FTS5 expression of sync.search.fts_query (every chunk a phrase, all of them
  required, the last one's last word a prefix) becomes a `to_tsquery` over the index's
  `plaza_words` configuration (lower case, accents removed, no stemming, no stop words: what
  FTS5's `unicode61 remove_diacritics 2` does), as the social store's comment search does
  (overlay_app/search_sql.py): quoted words, `:*` on the last. Words are split as unicode61
  splits them (runs of letters and digits), as the vector's text was (pg_schema.words_of).
  search_vector joins name (A), site title (B) and path (C) into one vector, so a phrase of
  several words is asked once per weight: it must lie within one column, as in FTS5.
  Not `websearch_to_tsquery` (issue 17 names it): it reads the user's text its own way (`or`,
  `-word` and quotes are operators there, literal words in FTS5's phrases), has no prefix
  match (the last word typed would find nothing until complete) and splits words with
  PostgreSQL's parser ("plan.docx" one word), so the two engines would find different items.
- Trimming: the same templates' contract, filled by sync.visibility.trimmed_sql. Two forms,
  which give the same rows (the visible matches, the newest RANK_CAP + 1 of them at most)
  where SQLite has four: they differ in where the plan starts, the matches or the person's
  items, which sync.search picks by cost (_ranked_pg; see FEW and WINDOW below).
- Ranking: the score is sync.search_rank's row-local one, computed here in Python over the
  trimmed matches (on SQLite the same function runs inside the query): the overlay adds it
  to comment and tag scores, so both engines must give the same numbers. PostgreSQL's own
  ts_rank is row-local too, but on its own scale, and weighs the site title above the path.
  A search reads at most RANK_CAP + 1 narrow rows, as many as SQLite's ranking scores.
- Highlights and snippets: sync/search_marks.py's in-memory FTS5 marker, on both engines.
"""

from __future__ import annotations

import heapq
import json
import re
from typing import Any

from sync import search_estimate, search_rank
from sync.visibility import principals_param, trimmed_sql

CONFIG = "plaza_words"
WEIGHTS = "ABC"  # name, site title, path (sync/pg_schema.SEARCH_VECTOR)
QUERY = f"to_tsquery('{CONFIG}', :tsquery)"
MATCHES = f"i.search_vector @@ {QUERY}"

_PHRASE = re.compile(r'"((?:[^"]|"")*)"')
_WORD = re.compile(r"[^\W_]+")  # as unicode61 (and search_rank) split words

_COLUMNS = "i.rowid, i.name, i.path, i.site_title, i.drive_id, i.item_id"

# Each form yields the trimmed matches, narrow: (rowid, name, path, site_title, drive_id,
# item_id), the newest RANK_CAP + 1 visible ones (by rowid, as SQLite's window keeps; FEW runs
# only for fewer matches than that, and gives them all). What differs is where the plan
# starts. The planner takes the visible holders for one row (acl_by_principal's principals
# come from an array it cannot see, and it cannot know that the acl's items are nearly all
# complete holders), so left to itself it always walked every item the person sees and tested
# the words on each: for 127 matches and someone who sees 63,093 items, 274 ms where testing
# the 127 matches takes about 1 (100,000 items, issue 17). The forms that start from the
# matches pin it with a MATERIALIZED CTE of them; the walk from the holders is kept where
# it is the cheaper start (WINDOW).
#
# FEW: the matches first, each one's holder checked on its own; at most :cap - 1 of them
# (FEW_MATCHES), else one row of NULLs and nothing checked (more match: another form runs).
# Counting them here spares a count of its own, and carrying the page's columns (_PAGE_EXTRA)
# a read of the page: two round trips fewer for most searches, which on a busy machine cost
# more than the query (each waits for the server process to be scheduled).
_PAGE_EXTRA = "web_url, site_id, is_folder, file_type, modified_at, modified_by_name"
FEW = f"""
    WITH matched AS MATERIALIZED (
        SELECT {_COLUMNS}, i.acl_item_id, i.deleted, {_PAGE_EXTRA}
        FROM items AS i
        WHERE {MATCHES} {{filters}}
        LIMIT :cap
    )
    SELECT i.rowid, i.name, i.path, i.site_title, i.drive_id, i.item_id, {_PAGE_EXTRA}
    FROM matched AS i
    WHERE (SELECT count(*) FROM matched) < :cap AND {{visible}}
    UNION ALL
    SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    WHERE (SELECT count(*) FROM matched) >= :cap"""

# WINDOW: past the few, from whichever is fewer, the matches or the person's items, as
# :seen_cap says (sync/search.py's _Caps.seen_cap): the person's items first when they are at
# most :seen_cap (counted here, up to that), else the matches first. One statement, so the
# visible holders are found once and the count costs no round trip of its own; the branch
# not taken never runs (its gate is a one-time filter), nor does `matched` then.
# - The person's items first: through items_by_acl from each visible holder, the words tested
#   on each; its cost follows what the person sees. An item costs about a third of a match.
#   The planner's own walk (the holders taken for one row), kept.
# - The matches first: every match (the GIN index's bitmap, or a scan of the table for a word
#   most items hold), joined by hash with the holders; its cost follows the matches.
WINDOW = f"""
    WITH {{holders}},
    seen(n) AS MATERIALIZED (
        SELECT count(*) FROM (
            SELECT 1
            FROM visible_holders AS vh
            JOIN items AS i ON i.drive_id = vh.drive_id AND i.acl_item_id = vh.item_id
            LIMIT :seen_cap + 1
        ) AS counted
    ),
    matched AS MATERIALIZED (
        SELECT {_COLUMNS}, i.acl_item_id
        FROM items AS i
        WHERE {MATCHES} AND i.deleted = 0 {{filters}}
    )
    (SELECT {_COLUMNS}
     FROM visible_holders AS vh
     JOIN items AS i ON i.drive_id = vh.drive_id AND i.acl_item_id = vh.item_id
     WHERE (SELECT n FROM seen) <= :seen_cap AND {MATCHES} AND i.deleted = 0 {{filters}}
     ORDER BY i.rowid DESC
     LIMIT :cap)
    UNION ALL
    (SELECT m.rowid, m.name, m.path, m.site_title, m.drive_id, m.item_id
     FROM matched AS m
     JOIN visible_holders AS vh ON vh.drive_id = m.drive_id AND vh.item_id = m.acl_item_id
     WHERE (SELECT n FROM seen) > :seen_cap
     ORDER BY m.rowid DESC
     LIMIT :cap)"""

FORMS = {"few": FEW, "window": WINDOW}  # which sync.search._ranked_pg runs

# How many items hold the words (hidden ones too), as the planner estimates them (which form
# runs): its statistics of search_vector know the commonest words well, and those are the
# words a count would cost most for (one in three items: 10,001 matches counted through a
# third of the table, 47 ms at 100,000 items).
# Asked for whole words: PostgreSQL's estimate of a prefix (word:*) discounts each common
# word by those listed before it ("plain:*", in 4,995 of 5,041 items, was estimated at 101),
# while a whole word's is its own frequency, a lower bound of the prefix's matches.
# Computed in this process from the same statistics (sync/search_estimate.py), which saves a
# round trip per search; the planner is asked only while the column has no statistics.
ESTIMATE = f"EXPLAIN (FORMAT JSON) SELECT 1 FROM items AS i WHERE {MATCHES}"

PAGE = """
    SELECT i.rowid, i.drive_id, i.item_id, i.name, i.path, i.web_url, i.site_id, i.site_title,
           i.is_folder, i.file_type, i.modified_at, i.modified_by_name
    FROM items AS i
    WHERE i.rowid = ANY(:rowids)"""

NAMES = f"""
    SELECT i.drive_id, i.item_id, i.name, i.path, i.site_title
    FROM json_array_elements(CAST(:keys AS json)) AS k(value)
    JOIN items AS i ON i.drive_id = k.value ->> 0 AND i.item_id = k.value ->> 1
    WHERE {MATCHES} AND i.deleted = 0"""


def tsquery_text(match: str) -> str:
    """The to_tsquery text of an FTS5 expression from sync.search.fts_query: the same
    phrases, all required, the last word of the last one a prefix; a phrase of several words
    within one column (one weight) of search_vector."""
    phrases = phrases_of(match)
    prefix = match.rstrip().endswith("*")
    terms = []
    for n, words in enumerate(phrases):
        last = len(words) - 1 if prefix and n == len(phrases) - 1 else None
        if len(words) == 1:
            terms.append(_lexeme(words[0], ":*" if last == 0 else ""))
            continue
        per_weight = [
            " <-> ".join(
                _lexeme(word, (":*" if k == last else ":") + weight) for k, word in enumerate(words)
            )
            for weight in WEIGHTS
        ]
        terms.append("(" + " | ".join(f"({one})" for one in per_weight) + ")")
    return " & ".join(terms)


def phrases_of(match: str) -> list[list[str]]:
    """The words of each phrase of an FTS5 expression from sync.search.fts_query, split as
    unicode61 splits them (phrases without a word left out)."""
    chunks = [chunk.replace('""', '"') for chunk in _PHRASE.findall(match)]
    return [words for words in (_WORD.findall(chunk) for chunk in chunks) if words]


def _lexeme(word: str, suffix: str) -> str:
    """A quoted word of to_tsquery (the configuration folds it as it folded the vector)."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'" + suffix


def form_sql(form: str, filters_sql: str) -> str:
    """The trimmed SQL of a form (exposed for query-plan tests)."""
    return trimmed_sql(FORMS[form], filters=filters_sql)


def match_estimate(db: Any, match: str) -> int:
    """How many items (hidden ones too) hold the words, the last one taken whole (see
    ESTIMATE), as the planner estimates it: from search_vector's statistics cached in this
    process (sync/search_estimate.py), else asked of the planner."""
    known = search_estimate.statistics(db)
    if known is None:
        return planner_estimate(db, match)
    return known.estimate(phrases_of(match))


def planner_estimate(db: Any, match: str) -> int:
    """The planner's own estimate (a round trip: EXPLAIN), as match_estimate's."""
    whole = tsquery_text(match.rstrip().removesuffix("*"))
    plan = db.execute(ESTIMATE, {"tsquery": whole}).fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def ranked(
    db: Any,
    principals: frozenset[str],
    match: str,
    terms: str,
    form: str,
    filters: tuple[str, dict],
    cap: int,
    keep: int,
    seen_cap: int = -1,
) -> tuple[list[tuple[int, float]], int, dict[int, tuple] | None] | None:
    """The best `keep` trimmed matches of a form as (rowid, score), best first, then SQLite's
    tie-break (search_rank.order_key), how many there were (the caller pages them) and, from
    "few", their rows as page_rows reads them, by rowid (else None). None from "few" when
    `cap` or more items match. The window starts from the person's items if they are at most
    `seen_cap`."""
    conditions, params = filters
    params = params | principals_param(principals)
    params |= {"tsquery": tsquery_text(match), "cap": cap, "seen_cap": seen_cap}
    rows = db.execute(form_sql(form, conditions), params).fetchall()
    if form == "few" and any(row[0] is None for row in rows):
        return None
    scorer = search_rank.scorer(terms)
    scored = [
        (scorer.item(name, path, site_title), name, drive_id, item_id, rowid)
        for rowid, name, path, site_title, drive_id, item_id, *_ in rows
    ]
    best = heapq.nsmallest(keep, scored, key=lambda row: search_rank.order_key(*row[:4]))
    carried = {row[0]: _page_row(row) for row in rows} if form == "few" else None
    return [(row[4], row[0]) for row in best], len(rows), carried


def _page_row(row: tuple) -> tuple:
    """A FEW row (its columns, then _PAGE_EXTRA's) in PAGE's order."""
    rowid, name, path, site_title, drive_id, item_id, web_url, site_id, *rest = row
    return (rowid, drive_id, item_id, name, path, web_url, site_id, site_title, *rest)


def page_rows(db: Any, rowids: list[int]) -> list[tuple]:
    """The columns of a page's rows, as sync.search reads them on SQLite."""
    if not rowids:
        return []
    return db.execute(PAGE, {"rowids": list(rowids)}).fetchall()


def matching_names(db: Any, match: str, keys_json: str) -> list[tuple]:
    """(drive_id, item_id, name, path, site_title) of the given live documents whose name,
    path or site title match (the keys already trimmed)."""
    params = {"tsquery": tsquery_text(match), "keys": keys_json}
    return db.execute(NAMES, params).fetchall()
