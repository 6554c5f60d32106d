"""Search over names and paths (the index), tags and comment text (the social store), trimmed.

Three arms find documents: sync.search.search_documents (names, paths, site titles; already
trimmed for the request's principal set, and ranked), tags equal to a query word (or starting
with the whole query), and comments_fts. The tag and comment arms are trimmed through
access.filter_visible BEFORE anything is counted, ranked, paged or highlighted, so a hidden
document's comment never matches for anyone else. Hits merge by document: its score is the sum
of its arms' scores, each computed from the matched row's own text (sync.search_rank), so
neither the order nor anything else in an answer depends on rows the person cannot see; the
score itself is not shown. Snippets (<mark>, escaped) are made for the page's hits only. See
merge() for why paging stays exact and cheap.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, jsonify, render_template, request

from overlay_app import access, db, security
from overlay_app.browse import views as browse
from overlay_app.browse.listing import (
    UNAUTHENTICATED,
    Counts,
    Key,
    page_number,
    social_counts,
)
from overlay_app.documents_json import document_json, document_properties
from overlay_app.errors import BadInput
from overlay_app.identity import Person, require_person
from overlay_app.openapi_parts import (
    BOOLEAN,
    INTEGER,
    STRING,
    STRINGS,
    error_response,
    obj,
    paged,
    query_param,
)
from overlay_app.search.arms import (
    best_comments,
    comment_candidates,
    comment_snippets,
    name_scores,
    path_highlights,
    tag_matches,
)
from overlay_app.tags import reads as tags
from sync.search import MAX_PER_PAGE, SearchFilters, SearchHit, SearchPage, fts_query
from sync.search import search_documents as search_names
from sync.search_rank import order_key, query_terms
from sync.visibility import Document

bp = Blueprint("search", __name__)

PER_PAGE = 20
MAX_SEARCH_PAGE = 50  # bounds how deep a merge reads sync's ranking (MAX_SEARCH_PAGE x PER_PAGE)
MAX_QUERY = 200


@dataclass(frozen=True)
class Query:
    text: str = ""
    site: str | None = None
    file_type: str | None = None
    tag: str | None = None
    modified_after: str | None = None
    modified_before: str | None = None
    page: int = 1

    @property
    def filters(self) -> SearchFilters:
        return SearchFilters(
            site_id=self.site,
            file_type=self.file_type,
            modified_after=self.modified_after,
            modified_before=self.modified_before,
        )

    @property
    def empty(self) -> bool:
        return fts_query(self.text) is None and self.tag is None


def parse_query() -> Query:
    """The search request's arguments, validated (BadInput says what to fix)."""
    args = request.args
    text = args.get("q", "").strip()
    if len(text) > MAX_QUERY:
        raise BadInput("A search is at most %(most)s characters.", most=MAX_QUERY)
    tag = args.get("tag", "").strip()
    query = Query(
        text=text,
        site=args.get("site") or None,
        file_type=(args.get("type") or "").strip().lower().lstrip(".") or None,
        tag=tags.normalise(tag) if tag else None,
        modified_after=args.get("modified_after") or None,
        modified_before=args.get("modified_before") or None,
        page=page_number(),
    )
    if query.page > MAX_SEARCH_PAGE:
        raise BadInput(
            "Search shows the first %(pages)s pages: add words or filters to narrow it.",
            pages=MAX_SEARCH_PAGE,
        )
    try:
        query.filters.sql()
    except ValueError as error:
        raise BadInput(
            "modified_after and modified_before are dates (YYYY-MM-DD) or ISO 8601 times."
        ) from error
    return query


@dataclass
class Hit:
    row: Document
    score: float = 0.0
    name_score: float | None = None  # None: the name/path arm did not match
    comment_rowid: int | None = None
    comment_score: float = 0.0
    matched_tags: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # all of the document's tags
    name_html: str = ""
    snippet_html: str = ""
    comment_html: str = ""

    def sort_key(self) -> tuple:
        """Best first, equal scores by name and ids: the order of sync's own ranking."""
        return order_key(self.score, self.row.name, self.row.drive_id, self.row.item_id)


@dataclass
class Results:
    query: Query
    hits: list[Hit]
    total: int
    # False past sync.search.RANK_CAP visible name matches: `total` is then a lower bound.
    total_is_exact: bool = True
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)


# ---- merging -----------------------------------------------------------------------------


def passes(row: Document, query: Query) -> bool:
    """The site, type and modified filters on a document found by a social arm."""
    filters = query.filters
    _, params = filters.sql()
    if query.site and row.site_id != query.site:
        return False
    if query.file_type and (row.file_type or "").lower() != params["file_type"]:
        return False
    modified = row.modified_at or ""
    if query.modified_after and modified < params["modified_after"]:
        return False
    return not (query.modified_before and modified >= params["modified_before"])


def social_hits(person: Person, query: Query, match: str | None) -> dict[Key, Hit]:
    """Documents found by tags or comments (or carrying the tag filter), trimmed, filtered,
    with every arm's score."""
    found_in_comments = comment_candidates(match)
    tagged = tag_matches(query.text) if match else {}
    candidates = set(found_in_comments) | set(tagged)
    if query.tag is not None:
        with_tag = set(tags.visible_tagged_keys(person, query.tag))
        candidates = with_tag if match is None else (candidates | with_tag) & with_tag
    visible = access.filter_visible(person, sorted(candidates))
    rows = {
        key: row
        for key, row in access.documents(person, visible).items()
        if not row.is_folder and passes(row, query)
    }
    terms = query_terms(query.text)
    comments = best_comments({k: v for k, v in found_in_comments.items() if k in rows}, terms)
    names = name_scores(match, terms, sorted(rows))
    hits = {}
    for key, row in rows.items():
        hit = Hit(row)
        if key in comments:
            hit.comment_rowid, hit.comment_score = comments[key]
        hit.matched_tags = sorted(tag for tag, _ in tagged.get(key, []))
        tag_score = max((score for _, score in tagged.get(key, [])), default=0.0)
        if key in names:
            hit.name_score, hit.name_html = names[key]
        hit.score = (hit.name_score or 0.0) + hit.comment_score + tag_score
        if match is None or key in comments or key in tagged or key in names:
            hits[key] = hit
    return hits


def merge(person: Person, query: Query) -> tuple[list[Hit], int, bool]:
    """One page of hits, the total and whether it is exact, all over visible documents only.

    Every document the social arms found is scored in full (there are few), so its merged score
    is known; name/path-only hits come ranked from sync. The merged top N is then the social
    hits plus the top N of sync's others: sync is read only as deep as the page needs."""
    match = fts_query(query.text)
    social = social_hits(person, query, match)
    start, wanted = (query.page - 1) * PER_PAGE, query.page * PER_PAGE
    others, total, exact = [], len(social), True
    if match is not None and query.tag is None and not social:
        return sync_page(person, query)
    if match is not None and query.tag is None:
        others, sync_total, exact = name_only_hits(person, query, set(social), wanted)
        total += sync_total - sum(1 for hit in social.values() if hit.name_score is not None)
    ranked = sorted([*social.values(), *others], key=Hit.sort_key)
    if match is None:  # a tag filter alone: the tagged documents by name
        ranked.sort(key=lambda hit: hit.sort_key()[1:])
    return ranked[start:wanted], total, exact


def sync_page(person: Person, query: Query) -> tuple[list[Hit], int, bool]:
    """The common case, nothing found by tags or comments: sync's own page, as it is."""
    found = names_page(person, query, query.page, PER_PAGE)
    return [hit_of(hit) for hit in found.hits], found.total, found.total_is_exact


def name_only_hits(
    person: Person, query: Query, skip: set[Key], wanted: int
) -> tuple[list[Hit], int, bool]:
    """Sync's hits outside `skip`, best first, until `wanted` of them; sync's total and
    whether it is exact."""
    hits: list[Hit] = []
    page, total, exact = 1, 0, True
    while len(hits) < wanted:
        found = names_page(person, query, page, MAX_PER_PAGE)
        total, exact = found.total, found.total_is_exact
        for sync_hit in found.hits:
            if (sync_hit.drive_id, sync_hit.item_id) not in skip:
                hits.append(hit_of(sync_hit))
        if page >= found.pages or not found.hits:
            break
        page += 1
    return hits, total, exact


def names_page(person: Person, query: Query, page: int, per_page: int) -> SearchPage:
    """One page of sync's name/path search, for the request's principal set."""
    principals = access.principals_of(person.id)
    return search_names(db.index(), principals, query.text, query.filters, page, per_page)


def hit_of(found: SearchHit) -> Hit:
    row = Document(
        found.drive_id,
        found.item_id,
        found.name,
        found.path,
        found.web_url,
        found.is_folder,
        found.file_type,
        None,
        found.modified_at,
        found.modified_by_name,
        site_id=found.site_id,
        site_title=found.site_title,
    )
    return Hit(row, found.score, found.score, name_html=found.name_html)


def run_search(person: Person, query: Query) -> Results:
    if query.empty:
        return Results(query, [], 0)
    security.check_read_rate(person, "search")
    hits, total, exact = merge(person, query)
    match = fts_query(query.text)
    rowids = [hit.comment_rowid for hit in hits if hit.comment_rowid is not None]
    snippets = comment_snippets(rowids, match) if rowids and match else {}
    page_keys = [hit.row.key for hit in hits]
    all_tags, paths = tags.tags_on(page_keys), path_highlights(match, page_keys)
    for hit in hits:
        hit.snippet_html = paths.get(hit.row.key, "")
        hit.comment_html = snippets.get(hit.comment_rowid, "")
        hit.name_html = hit.name_html or html.escape(hit.row.name or "", quote=False)
        hit.tags = all_tags.get(hit.row.key, [])
    return Results(query, hits, total, exact)


# ---- views -------------------------------------------------------------------------------


@bp.get("/search")
def search_page():
    person = require_person()
    query = parse_query()
    results = run_search(person, query)
    counts = social_counts(hit.row.key for hit in results.hits)
    return render_template(
        "search.html", results=results, counts=counts, sites=browse.visible_sites(person)
    )


# A hit's document fields, in the order the API has always given them among its own.
HIT_FIELDS = (
    "driveId", "itemId", "name", "nameHtml", "path", "snippetHtml", "commentSnippetHtml",
    "matchedTags", "tags", "webUrl", "site", "fileType", "isFolder", "modifiedAt", "modifiedBy",
    "archived",
)  # fmt: skip


def hit_json(hit: Hit, counts: Counts) -> dict[str, Any]:
    extra = {
        "nameHtml": hit.name_html,
        "snippetHtml": hit.snippet_html,
        "commentSnippetHtml": hit.comment_html,
        "matchedTags": hit.matched_tags,
        "tags": hit.tags,
        "commentCount": counts.comments,
        "likeCount": counts.likes,
    }
    return document_json(hit.row, HIT_FIELDS, extra)


@bp.get("/api/v1/search")
def api_search():
    person = require_person()
    results = run_search(person, parse_query())
    counts = social_counts(hit.row.key for hit in results.hits)
    return jsonify(
        {
            "query": results.query.text,
            "total": results.total,
            "totalIsExact": results.total_is_exact,
            "page": results.query.page,
            "perPage": PER_PAGE,
            "value": [hit_json(hit, counts.get(hit.row.key, Counts())) for hit in results.hits],
        }
    )


# ---- OpenAPI -----------------------------------------------------------------------------

API_SCHEMAS = {
    "SearchHit": obj(
        document_properties(
            HIT_FIELDS,
            {
                "nameHtml": STRING,
                "snippetHtml": STRING,
                "commentSnippetHtml": STRING,
                "matchedTags": STRINGS,
                "tags": STRINGS,
                "commentCount": INTEGER,
                "likeCount": INTEGER,
            },
        )
    ),
}

QUERY_SCHEMA = {"type": "string", "maxLength": MAX_QUERY}
API_PATHS = {
    "/api/v1/search": {
        "get": {
            "summary": "Full-text search over names, paths, tags and comments the caller may see.",
            "operationId": "search",
            "parameters": [
                query_param("q", "Words to find (the last also as a prefix).", QUERY_SCHEMA),
                query_param("site", "Only this site id."),
                query_param("type", "Only this file type (extension, e.g. docx)."),
                query_param("tag", "Only documents with this tag."),
                query_param("modified_after", "Modified at or after (YYYY-MM-DD or ISO 8601)."),
                query_param("modified_before", "Modified before (YYYY-MM-DD or ISO 8601)."),
                query_param(
                    "page",
                    "1-based page number.",
                    {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_PAGE},
                ),
            ],
            "responses": {
                "200": paged(
                    "SearchHit",
                    "Hits; total counts visible ones only (a lower bound when totalIsExact is"
                    " false: more than 10,000 documents matched by name or path).",
                    query=STRING,
                    totalIsExact=BOOLEAN,
                ),
                "400": error_response("A filter is not valid (the message says which)."),
                "401": UNAUTHENTICATED,
                "429": error_response("Too many searches this minute (see Retry-After)."),
            },
        }
    },
}
