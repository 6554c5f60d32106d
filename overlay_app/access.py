"""The one access check: whether a person may read a document and everything derived from it.

Every read of a document, its comments, replies, likes, tags, notifications, search hits and
counts goes through here (like Zulip's `access_stream_by_id`); nothing else decides visibility.

Rules:
- The index decides first, through sync's trimming predicate (the person's principal set
  joined with the effective ACL); unknown people, unknown or failed permissions, empty ACLs and
  missing rows are visible to nobody (fail closed).
- An archived document (deleted in SharePoint, or its library removed) stays visible,
  read-only, to whoever its last known ACL admitted.
- `require_document(..., live=True)` also asks Graph with the person's own delegated token
  whether they can open the item now; the answer is cached per (person, drive, item) for at
  most `live_check_seconds`. No token, or Graph not answering, leaves the index's word.
- Refusal is NotFound, exactly like a missing document, and is written to the audit log with
  ids only: a title must never appear in an exception, a log line or a header.
- Discovery is not access (`filter_discoverable`): lists that push documents at people (a
  profile's "documents they discuss", a tag page) leave out those the person reaches only
  through an organisation-wide or anonymous link, unless they already interacted with them
  (commented, liked, tagged, wrote in or followed its chat room, were mentioned or notified).
  Such a document still opens, and search, browsing and notifications still find it.
- A person's principal set is read from the index once per request (`principals_of`, kept on
  flask.g) however many checks the request makes; the next request reads it afresh, so a
  revocation synced meanwhile applies at once.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, g, has_request_context

from connector.delegated import DelegatedSession, item_reachable
from connector.errors import ConnectorError
from overlay_app import db, security
from overlay_app.errors import NotFound
from overlay_app.identity import Person
from sync.access import can_view, principal_set
from sync.principals import ANONYMOUS_LINK, ORGANIZATION_LINK
from sync.trimming import (
    ADMITTED_OR_ARCHIVED,
    HOLDERS_ADMITTING_OR_ARCHIVED,
    ITEM_IS_VISIBLE_OR_ARCHIVED,
    principals_json,
)

log = logging.getLogger("overlay_app.access")

DENIED = "access.denied"
DENIED_LIVE = "access.denied.live"
MAX_CACHED_CHECKS = 10_000
PRINCIPALS_MEMO = "plaza_principals"  # on flask.g: person id -> principal set, this request

DOCUMENT_SQL = f"""
    SELECT i.drive_id, i.item_id, i.name, i.path, i.web_url, d.site_id, s.title AS site_title,
           d.name AS drive_name, i.is_folder, i.file_type, i.size, i.modified_at,
           i.modified_by_name, i.created_by_name, (i.deleted OR d.removed) AS archived,
           i.list_id, i.list_item_id
    FROM items AS i
    JOIN drives AS d ON d.id = i.drive_id
    LEFT JOIN sites AS s ON s.id = d.site_id
    WHERE i.drive_id = :drive_id AND i.item_id = :item_id AND {ITEM_IS_VISIBLE_OR_ARCHIVED}"""

# One query for a whole batch of keys, passed as a JSON array of [drive_id, item_id] pairs:
# each key checked on its own, or, from SET_FORM_FROM keys on, against the holders that admit
# the person, found once (50,000 keys: 1.75 s -> 0.31 s for a member; 500 keys: 31 vs 47 ms).
SET_FORM_FROM = 1_000
_KEYED_ITEMS = """
    FROM json_each(:keys) AS k
    JOIN items AS i ON i.drive_id = json_extract(k.value, '$[0]')
                   AND i.item_id = json_extract(k.value, '$[1]')"""
VISIBLE_AMONG_SQL = f"""
    SELECT i.drive_id, i.item_id {_KEYED_ITEMS}
    WHERE {ITEM_IS_VISIBLE_OR_ARCHIVED}"""
VISIBLE_AMONG_BY_HOLDERS_SQL = f"""
    WITH {HOLDERS_ADMITTING_OR_ARCHIVED}
    SELECT i.drive_id, i.item_id {_KEYED_ITEMS}
    JOIN admitting AS ad ON ad.drive_id = i.drive_id AND ad.item_id = i.acl_item_id
    WHERE {ADMITTED_OR_ARCHIVED}"""

# The rule in words, for the descriptions of the lists that follow it (OpenAPI).
DISCOVERY_RULE = (
    "Leaves out documents the caller reaches only through an organisation-wide or anonymous"
    " sharing link, unless the caller already commented on, liked, tagged or chatted about them,"
    " or was mentioned or notified about them."
)
# Principals that a link, not a grant, puts in a set: reaching a document through them alone
# does not make it discoverable (see the module docstring).
LINK_PRINCIPALS = frozenset({ORGANIZATION_LINK, ANONYMOUS_LINK})

# Among a batch of keys (a JSON array of [drive_id, item_id] pairs), those :person interacted
# with in the social store. Deleted comments and messages count: they were still interactions.
INTERACTED_AMONG_SQL = """
    WITH wanted(drive_id, item_id) AS (SELECT value ->> 0, value ->> 1 FROM json_each(:keys))
    SELECT c.drive_id, c.item_id FROM wanted AS w
    JOIN comments AS c ON c.drive_id = w.drive_id AND c.item_id = w.item_id
    WHERE c.author_id = :person
       OR EXISTS (SELECT 1 FROM comment_likes AS l
                  WHERE l.comment_id = c.id AND l.person_id = :person)
       OR EXISTS (SELECT 1 FROM mentions AS m WHERE m.comment_id = c.id AND m.person_id = :person)
    UNION
    SELECT drive_id, item_id FROM document_likes
    WHERE person_id = :person AND (drive_id, item_id) IN (SELECT * FROM wanted)
    UNION
    SELECT drive_id, item_id FROM tags
    WHERE added_by = :person AND (drive_id, item_id) IN (SELECT * FROM wanted)
    UNION
    SELECT drive_id, item_id FROM notifications
    WHERE person_id = :person AND (drive_id, item_id) IN (SELECT * FROM wanted)
    UNION
    SELECT r.drive_id, r.item_id FROM wanted AS w
    JOIN rooms AS r ON r.kind = 'document' AND r.drive_id = w.drive_id AND r.item_id = w.item_id
    WHERE EXISTS (SELECT 1 FROM room_members AS rm
                  WHERE rm.room_id = r.id AND rm.person_id = :person)
       OR EXISTS (SELECT 1 FROM messages AS m
                  LEFT JOIN message_mentions AS mm
                    ON mm.message_id = m.id AND mm.person_id = :person
                  WHERE m.room_id = r.id AND (m.author_id = :person OR mm.person_id IS NOT NULL))"""


@dataclass(frozen=True)
class Document:
    """A document (or folder) as the overlay shows it, built from the index."""

    drive_id: str
    item_id: str
    name: str | None
    path: str | None
    web_url: str | None
    site_id: str | None
    site_title: str | None
    drive_name: str | None
    is_folder: bool
    file_type: str | None
    size: int | None
    modified_at: str | None
    modified_by_name: str | None
    created_by_name: str | None
    archived: bool  # deleted in SharePoint: the discussion stays, read-only
    list_id: str | None
    list_item_id: int | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.drive_id, self.item_id)


# -- the public checks ---------------------------------------------------------------------------


def require_document(
    person: Person, drive_id: str, item_id: str, *, live: bool = False
) -> Document:
    """The document if `person` may read it, else NotFound (recorded in the audit log)."""
    document = _visible_document(person.id, drive_id, item_id)
    if document is None:
        why = _why_hidden(drive_id, item_id)
        _deny(person.id, DENIED, _document_target(drive_id, item_id), why)
        raise NotFound()
    # Graph cannot confirm an archived item (it answers 404 for everyone): the last known ACL
    # is all there is.
    if live and not document.archived and not live_checks().allows(person, drive_id, item_id):
        _deny(person.id, DENIED_LIVE, _document_target(drive_id, item_id), "graph refused")
        raise NotFound()
    return document


def filter_visible(person: Person, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (drive_id, item_id) pairs among `keys` that `person` may see, in one query."""
    wanted = _sorted_keys(keys)
    if not wanted:
        return set()
    return _visible_among(principals_of(person.id), wanted)


def filter_discoverable(person: Person, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs among `keys` that lists may push at `person`: those `filter_visible` admits
    and that either a principal other than a sharing link admits, or that the person already
    interacted with. Never more than `filter_visible` (discovery is not access)."""
    visible = filter_visible(person, keys)
    if not visible:
        return set()
    granted = _visible_among(principals_of(person.id) - LINK_PRINCIPALS, sorted(visible))
    return granted | _interacted_among(person.id, sorted(visible - granted))


def can_see(person_id: str, drive_id: str, item_id: str) -> bool:
    """Whether the person (a mention's or notification's recipient) may see the document."""
    return can_view(db.index(), person_id, drive_id, item_id, include_archived=True)


def require_comment(person: Person, comment_id: str) -> tuple[dict[str, Any], Document]:
    """The comment and its document, if `person` may read the document; else NotFound."""
    cursor = db.social().execute("SELECT * FROM comments WHERE id = ?", [comment_id])
    found = cursor.fetchone()
    if found is None:
        _deny(person.id, DENIED, f"comment:{comment_id}", "unknown comment")
        raise NotFound()
    comment = dict(zip([c[0] for c in cursor.description], found, strict=True))
    document = _visible_document(person.id, comment["drive_id"], comment["item_id"])
    if document is None:
        target = _document_target(comment["drive_id"], comment["item_id"])
        _deny(person.id, DENIED, target, f"comment:{comment_id}")
        raise NotFound()
    return comment, document


# -- the index -----------------------------------------------------------------------------------


def principals_of(person_id: str) -> frozenset[str]:
    """Every principal key that admits the person (sync.trimming.principal_set; empty for an
    unknown or disabled person), read once per request: a document page checks the document,
    its breadcrumbs and more, each needing the same set. Outside a request (the event pump,
    scripts: app contexts that may live long) it is read every time."""
    if not has_request_context():
        return principal_set(db.index(), person_id)
    known: dict[str, frozenset[str]] = g.setdefault(PRINCIPALS_MEMO, {})
    if person_id not in known:
        known[person_id] = principal_set(db.index(), person_id)
    return known[person_id]


def _sorted_keys(keys: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted({(str(d), str(i)) for d, i in keys})


def _visible_among(principals: frozenset[str], keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs among `keys` that the principal set admits (one query; none for no set)."""
    if not keys or not principals:
        return set()
    sql = VISIBLE_AMONG_SQL if len(keys) < SET_FORM_FROM else VISIBLE_AMONG_BY_HOLDERS_SQL
    rows = db.index().execute(
        sql, {"keys": json.dumps(keys), "principals": principals_json(principals)}
    )
    return {(drive_id, item_id) for drive_id, item_id in rows}


def _interacted_among(person_id: str, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs among `keys` the person commented on, liked (the document or a comment),
    tagged, discussed in its chat room or followed, or was mentioned or notified about."""
    if not keys:
        return set()
    rows = db.social().execute(
        INTERACTED_AMONG_SQL, {"keys": json.dumps(keys), "person": person_id}
    )
    return {(drive_id, item_id) for drive_id, item_id in rows}


def _visible_document(person_id: str, drive_id: str, item_id: str) -> Document | None:
    principals = principals_of(person_id)
    if not principals:
        return None
    cursor = db.index().execute(
        DOCUMENT_SQL,
        {"drive_id": drive_id, "item_id": item_id, "principals": principals_json(principals)},
    )
    row = cursor.fetchone()
    if row is None:
        return None
    values = dict(zip([column[0] for column in cursor.description], row, strict=True))
    values.update(is_folder=bool(values["is_folder"]), archived=bool(values["archived"]))
    return Document(**values)


def _why_hidden(drive_id: str, item_id: str) -> str:
    """For the audit log only: whether the index knows the item at all (never its name)."""
    query = "SELECT 1 FROM items WHERE drive_id = ? AND item_id = ?"
    known = db.index().execute(query, [drive_id, item_id]).fetchone()
    return "not visible" if known else "unknown item"


def _document_target(drive_id: str, item_id: str) -> str:
    return f"document:{drive_id}/{item_id}"


def _deny(person_id: str, action: str, target: str, detail: str) -> None:
    security.audit_denial(person_id, action, target, detail)


# -- the live check ------------------------------------------------------------------------------


@dataclass
class LiveChecks:
    """Graph's answer to "can this person open this item now", cached briefly per process.

    `clock` is monotonic seconds (tests inject their own); entries live `ttl` seconds.
    """

    graph_url: str
    ca_bundle: str
    ttl: float
    clock: Callable[[], float] = time.monotonic
    _answers: dict[tuple[str, str, str], tuple[float, bool]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _session: DelegatedSession | None = None

    def allows(self, person: Person, drive_id: str, item_id: str) -> bool:
        key = (person.id, drive_id, item_id)
        now = self.clock()
        with self._lock:
            cached = self._answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        token = _delegated_token(person)
        if not token:
            return True  # no delegated token: the index's answer stands
        try:
            allowed = item_reachable(self.session(), self.graph_url, token, drive_id, item_id)
        except ConnectorError as exc:
            # Not a refusal: Graph could not be asked (expired token, outage). The index
            # already admitted the person; do not cache, ask again next time.
            log.warning("live access check not answered (%s, status %s)", exc.code, exc.status)
            return True
        self._remember(key, now, allowed)
        return allowed

    def _remember(self, key: tuple[str, str, str], now: float, allowed: bool) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._answers) >= MAX_CACHED_CHECKS:
                self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
            self._answers[key] = (now + self.ttl, allowed)

    def session(self) -> DelegatedSession:
        if self._session is None:
            self._session = DelegatedSession(self.ca_bundle)
        return self._session


def live_checks(app: Flask | None = None) -> LiveChecks:
    """The app's live-check cache (one per app and process), created on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    checks = app.extensions.get("plaza.live_checks")
    if checks is None:
        settings = app.extensions["plaza.settings"]
        checks = LiveChecks(settings.graph_url, settings.ca_bundle, settings.live_check_seconds)
        checks = app.extensions.setdefault("plaza.live_checks", checks)
    return checks


def _delegated_token(person: Person) -> str | None:
    """The person's delegated Graph token from the sign-in layer, when it keeps one."""
    auth = importlib.import_module("overlay_app.auth")
    provider = getattr(auth, "delegated_graph_token", None)
    return provider(person) if provider is not None else None
