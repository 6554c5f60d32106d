"""Highlights and snippets of search hits, on both engines: a private in-memory FTS5 table
with the index's tokenizer marks a page's rows (sync/search.py reads which rows)."""

from __future__ import annotations

import html
import re
import sqlite3
import threading

from sync.dialect import is_postgres

SNIPPET_TOKENS = 12
# Private-use characters mark matches inside FTS5 output; the text is HTML-escaped afterwards
# and only then are the markers turned into <mark> tags, so a file name cannot inject markup.
_OPEN, _CLOSE = "\ue000", "\ue001"

_HIGHLIGHTS = """
    SELECT rowid, highlight(page, 0, :open, :close), highlight(page, 1, :open, :close)
    FROM page WHERE page MATCH :match"""
_MARKS = """
    SELECT rowid, highlight(page, 0, :open, :close), snippet(page, -1, :open, :close, '…', {n})
    FROM page WHERE page MATCH :match"""


class _Marker:
    """Highlights and snippets of a page's rows, from a private in-memory FTS5 table with the
    index's tokenizer. The index's own FTS5 table would do, but it re-expands a prefix query
    ("rep" *) over the word's whole doclist each time it runs: twenty rows cost as much as
    reading every match (150 ms for a word in 300,000 items). The marks depend only on the
    rows' text and the query, so the small table gives the same ones."""

    def __init__(self, tokenize: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE page USING fts5(name, path, site_title, tokenize = "
            + _quoted(tokenize)
            + ")"
        )

    def marks(self, match: str, texts: list[tuple]) -> dict[int, tuple[str, str]]:
        """(rowid, name, path, site_title) -> {rowid: (marked name, snippet)}, matches only."""
        return self._read(_MARKS.format(n=SNIPPET_TOKENS), match, texts)

    def highlights(self, match: str, texts: list[tuple]) -> dict[int, tuple[str, str]]:
        """(rowid, name, path, site_title) -> {rowid: (marked name, marked path)}."""
        return self._read(_HIGHLIGHTS, match, texts)

    def _read(self, sql: str, match: str, texts: list[tuple]) -> dict[int, tuple[str, str]]:
        params = {"open": _OPEN, "close": _CLOSE, "match": match}
        with self._lock:
            try:
                self._db.executemany(
                    "INSERT INTO page (rowid, name, path, site_title) VALUES (?, ?, ?, ?)", texts
                )
                found = self._db.execute(sql, params).fetchall()
            finally:
                self._db.execute("DELETE FROM page")
        return {rowid: (name, snippet) for rowid, name, snippet in found}


_MARKERS: dict[str, _Marker] = {}
_MARKERS_LOCK = threading.Lock()
PG_TOKENIZE = "unicode61 remove_diacritics 2"  # sync/schema.py m001's
_TOKENIZE = re.compile(r"tokenize\s*=\s*'((?:[^']|'')*)'", re.IGNORECASE)


def marker(db) -> _Marker:
    """The marker for the index's tokenizer (read from the FTS table's definition; on
    PostgreSQL, the one SQLite's index is made with, whose words plaza_words mirrors)."""
    if is_postgres(db):
        tokenize = PG_TOKENIZE
    else:
        row = db.execute("SELECT sql FROM sqlite_master WHERE name = 'items_fts'").fetchone()
        found = _TOKENIZE.search(row[0] if row else "")
        tokenize = found.group(1).replace("''", "'") if found else "unicode61"
    with _MARKERS_LOCK:
        if tokenize not in _MARKERS:
            _MARKERS[tokenize] = _Marker(tokenize)
        return _MARKERS[tokenize]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def swap_marks(marked: str | None, open_mark: str, close_mark: str) -> str | None:
    if marked is None:
        return None
    return marked.replace(_OPEN, open_mark).replace(_CLOSE, close_mark)


def marked_html(marked: str | None) -> str:
    escaped = html.escape(marked or "", quote=False)
    return escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
