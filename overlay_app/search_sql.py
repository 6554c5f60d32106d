"""Comment and chat search on PostgreSQL: its full-text search in the shape of SQLite's FTS5.

The stores get one FTS5 expression (sync.search.fts_query: each chunk of the typed text a
quoted phrase, all of them required, the last one a prefix). On SQLite it goes to `MATCH`;
on PostgreSQL `tsquery_text` turns it into the same query for `to_tsquery`, over the text
search configuration `plaza_words` (pg/schema.py): no stemming and no stop words, lower case
and accents removed, as FTS5's `unicode61 remove_diacritics 2` tokenizer treats words.

FTS5's `snippet(..., '…', 16)` has no PostgreSQL twin (ts_headline drops punctuation at a
fragment's end), so PostgreSQL marks every match in the whole text (`ts_headline` with
HighlightAll) and `snippet` cuts the same 16-word window FTS5 would, with its ellipses.
"""

from __future__ import annotations

import re

CONFIG = "plaza_words"
SNIPPET_WORDS = 16
ELLIPSIS = "…"

_PHRASE = re.compile(r'"((?:[^"]|"")*)"')
_WORD = re.compile(r"[^\W_]+")


def tsquery_text(match: str) -> str:
    """The to_tsquery text of an FTS5 expression from fts_query: the same chunks, all
    required, the last as a prefix (a chunk of several words stays a phrase)."""
    chunks = [chunk.replace('""', '"') for chunk in _PHRASE.findall(match)]
    terms = ["'" + chunk.replace("\\", "\\\\").replace("'", "''") + "'" for chunk in chunks]
    if terms and match.rstrip().endswith("*"):
        terms[-1] += ":*"
    return " & ".join(terms)


def matches(column: str, query: str) -> str:
    """A condition: the text in `column` matches the tsquery text in parameter `query`;
    the expression of the GIN indexes comments_words and messages_words."""
    return f"to_tsvector('{CONFIG}', {column}) @@ to_tsquery('{CONFIG}', {query})"


def marked_all(column: str, query: str, options: str) -> str:
    """The whole text in `column` with every match marked (options: `headline_options`)."""
    return f"ts_headline('{CONFIG}', {column}, to_tsquery('{CONFIG}', {query}), {options})"


def headline_options(open_mark: str, close_mark: str) -> str:
    return f'StartSel="{open_mark}", StopSel="{close_mark}", HighlightAll=true'


def snippet(marked: str, open_mark: str, close_mark: str, words: int = SNIPPET_WORDS) -> str:
    """The window of `words` words of a marked text that FTS5's snippet() would cut: the one
    holding the most distinct matches, centred on them, with … where it cuts the text."""
    # FTS5 marks a phrase ("foo-bar") as one match, ts_headline each of its words
    marked = re.sub(f"{re.escape(close_mark)}([^\\w\\s]+){re.escape(open_mark)}", r"\1", marked)
    spans = _word_spans(marked, open_mark, close_mark)
    if len(spans) <= words:
        return marked
    hits = [n for n, (start, _) in enumerate(spans) if marked[start] == open_mark]
    first = _best_start(marked, spans, hits, words)
    cut = marked[spans[first][0] : spans[first + words - 1][1]]
    if first + words >= len(spans):
        cut = marked[spans[first][0] :]
    cut = _balanced(cut, open_mark, close_mark)
    head = ELLIPSIS if first > 0 else marked[: spans[0][0]]
    tail = ELLIPSIS if first + words < len(spans) else ""
    return head + cut + tail


def _word_spans(marked: str, open_mark: str, close_mark: str) -> list[tuple[int, int]]:
    """(start, end) of each word, its marks included."""
    spans = []
    for found in _WORD.finditer(marked):
        start, end = found.span()
        if start > 0 and marked[start - 1] == open_mark:
            start -= 1
        if end < len(marked) and marked[end] == close_mark:
            end += 1
        spans.append((start, end))
    return spans


def _best_start(marked: str, spans: list[tuple[int, int]], hits: list[int], words: int) -> int:
    best, best_score = 0, -1
    for candidate in hits:
        inside = [n for n in hits if candidate <= n < candidate + words]
        score = len({marked[slice(*spans[n])].lower() for n in inside})
        if score > best_score:
            best_score = score
            # FTS5 centres the matches in the window, as far as the text allows
            start = inside[0] - (words - (inside[-1] + 1 - inside[0])) // 2
            best = max(0, min(start, len(spans) - words))
    return best


def _balanced(cut: str, open_mark: str, close_mark: str) -> str:
    """The cut with no mark left open or closed without opening (a match of several words
    that the window cut in two)."""
    if cut.find(close_mark) != -1 and (
        cut.find(open_mark) == -1 or cut.find(close_mark) < cut.find(open_mark)
    ):
        cut = open_mark + cut
    if cut.count(open_mark) > cut.count(close_mark):
        cut += close_mark
    return cut
