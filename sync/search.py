"""Trimmed full-text search over the index (FTS5 on items: name, path, site title).

The access predicate applies before anything is counted, ranked into pages or highlighted: an
item the person may not see never changes a total, a page, an order or a snippet. FTS5 only
finds the matches; their scores come from each match's own name, path and site title
(sync/search_rank.py: the name above the path above the site title, whole words above
prefixes), never from corpus-wide statistics such as bm25's, which count hidden rows too.
User input never reaches FTS5 as syntax: each whitespace-separated chunk becomes a quoted
phrase (all must match) and the last one also matches as a prefix, so "acme q3 rep" finds
"Acme Q3 report.docx".

On PostgreSQL (sync.dialect.is_postgres) the same functions run sync/search_pg.py's forms:
its full-text search over items.search_vector finds the matches, the same trimming templates
and the same row-local scores rank them, so the answers are the same on both engines.

Tags and comment text are searched by overlay_app.search, which merges them with these hits.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

import sqlite_utils

from sync import search_pg, search_rank
from sync.dialect import is_postgres
from sync.search_forms import FORMS, SEEN_COUNT
from sync.search_marks import marked_html, marker, swap_marks
from sync.visibility import principals_param, trimmed_sql

MAX_PER_PAGE = 100
# How a search runs depends on how many items hold the words, whoever may see them (a bounded
# FTS5 count tells, cheaply). Up to FEW_MATCHES, each match's access is checked on its own;
# up to RANK_CAP, the matches are joined with the holders that admit the person; beyond it,
# the newest RANK_CAP + 1 visible matches are ranked and, when there were that many, the total
# is a lower bound (SearchPage.total_is_exact), as SharePoint's search answers with an
# approximate total past a point (ResultTable.IsTotalRowsExact). So a search stays bounded
# however common its words (bench/search.py).
FEW_MATCHES = 2_000
RANK_CAP = 10_000
# Past RANK_CAP matches, someone who sees up to this many items is searched through the set
# of their items (cheap to read for a few, dear for many); others through the holders join.
VISIBLE_SET_CAP = 100_000
# On PostgreSQL, the person's items are searched first when they are at most this many times
# the matches (_Caps.seen_cap).
SEEN_PER_MATCH = 3
_HAS_TOKEN = re.compile(r"[^\W_]")  # unicode61 tokens are letters and digits
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # FTS5 reads a NUL as the end of its input


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing a search. Times are ISO 8601 (a date means its first instant, UTC):
    `modified_after` keeps items modified at or after it, `modified_before` strictly before."""

    site_id: str | None = None
    drive_id: str | None = None
    file_type: str | None = None  # extension without the dot, any case: "pdf"
    modified_after: str | date | None = None
    modified_before: str | date | None = None

    @classmethod
    def of(cls, filters: SearchFilters | dict | None) -> SearchFilters:
        if isinstance(filters, SearchFilters):
            return filters
        unknown = set(filters or {}) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown search filter(s): {', '.join(sorted(unknown))}")
        return cls(**(filters or {}))

    def sql(self) -> tuple[str, dict[str, str]]:
        """Extra WHERE conditions on `i` (items) and their parameters."""
        conditions, params = [], {}
        if self.site_id:
            conditions.append("i.site_id = :site_id")
            params["site_id"] = self.site_id
        if self.drive_id:
            conditions.append("i.drive_id = :drive_id")
            params["drive_id"] = self.drive_id
        if self.file_type:
            conditions.append("lower(i.file_type) = :file_type")
            params["file_type"] = self.file_type.lower().lstrip(".")
        if self.modified_after:
            conditions.append("i.modified_at >= :modified_after")
            params["modified_after"] = _instant(self.modified_after)
        if self.modified_before:
            conditions.append("i.modified_at < :modified_before")
            params["modified_before"] = _instant(self.modified_before)
        return "".join(f" AND {c}" for c in conditions), params


def _instant(value: str | date) -> str:
    """An ISO 8601 string comparable with Graph's `...Z` timestamps (raises ValueError)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


@dataclass(frozen=True)
class SearchHit:
    drive_id: str
    item_id: str
    name: str | None
    path: str | None
    web_url: str | None
    site_id: str | None
    site_title: str | None
    is_folder: bool
    file_type: str | None
    modified_at: str | None
    modified_by_name: str | None
    score: float  # higher is better (sync.search_rank.item_score)
    name_html: str = ""  # the name, HTML-escaped, matches in <mark>
    snippet_html: str = ""  # a fragment of the best-matching column, likewise


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    # False when the person may see more than RANK_CAP matches: only the newest RANK_CAP + 1
    # of them were ranked, `total` (RANK_CAP + 1) is a lower bound, pages past them are empty.
    total_is_exact: bool = True

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)


def fts_query(text: str) -> str | None:
    """An FTS5 expression that matches `text` literally (last chunk as prefix), or None."""
    chunks = [chunk for chunk in _CONTROL.sub(" ", text).split() if _HAS_TOKEN.search(chunk)]
    if not chunks:
        return None
    phrases = ['"' + chunk.replace('"', '""') + '"' for chunk in chunks]
    phrases[-1] += " *"
    return " ".join(phrases)


_MATCHES = "SELECT count(*) FROM (SELECT 1 FROM items_fts WHERE items_fts MATCH :match LIMIT :cap)"

_PAGE = """
    SELECT i.rowid, i.drive_id, i.item_id, i.name, i.path, i.web_url, i.site_id, i.site_title,
           i.is_folder, i.file_type, i.modified_at, i.modified_by_name
    FROM json_each(:rowids) AS r
    JOIN items AS i ON i.rowid = r.value"""


def ranked_sql(filters: SearchFilters, form: str = "holders") -> tuple[str, dict[str, str]]:
    """The trimmed, ranked, paged query of a form ("few", "holders", "window"; exposed for
    query-plan tests) and its filter params."""
    conditions, params = filters.sql()
    sql = trimmed_sql(
        FORMS[form],
        score=f"{search_rank.FUNCTION}(i.name, i.path, i.site_title, :terms)",
        order=search_rank.ORDER_SQL,
        filters=conditions,
    )
    return sql, params


def search_form(matches: int, few: int = FEW_MATCHES, rank_cap: int = RANK_CAP) -> str:
    """Which query serves a search whose words `matches` items hold (see FEW_MATCHES)."""
    return "few" if matches <= few else "holders" if matches <= rank_cap else "window"


def search_documents(
    db: sqlite_utils.Database,
    principals: frozenset[str],
    query: str,
    filters: SearchFilters,
    page: int = 1,
    per_page: int = 20,
    *,
    few: int = FEW_MATCHES,
    rank_cap: int = RANK_CAP,
    visible_set_cap: int = VISIBLE_SET_CAP,
) -> SearchPage:
    """Search what `principals` may see; pages are 1-based, per_page at most MAX_PER_PAGE.

    `few`, `rank_cap` and `visible_set_cap` choose the query form (see their constants)."""
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    match = fts_query(query)
    if match is None or not principals:
        return SearchPage([], 0, page, per_page)
    caps = _Caps(few, rank_cap, visible_set_cap)
    terms = search_rank.query_terms(query)
    offset = (page - 1) * per_page
    try:
        if is_postgres(db):
            found = _ranked_pg(db, principals, match, terms, filters, caps, offset + per_page)
            ranked, total, carried = found[0][offset:], found[1], found[2]
            rowids = [rowid for rowid, _ in ranked]
            if carried is None:
                rows = search_pg.page_rows(db, rowids)
            else:
                rows = [carried[rowid] for rowid in rowids]
        else:
            ranked, total = _ranked(db, principals, match, terms, filters, caps, offset, per_page)
            rowids = json.dumps([rowid for rowid, _ in ranked])
            rows = db.execute(_PAGE, {"rowids": rowids}).fetchall() if ranked else []
    except sqlite3.OperationalError as error:
        # Quoting leaves FTS5 nothing to misparse; should it still object, answer "no match"
        # rather than show a user the engine's syntax error.
        if "fts5" in str(error):
            return SearchPage([], 0, page, per_page)
        raise
    details = _with_marks(db, match, rows)
    hits = [_hit(details[rowid], score) for rowid, score in ranked if rowid in details]
    # A window that did not fill held every visible match, as the other forms do: so whether
    # a total is exact depends on the visible matches alone.
    return SearchPage(hits, total, page, per_page, total_is_exact=total <= rank_cap)


def matching_names(
    db: sqlite_utils.Database,
    match: str,
    keys: list[tuple[str, str]],
    open_mark: str,
    close_mark: str,
) -> list[tuple]:
    """(drive_id, item_id, name, path, site_title, marked name, marked path) of those of the
    given live documents whose name, path or site title match. The keys must already be
    trimmed: this decides nothing about visibility (the overlay scores and highlights them)."""
    keys_json = json.dumps([list(key) for key in keys])
    if is_postgres(db):
        found = search_pg.matching_names(db, match, keys_json)
        marks = marker(db).highlights(match, [(n, *row[2:]) for n, row in enumerate(found)])
        marks_of = (marks.get(n, (name, path)) for n, (_, _, name, path, _) in enumerate(found))
        return [
            (*row, swap_marks(name_marked, open_mark, close_mark),
             swap_marks(path_marked, open_mark, close_mark))
            for row, (name_marked, path_marked) in zip(found, marks_of, strict=True)
        ]  # fmt: skip
    return db.execute(
        """SELECT i.drive_id, i.item_id, i.name, i.path, i.site_title,
                  highlight(items_fts, 0, :open, :close), highlight(items_fts, 1, :open, :close)
           FROM items_fts JOIN items AS i ON i.rowid = items_fts.rowid
           WHERE items_fts MATCH :match AND i.deleted = 0 AND (i.drive_id, i.item_id) IN
               (SELECT value ->> 0, value ->> 1 FROM json_each(:keys))""",
        {
            "match": match,
            "keys": keys_json,
            "open": open_mark,
            "close": close_mark,
        },
    ).fetchall()


def _sees_at_most(db: sqlite_utils.Database, principals: frozenset[str], items: int) -> bool:
    """Whether the principals see at most `items` items (deleted ones included)."""
    params = principals_param(principals) | {"cap": items + 1}
    return db.execute(trimmed_sql(SEEN_COUNT), params).fetchone()[0] <= items


@dataclass(frozen=True)
class _Caps:
    few: int
    rank_cap: int
    visible_set_cap: int

    def form(self, db, principals: frozenset[str], matches: int) -> str:
        """The form for a search whose words `matches` items hold (search_form, then the
        window's choice by how much the person sees)."""
        form = search_form(matches, self.few, self.rank_cap)
        if form == "window" and _sees_at_most(db, principals, self.visible_set_cap):
            form = "window_seen"
        return form

    def may_be_few(self, estimate: int) -> bool:
        """Whether "few" may serve on PostgreSQL, by the planner's `estimate` of the matches
        (a lower bound): it then counts them itself."""
        return estimate <= 2 * self.few or self.few > self.rank_cap

    def seen_cap(self, estimate: int) -> int:
        """PostgreSQL's window starts from the person's items when they are at most this many
        (else from the matches), by the planner's `estimate` of the matches (a lower bound):
        an item seen costs about a third of a match (the match's row is read, its words
        tested and joined by hash; the item seen is reached through items_by_acl and tested)."""
        return min(SEEN_PER_MATCH * max(estimate, self.few + 1), self.visible_set_cap)


def _ranked(db, principals, match, terms, filters, caps: _Caps, offset: int, limit: int):
    """SQLite: one page's (rowid, score), ranked in the query, and the total."""
    matches = db.execute(_MATCHES, {"match": match, "cap": caps.rank_cap + 1}).fetchone()[0]
    sql, params = ranked_sql(filters, caps.form(db, principals, matches))
    search_rank.install(db.conn)
    params |= {
        "match": match,
        "terms": terms,
        **principals_param(principals),
        "limit": limit,
        "offset": offset,
        "cap": caps.rank_cap + 1,  # window: one more than ranked in full tells "more"
    }
    rows = db.execute(sql, params).fetchall()
    total = rows[0][2] if rows else (_count(db, sql, params) if offset else 0)
    return [(rowid, score) for rowid, score, _ in rows], total


def _ranked_pg(db, principals, match, terms, filters, caps: _Caps, keep: int):
    """PostgreSQL: the best `keep` trimmed matches' (rowid, score), best first, the number of
    trimmed matches and their rows if the form carried them (search_pg.ranked). The few form
    first when the planner's estimate of the matches allows (it gives up past caps.few), else
    the cheaper window."""

    def ranked(form: str, cap: int, seen_cap: int = -1):
        sql_filters = filters.sql()
        return search_pg.ranked(
            db, principals, match, terms, form, sql_filters, cap, keep, seen_cap
        )

    estimate = search_pg.match_estimate(db, match)
    found = ranked("few", caps.few + 1) if caps.may_be_few(estimate) else None
    if found is None:
        found = ranked("window", caps.rank_cap + 1, caps.seen_cap(estimate))
    return found


def _count(db: sqlite_utils.Database, sql: str, params: dict) -> int:
    """The total when the page asked for lies past the end (no row carried it)."""
    row = db.execute(sql, params | {"limit": 1, "offset": 0}).fetchone()
    return row[2] if row else 0


def _with_marks(db, match: str, rows: list[tuple]) -> dict[int, tuple]:
    """A page's rows by rowid, with the highlighted name and snippet (never of hidden
    items). On PostgreSQL, a row the marker's FTS5 does not match (the engines split a few
    characters differently) keeps its plain name."""
    if not rows:
        return {}
    texts = [(row[0], row[3], row[4], row[7]) for row in rows]
    marks = marker(db).marks(match, texts)
    if is_postgres(db):
        plain = {row[0]: (row[3], "") for row in rows}
        marks = plain | marks
    return {row[0]: (*row, *marks[row[0]]) for row in rows if row[0] in marks}


def _hit(row: tuple, score: float) -> SearchHit:
    _, drive_id, item_id, name, path, web_url, site_id, site_title, is_folder, *rest = row
    file_type, modified_at, modified_by_name, name_marked, snippet_marked = rest
    return SearchHit(
        drive_id,
        item_id,
        name,
        path,
        web_url,
        site_id,
        site_title,
        bool(is_folder),
        file_type,
        modified_at,
        modified_by_name,
        float(score),
        marked_html(name_marked),
        marked_html(snippet_marked),
    )
