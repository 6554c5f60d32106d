"""Who knows about X: people ranked by evidence, every piece of it trimmed for the viewer.

The topic is a tag (the documents carrying it) or search words (the documents whose name,
path or site match, through sync's trimmed search, and those whose comments match). The
documents are trimmed FIRST (access.filter_visible), then the evidence is gathered on what is
left only, so evidence from a document the viewer cannot open counts for nobody, not even as a
number. Evidence, per person:
- comment: a thread they started on one of the documents;
- reply: a reply they wrote there (an answer);
- like: a like someone else gave one of their comments there;
- authored: a document they created in SharePoint (the item's createdBy in the index).
Score: 3 per reply, 3 per authored document, 2 per comment, 1 per like received.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from overlay_app import access, db
from overlay_app.discussion import store_insights, store_search
from overlay_app.identity import Person
from overlay_app.tags import store as tags_store
from sync import authorship, directory
from sync.search import MAX_PER_PAGE, SearchFilters, fts_query, search_documents

Key = tuple[str, str]
WEIGHTS = {"reply": 3, "authored": 3, "comment": 2, "like": 1}
SEARCH_PAGES = 3  # at most 300 documents matched by name
TOP_EXPERTS = 20


@dataclass
class Evidence:
    person: str
    pieces: list[dict] = field(default_factory=list)  # {kind, driveId, itemId, commentId}

    @property
    def score(self) -> int:
        return sum(WEIGHTS[piece["kind"]] for piece in self.pieces)

    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(WEIGHTS, 0)
        for piece in self.pieces:
            found[piece["kind"]] += 1
        return found


def topic_keys(viewer: Person, tag: str | None, words: str | None) -> set[Key]:
    """The documents of the topic that the viewer may open."""
    keys: set[Key] = set()
    if tag:
        keys |= set(tags_store.tagged_keys(db.social(), tag))
    if words:
        principals = access.principals_of(viewer.id)
        for page in range(1, SEARCH_PAGES + 1):
            found = search_documents(
                db.index(), principals, words, SearchFilters(), page, MAX_PER_PAGE
            )
            keys |= {(hit.drive_id, hit.item_id) for hit in found.hits}
            if len(found.hits) < MAX_PER_PAGE:
                break
        match = fts_query(words)
        if match:
            rows = store_search.matching_comments(db.social(), match)
            keys |= {(d, i) for d, i, _ in rows}
    return access.filter_visible(viewer, keys)


def evidence_on(keys: set[Key]) -> dict[str, Evidence]:
    """Each person's evidence on those (already trimmed) documents."""
    found: dict[str, Evidence] = {}

    def add(person: str, piece: dict) -> None:
        found.setdefault(person, Evidence(person)).pieces.append(piece)

    ordered = sorted(keys)
    comments = store_insights.comments_on(db.social(), ordered)
    authors = {cid: author for cid, _, _, _, author in comments}
    for cid, d, i, parent, author in comments:
        kind = "comment" if parent is None else "reply"
        add(author, {"kind": kind, "driveId": d, "itemId": i, "commentId": cid})
    by_comment = {cid: (d, i) for cid, d, i, _, _ in comments}
    for cid, liker in store_insights.likes_received(db.social(), list(authors)):
        if liker != authors[cid]:
            d, i = by_comment[cid]
            add(authors[cid], {"kind": "like", "driveId": d, "itemId": i, "commentId": cid})
    for (d, i), creator in sorted(authorship.creators(db.index(), ordered).items()):
        add(creator, {"kind": "authored", "driveId": d, "itemId": i, "commentId": None})
    return found


def experts(viewer: Person, tag: str | None, words: str | None) -> list[dict]:
    """The people with evidence on the topic, best first, each with their evidence."""
    keys = topic_keys(viewer, tag, words)
    found = evidence_on(keys)
    active = directory.active_ids(db.index(), found)
    ranked = sorted(
        (e for e in found.values() if e.person in active), key=lambda e: (-e.score, e.person)
    )[:TOP_EXPERTS]
    names = directory.display_names(db.index(), [e.person for e in ranked])
    documents = access.documents(viewer, keys)
    return [_expert_json(e, names, documents) for e in ranked]


def _expert_json(evidence: Evidence, names: dict[str, str], documents) -> dict:
    pieces = [
        piece | {"name": documents[(piece["driveId"], piece["itemId"])].name}
        for piece in evidence.pieces
        if (piece["driveId"], piece["itemId"]) in documents
    ]
    return {
        "id": evidence.person,
        "displayName": names.get(evidence.person, evidence.person),
        "score": evidence.score,
        "counts": evidence.counts(),
        "evidence": pieces,
    }


def profile_evidence(viewer: Person, person_id: str) -> list[dict]:
    """A profile's evidence, by tag: the person's pieces on tagged documents the viewer may
    see and discover (a profile is a feed: access.filter_discoverable), and on documents
    they commented on."""
    social = db.social()
    candidates = set(store_insights.commented_keys_of(social, person_id))
    candidates |= set(tags_store.tagged_documents(social))
    keys = access.filter_discoverable(viewer, candidates)
    mine = evidence_on(keys).get(person_id)
    if mine is None:
        return []
    documents = access.documents(viewer, keys)
    tags = tags_store.tags_on(social, sorted(keys))
    by_tag: dict[str, list[dict]] = defaultdict(list)
    for piece in mine.pieces:
        key = (piece["driveId"], piece["itemId"])
        if key not in documents:
            continue
        for tag in tags.get(key, []) or ["(untagged)"]:
            by_tag[tag].append(piece | {"name": documents[key].name})
    ranked = sorted(by_tag.items(), key=lambda pair: (-len(pair[1]), pair[0]))
    return [{"tag": tag, "evidence": pieces} for tag, pieces in ranked]
