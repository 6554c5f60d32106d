"""The raw matchers behind search: comment text (comments_fts), tags, and names and paths of
given documents (items_fts), with highlighting.

Nothing here trims: comment_candidates and tag_matches return candidates that search.py passes
through access.filter_visible before using them, and best_comments / name_scores /
comment_snippets are only ever called for documents that already passed. FTS5 only finds
matches: every score comes from the matched row's own text (sync.search_rank), so no hidden
comment or file moves a visible hit's score. Matches are marked with private-use characters,
the text is HTML-escaped, and only then do the markers become <mark>, so no stored text can
inject markup.
"""

from __future__ import annotations

import html
import json

from overlay_app import db
from overlay_app.browse.listing import Key
from sync.search_rank import item_score, text_score

# Tag arm scores: a name holding the word scores about 10 to 25, a comment about 2 to 6.
TAG_EXACT, TAG_PREFIX = 6.0, 3.0
_OPEN, _CLOSE = "\ue000", "\ue001"


def comment_candidates(match: str | None) -> dict[Key, list[int]]:
    """Rowids of the live comments matching, per document. Untrimmed."""
    if match is None:
        return {}
    rows = db.social().execute(
        """SELECT c.drive_id, c.item_id, c.rowid
           FROM comments_fts JOIN comments AS c ON c.rowid = comments_fts.rowid
           WHERE comments_fts MATCH ? AND c.deleted_at IS NULL""",
        [match],
    )
    found: dict[Key, list[int]] = {}
    for drive_id, item_id, rowid in rows:
        found.setdefault((drive_id, item_id), []).append(rowid)
    return found


def best_comments(candidates: dict[Key, list[int]], terms: str) -> dict[Key, tuple[int, float]]:
    """The best matching comment of each (visible) document: (comment rowid, score), the older
    one of equal scores."""
    rowids = sorted(rowid for found in candidates.values() for rowid in found)
    if not rowids:
        return {}
    bodies = dict(
        db.social().execute(
            "SELECT rowid, body FROM comments WHERE rowid IN (SELECT value FROM json_each(?))",
            [json.dumps(rowids)],
        )
    )
    best: dict[Key, tuple[int, float]] = {}
    for key, found in candidates.items():
        score, negated_rowid = max((text_score(bodies.get(r), terms), -r) for r in found)
        best[key] = (-negated_rowid, score)
    return best


def tag_matches(text: str) -> dict[Key, list[tuple[str, float]]]:
    """Tags equal to a query word, or starting with the whole query as a tag. Untrimmed."""
    words = [w.lower() for w in text.split()]
    whole = "-".join(words)
    if not words:
        return {}
    rows = db.social().execute(
        """SELECT drive_id, item_id, tag FROM tags
           WHERE tag IN (SELECT value FROM json_each(?)) OR substr(tag, 1, ?) = ?""",
        [json.dumps(words), len(whole), whole],
    )
    found: dict[Key, list[tuple[str, float]]] = {}
    for drive_id, item_id, tag in rows:
        score = TAG_EXACT if tag in words or tag == whole else TAG_PREFIX
        found.setdefault((drive_id, item_id), []).append((tag, score))
    return found


def _matching_rows(match: str, keys: list[Key], columns: str) -> list[tuple]:
    """`columns` of items_fts for the given live documents that match; keys are trimmed."""
    return (
        db.index()
        .execute(
            f"""SELECT i.drive_id, i.item_id, {columns}
            FROM items_fts JOIN items AS i ON i.rowid = items_fts.rowid
            WHERE items_fts MATCH :match AND i.deleted = 0 AND (i.drive_id, i.item_id) IN
                (SELECT value ->> 0, value ->> 1 FROM json_each(:keys))""",
            {
                "match": match,
                "keys": json.dumps([list(k) for k in keys]),
                "open": _OPEN,
                "close": _CLOSE,
            },
        )
        .fetchall()
    )


def name_scores(match: str | None, terms: str, keys: list[Key]) -> dict[Key, tuple[float, str]]:
    """Name/path score (sync's own, so comparable with its hits) and the highlighted name of
    visible documents."""
    if match is None or not keys:
        return {}
    columns = "i.name, i.path, i.site_title, highlight(items_fts, 0, :open, :close)"
    rows = _matching_rows(match, keys, columns)
    return {
        (d, i): (item_score(name, path, site_title, terms), marked(highlighted))
        for d, i, name, path, site_title, highlighted in rows
    }


def path_highlights(match: str | None, keys: list[Key]) -> dict[Key, str]:
    """The whole path of each visible document with its matches marked (paths are short)."""
    if match is None or not keys:
        return {}
    rows = _matching_rows(match, keys, "highlight(items_fts, 1, :open, :close)")
    return {(d, i): marked(path) for d, i, path in rows}


def comment_snippets(rowids: list[int], match: str) -> dict[int, str]:
    rows = db.social().execute(
        f"""SELECT rowid, snippet(comments_fts, 0, ?, ?, '…', 16) FROM comments_fts
            WHERE comments_fts MATCH ? AND rowid IN ({",".join("?" * len(rowids))})""",
        [_OPEN, _CLOSE, match, *rowids],
    )
    return {rowid: marked(snippet) for rowid, snippet in rows}


def marked(text: str | None) -> str:
    escaped = html.escape(text or "", quote=False)
    return escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
