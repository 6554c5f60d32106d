"""The one access check: whether a person may read a document and everything derived from it.

Every read of a document, its comments, replies, likes, tags, notifications, search hits and
counts goes through here (like Zulip's `access_stream_by_id`); nothing else decides visibility.

Rules:
- The index decides first: sync.visibility, the index's read API, answers for the person's
  principal set (read here once per request) joined with the effective ACL; unknown people,
  unknown or failed permissions, empty ACLs and missing rows are visible to nobody (fail
  closed). This module holds no SQL on the index: only what is per request.
- An archived document (deleted in SharePoint, or its library removed) stays visible,
  read-only, to whoever both its last known ACL and its nearest live ancestor's ACL admit.
- `require_document` and `require_comment` are live by default: Graph is asked whether the
  person can open the item now (overlay_app.live_access: their delegated token, which the
  sign-in layer provides at init_app through `provide_delegated_tokens`, else an app-only read
  of the item's permissions), cached per (person, drive, item) for at most
  `live_check_seconds`. Graph not answering leaves the index's word. Lists (`filter_visible`,
  `can_see`) do not ask Graph, but leave out what a live check refused within that window.
- Refusal is NotFound, exactly like a missing document, and is written to the audit log with
  ids only: a title must never appear in an exception, a log line or a header. A missing id
  makes the lookups of a hidden one (`refuse`), so the two cannot be told apart by timing.
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

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from flask import Flask, current_app, g, has_request_context

from overlay_app import db, security
from overlay_app.chat import store_rooms as chat_rooms_store
from overlay_app.discussion import store as discussion_store
from overlay_app.errors import NotFound
from overlay_app.identity import Person
from overlay_app.live_access import AccountChecks, AppGraph, LiveChecks
from overlay_app.notifications import store as notifications_store
from overlay_app.tags import store as tags_store
from sync import visibility
from sync.principals import ANONYMOUS_LINK, ORGANIZATION_LINK
from sync.trimming import principal_set
from sync.visibility import Document

log = logging.getLogger("overlay_app.access")

DENIED = "access.denied"
DENIED_LIVE = "access.denied.live"
PRINCIPALS_MEMO = "plaza_principals"  # on flask.g: person id -> principal set, this request

DELEGATED_TOKEN = "plaza.delegated_token"  # on app.extensions: Person -> token or None

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
INTERACTED_AMONG_SQL = f"""
    WITH wanted(drive_id, item_id) AS (SELECT value ->> 0, value ->> 1 FROM json_each(:keys))
    {discussion_store.INTERACTED_SQL}
    UNION {tags_store.INTERACTED_SQL}
    UNION
    {notifications_store.INTERACTED_SQL}
    UNION {chat_rooms_store.INTERACTED_SQL}"""


# -- the public checks ---------------------------------------------------------------------------


def require_document(person: Person, drive_id: str, item_id: str, *, live: bool = True) -> Document:
    """The document if `person` may read it, else NotFound (recorded in the audit log).

    Live by default: Graph confirms the index's yes (cached, overlay_app.live_access). Only
    callers that already passed a live check for the same document may pass `live=False`."""
    document = _visible_document(person.id, drive_id, item_id)
    if document is None:
        refuse(person, _document_target(drive_id, item_id), drive_id, item_id)
    # Graph cannot confirm an archived item (it answers 404 for everyone): the last known ACL
    # is all there is.
    if live and not document.archived and not _confirmed_live(person, document):
        _deny(person.id, DENIED_LIVE, _document_target(drive_id, item_id), "graph refused")
        raise NotFound()
    return document


def refuse(
    person: Person, target: str, drive_id: str = "", item_id: str = "", detail: str | None = None
) -> NoReturn:
    """NotFound, audited. A refusal naming no document (a missing comment or room) looks up
    the empty key the way a hidden document is looked up, so that a missing id costs the same
    queries as a hidden one (no timing tells them apart)."""
    if not drive_id:
        _visible_document(person.id, drive_id, item_id)
    why = _why_hidden(drive_id, item_id)
    _deny(person.id, DENIED, target, detail or why)
    raise NotFound()


def _confirmed_live(person: Person, document: Document) -> bool:
    principals = principals_of(person.id)
    return live_checks().allows(
        person, document.drive_id, document.item_id, document.site_id or "", principals
    )


def filter_visible(person: Person, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (drive_id, item_id) pairs among `keys` that `person` may see, in one query, less
    those whose live check failed within the cache window."""
    wanted = _sorted_keys(keys)
    if not wanted:
        return set()
    visible = _visible_among(principals_of(person.id), wanted)
    return visible - live_checks().denied(person.id, visible) if visible else visible


def filter_discoverable(person: Person, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs among `keys` that lists may push at `person`: those `filter_visible` admits
    and that either a principal other than a sharing link admits, or that the person already
    interacted with. Never more than `filter_visible` (discovery is not access).

    Lists for an id the person names (a tag) use it: the index is asked even for no keys, so
    a tag on hidden documents only costs what a tag on none does."""
    wanted = _sorted_keys(keys)
    if not wanted:
        return _visible_among(principals_of(person.id), wanted)
    visible = filter_visible(person, wanted)
    if not visible:
        return set()
    granted = _visible_among(principals_of(person.id) - LINK_PRINCIPALS, sorted(visible))
    return granted | _interacted_among(person.id, sorted(visible - granted))


def documents(person: Person, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Document]:
    """The index's metadata of the documents among `keys` that `person` may see, by key, in
    one query: for lists that already trimmed their keys (`filter_visible`) and show a page."""
    return visibility.documents(db.index(), principals_of(person.id), keys)


def can_see(person_id: str, drive_id: str, item_id: str) -> bool:
    """Whether the person (a mention's or notification's recipient) may see the document: the
    index admits them and no live check refused them within the cache window."""
    if live_checks().denied(person_id, [(drive_id, item_id)]):
        return False
    principals = principals_of(person_id)
    return visibility.can_view(db.index(), principals, drive_id, item_id, include_archived=True)


def require_comment(
    person: Person, comment_id: str, *, live: bool = True
) -> tuple[dict[str, Any], Document]:
    """The comment and its document, if `person` may read the document; else NotFound. A
    missing comment runs the same lookups as one on a hidden document (see `refuse`)."""
    comment = discussion_store.comment_by_id(db.social(), comment_id)
    if comment is None:
        refuse(person, f"comment:{comment_id}", detail="unknown comment")
    drive_id, item_id = comment["drive_id"], comment["item_id"]
    document = _visible_document(person.id, drive_id, item_id)
    if document is None:
        _why_hidden(drive_id, item_id)  # as `refuse` does for a missing comment
        _deny(person.id, DENIED, _document_target(drive_id, item_id), f"comment:{comment_id}")
        raise NotFound()
    if live and not document.archived and not _confirmed_live(person, document):
        _deny(person.id, DENIED_LIVE, _document_target(drive_id, item_id), "graph refused")
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
    return visibility.visible_among(db.index(), principals, keys)


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
    return visibility.document(db.index(), principals_of(person_id), drive_id, item_id)


def _why_hidden(drive_id: str, item_id: str) -> str:
    """For the audit log only: whether the index knows the item at all (never its name)."""
    known = visibility.item_known(db.index(), drive_id, item_id)
    return "not visible" if known else "unknown item"


def _document_target(drive_id: str, item_id: str) -> str:
    return f"document:{drive_id}/{item_id}"


def _deny(person_id: str, action: str, target: str, detail: str) -> None:
    security.audit_denial(person_id, action, target, detail)


# -- the live check (overlay_app.live_access) ----------------------------------------------------


def live_checks(app: Flask | None = None) -> LiveChecks:
    """The app's live-check cache (one per app and process), created on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    checks = app.extensions.get("plaza.live_checks")
    if checks is None:
        settings = app.extensions["plaza.settings"]
        checks = LiveChecks(
            settings.graph_url,
            settings.ca_bundle,
            settings.live_check_seconds,
            app_graph=_app_graph(app),
            delegated_token=app.extensions.get(DELEGATED_TOKEN, _no_delegated_token),
        )
        checks = app.extensions.setdefault("plaza.live_checks", checks)
    return checks


def account_checks(app: Flask | None = None) -> AccountChecks:
    """The app's cache of "is this account enabled in Entra now" (one per app and process)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    checks = app.extensions.get("plaza.account_checks")
    if checks is None:
        ttl = app.extensions["plaza.settings"].live_check_seconds
        checks = app.extensions.setdefault(
            "plaza.account_checks", AccountChecks(_app_graph(app), ttl)
        )
    return checks


def _app_graph(app: Flask) -> AppGraph:
    graph = app.extensions.get("plaza.app_graph")
    if graph is None:
        graph = AppGraph(app.extensions["plaza.settings"])
        graph = app.extensions.setdefault("plaza.app_graph", graph)
    return graph


def provide_delegated_tokens(app: Flask, provider: Callable[[Person], str | None]) -> None:
    """Registers where the live check gets a person's delegated Graph token: the sign-in
    layer calls it from its init_app, so this module never imports the sign-in layer."""
    app.extensions[DELEGATED_TOKEN] = provider


def _no_delegated_token(person: Person) -> str | None:
    return None
