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

from overlay_app import db
from overlay_app.browse.listing import Key
from overlay_app.discussion import store_search as discussion_store
from overlay_app.discussion.rendering import snippet_without_markup
from overlay_app.tags import store as tags_store
from sync.search import matching_names
from sync.search_rank import item_score, text_score

# Tag arm scores: a name holding the word scores about 10 to 25, a comment about 2 to 6.
TAG_EXACT, TAG_PREFIX = 6.0, 3.0
_OPEN, _CLOSE = "\ue000", "\ue001"


def comment_candidates(match: str | None) -> dict[Key, list[int]]:
    """Rowids of the live comments matching, per document. Untrimmed."""
    if match is None:
        return {}
    rows = discussion_store.matching_comments(db.social(), match)
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
    bodies = discussion_store.bodies_by_rowid(db.social(), rowids)
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
    rows = tags_store.matching(db.social(), words, whole)
    found: dict[Key, list[tuple[str, float]]] = {}
    for drive_id, item_id, tag in rows:
        score = TAG_EXACT if tag in words or tag == whole else TAG_PREFIX
        found.setdefault((drive_id, item_id), []).append((tag, score))
    return found


def name_scores(match: str | None, terms: str, keys: list[Key]) -> dict[Key, tuple[float, str]]:
    """Name/path score (sync's own, so comparable with its hits) and the highlighted name of
    visible documents."""
    if match is None or not keys:
        return {}
    rows = matching_names(db.index(), match, keys, _OPEN, _CLOSE)
    return {
        (d, i): (item_score(name, path, site_title, terms), marked(name_marked))
        for d, i, name, path, site_title, name_marked, _ in rows
    }


def path_highlights(match: str | None, keys: list[Key]) -> dict[Key, str]:
    """The whole path of each visible document with its matches marked (paths are short)."""
    if match is None or not keys:
        return {}
    rows = matching_names(db.index(), match, keys, _OPEN, _CLOSE)
    return {(d, i): marked(path_marked) for d, i, *_, path_marked in rows}


def comment_snippets(rowids: list[int], match: str) -> dict[int, str]:
    rows = discussion_store.comment_snippets(db.social(), rowids, match, _OPEN, _CLOSE)
    return {rowid: marked(snippet_without_markup(snippet)) for rowid, snippet in rows}


def marked(text: str | None) -> str:
    escaped = html.escape(text or "", quote=False)
    return escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
