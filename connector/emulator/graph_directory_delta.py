"""Users and groups delta: snapshots of the directory, their differences, and paged rounds.

Glossary:
- *snapshot*: the directory (every user and group, with each group's live direct members) as it
  was at one tenant `seq`. One is captured when a round starts and only if the directory journal
  moved since the last one, so quiet tenants share one snapshot.
- *round*: the pages between two snapshots (`old` None for the initial full enumeration). Its
  content is computed from the two snapshots alone, so a round pages consistently even while
  the directory keeps changing; changes made meanwhile surface in the next round.
- *deltatoken*: names the snapshot a client has caught up to; *skiptoken*: a round plus the
  position in it. Both are opaque base64url JSON carrying the tenant id, `delta_epoch` and the
  emulator process (`Tenant.instance`), so `Tenant.expire_delta_tokens`, a restarted emulator
  (and snapshots aged out of the store) answer 410 sync reset.

Microsoft's wording this follows (MGDC concepts/delta-query-groups.md, api/user-delta.md):
only selected properties are tracked; unchanged properties are repeated unless the client sends
`Prefer: return=minimal`; never-set properties are left out; a large group is repeated across
pages, each copy with a slice of `members@delta`.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import current_app, request

from connector.emulator.odata import GraphHTTPError, absolute_url, query_param

USER_TYPE, GROUP_TYPE = "#microsoft.graph.user", "#microsoft.graph.group"
KEEP_SNAPSHOTS = 64  # older deltatokens answer 410, as expired sync state does at Microsoft
_NOT_SET = (None, [])


@dataclass(frozen=True, eq=False)
class Entry:
    """One directory object in a snapshot."""

    properties: dict[str, Any]
    deleted: bool = False
    members: tuple[tuple[str, str], ...] | None = None  # groups: (@odata.type, id) of members

    def same_as(self, other: Entry) -> bool:
        return (self.properties, self.deleted, self.members) == (
            other.properties,
            other.deleted,
            other.members,
        )


@dataclass(frozen=True, eq=False)
class Snapshot:
    seq: int
    objects: dict[str, dict[str, Entry]]  # "users" | "groups" -> id -> entry


@dataclass(frozen=True)
class Query:
    """What a round tracks, fixed when the round starts and carried in its tokens."""

    kind: str  # "users" | "groups"
    properties: tuple[str, ...]  # tracked properties in output order ("id" where it shows)
    selected: bool  # $select given: @odata.context lists it; id is added last if not selected
    members: bool  # groups: track members@delta
    ids: tuple[str, ...] = ()  # $filter=id eq '...' or ...; empty = everything


@dataclass
class Change:
    """One object in a round: created, changed, restored or removed."""

    id: str
    entry: Entry | None
    removed: str | None = None  # "changed" (soft-deleted) | "deleted" (gone for good)
    changed: frozenset[str] = frozenset()
    member_delta: list[dict[str, Any]] = field(default_factory=list)


class SnapshotStore:
    """The snapshots named by live tokens, oldest first, capped at KEEP_SNAPSHOTS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: list[Snapshot] = []
        self._rounds: dict[tuple, list[Change]] = {}

    def capture(self, tenant, build: Callable[[], dict[str, dict[str, Entry]]]) -> Snapshot:
        """The directory now: the last snapshot if the journal has not moved since, or a new one."""
        with tenant.lock, self._lock:
            last = self._snapshots[-1] if self._snapshots else None
            journal = tenant.directory_journal
            if last and (not journal or journal[-1][0] <= last.seq):
                return last
            objects = build()
            if last:  # share unchanged entries with the previous snapshot
                for kind, entries in objects.items():
                    before = last.objects.get(kind, {})
                    for oid, entry in entries.items():
                        if oid in before and before[oid].same_as(entry):
                            entries[oid] = before[oid]
            snapshot = Snapshot(tenant.seq, objects)
            self._snapshots = [*self._snapshots[-(KEEP_SNAPSHOTS - 1) :], snapshot]
            return snapshot

    def find(self, seq: int) -> Snapshot | None:
        with self._lock:
            return next((s for s in self._snapshots if s.seq == seq), None)

    def round(self, old: Snapshot | None, new: Snapshot, query: Query) -> list[Change]:
        """The changes from `old` to `new` (cached: every page of a round asks again)."""
        key = (id(old), id(new), query)
        with self._lock:
            cached = self._rounds.get(key)
        if cached is None:
            cached = diff(old, new, query)
            with self._lock:
                if len(self._rounds) >= 16:
                    self._rounds.pop(next(iter(self._rounds)))
                self._rounds[key] = cached
        return cached


# -- differences -----------------------------------------------------------------------------


def diff(old: Snapshot | None, new: Snapshot, query: Query) -> list[Change]:
    """Objects to report in a round, in the new snapshot's order, removals of vanished ones last."""
    now = new.objects[query.kind]
    before = old.objects[query.kind] if old else {}
    wanted = set(query.ids)
    changes: list[Change] = []
    for oid, entry in now.items():
        if wanted and oid not in wanted:
            continue
        change = _compare(oid, before.get(oid), entry, query, initial=old is None)
        if change:
            changes.append(change)
    for oid, entry in before.items():
        if oid not in now and not entry.deleted and (not wanted or oid in wanted):
            changes.append(Change(oid, None, removed="deleted"))
    return changes


def _compare(oid: str, was: Entry | None, entry: Entry, query: Query, initial: bool):
    if was is entry and not initial:
        return None
    if was is None or was.deleted or initial:
        if entry.deleted:
            return None
        props = frozenset(p for p in query.properties if entry.properties.get(p) not in _NOT_SET)
        members = _member_changes((), entry.members or ()) if query.members else []
        return Change(oid, entry, changed=props, member_delta=members)
    if entry.deleted:
        return Change(oid, entry, removed="changed")
    props = frozenset(
        p for p in query.properties if was.properties.get(p) != entry.properties.get(p)
    )
    members = _member_changes(was.members or (), entry.members or ()) if query.members else []
    if not props and not members:
        return None
    return Change(oid, entry, changed=props, member_delta=members)


def _member_changes(before, after) -> list[dict[str, Any]]:
    """members@delta items: removals (marked as Graph does) then additions."""
    now = set(after)
    gone = [m for m in before if m not in now]
    was = set(before)
    removed = [{"@odata.type": t, "id": i, "@removed": {"reason": "deleted"}} for t, i in gone]
    return removed + [{"@odata.type": t, "id": i} for t, i in after if (t, i) not in was]


# -- pages -----------------------------------------------------------------------------------


def page(
    changes: list[Change], position: tuple[int, int], budget: int, query: Query, minimal: bool
) -> tuple[list[dict[str, Any]], tuple[int, int] | None]:
    """Renders the page starting at (change index, member offset); returns it and the next position.

    Each object costs one unit of `budget`, each members@delta entry one more: a group with more
    members than fit is cut, and the rest follows on the next pages in copies of the same group.
    """
    index, offset = position
    out: list[dict[str, Any]] = []
    while index < len(changes) and budget > 0:
        change = changes[index]
        members = change.member_delta[offset : offset + max(1, budget - 1)]
        out.append(render(change, query, minimal, members))
        budget -= 1 + len(members)
        offset += len(members)
        if offset >= len(change.member_delta):
            index, offset = index + 1, 0
    return out, ((index, offset) if index < len(changes) else None)


def render(change: Change, query: Query, minimal: bool, members: list[dict]) -> dict[str, Any]:
    """One object as Graph's delta shows it."""
    if change.removed or change.entry is None:
        return {"id": change.id, "@removed": {"reason": change.removed or "deleted"}}
    props = change.entry.properties
    body: dict[str, Any] = {}
    for name in query.properties:
        value = props.get(name)
        # Changed properties always show (null included: "cleared"); unchanged ones unless
        # minimal; never-set ones never (user-delta.md, "Default: return the same properties").
        if name in change.changed or (not minimal and value not in _NOT_SET):
            body[name] = value
    body.setdefault("id", change.id)
    if members:
        body["members@delta"] = members
    return body


# -- tokens ----------------------------------------------------------------------------------


def encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_token(token: str) -> dict[str, Any] | None:
    """The payload of one of our tokens, or None if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) and payload.get("v") == 1 else None


def query_to_token(query: Query) -> dict[str, Any]:
    return {
        "k": query.kind,
        "p": list(query.properties),
        "s": query.selected,
        "m": query.members,
        "i": list(query.ids),
    }


def query_from_token(payload: dict[str, Any]) -> Query:
    return Query(
        kind=payload["k"],
        properties=tuple(payload["p"]),
        selected=bool(payload["s"]),
        members=bool(payload["m"]),
        ids=tuple(payload["i"]),
    )


# -- requests --------------------------------------------------------------------------------

Build = Callable[[], dict[str, dict[str, Entry]]]
_stores: weakref.WeakKeyDictionary[Any, SnapshotStore] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def store_of(tenant) -> SnapshotStore:
    """The tenant's snapshot store (kept beside the tenant: it is the tenant's history)."""
    with _stores_lock:
        return _stores.setdefault(tenant, SnapshotStore())


@dataclass(frozen=True)
class RoundPage:
    """Which page of which round a request asks for."""

    query: Query
    old: Snapshot | None  # None: the initial enumeration
    new: Snapshot
    position: tuple[int, int] = (0, 0)  # (change index, member offset)
    first: bool = True  # the round's first page (its @odata.context shows $select)


def respond(kind: str, initial_query: Callable[[], Query], build: Build) -> dict[str, Any]:
    """One page of `GET /{kind}/delta`, whichever token (or none) the request carries."""
    tenant = current_app.extensions["tenant"]
    store = store_of(tenant)
    skip, delta = query_param("$skiptoken"), query_param("$deltatoken")
    if delta and delta.lower() == "latest" and not skip:
        # "Sync from now": no data, just a deltaLink (delta-query-overview.md).
        query = initial_query()
        snapshot = store.capture(tenant, build)
        return _body(kind, query, True, [], _link(tenant, query, "$deltatoken", q=snapshot.seq))
    if skip:
        at = _continued(store, _state(skip, tenant, kind, page_token=True))
    elif delta:
        state = _state(delta, tenant, kind, page_token=False)
        query, old = query_from_token(state), store.find(state["q"])
        if old is None:  # aged out of the store: as expired sync state
            raise _reset(query)
        at = RoundPage(query, old, store.capture(tenant, build))
    else:  # a fresh round; an empty $deltatoken (410's Location) starts one too
        at = RoundPage(initial_query(), None, store.capture(tenant, build))
    changes = store.round(at.old, at.new, at.query)
    minimal = at.old is not None and "return=minimal" in request.headers.get("Prefer", "").lower()
    size = int(current_app.config.get("GRAPH_DIRECTORY_DELTA_PAGE_SIZE", 200))
    value, next_at = page(changes, at.position, size, at.query, minimal)
    if next_at is None:
        link = _link(tenant, at.query, "$deltatoken", q=at.new.seq)
    else:
        old_seq = at.old.seq if at.old else None
        link = _link(tenant, at.query, "$skiptoken", n=at.new.seq, q=old_seq, at=list(next_at))
    return _body(kind, at.query, at.first, value, link)


def _continued(store: SnapshotStore, state: dict[str, Any]) -> RoundPage:
    """The round a skiptoken continues; 400 Directory_ExpiredPageToken if it is gone."""
    new = store.find(state["n"])
    old = store.find(state["q"]) if state["q"] is not None else None
    if new is None or (state["q"] is not None and old is None):
        raise GraphHTTPError(
            400,
            "Directory_ExpiredPageToken",
            "The specified page token value has expired and can no longer be included in "
            "your request.",
        )
    position = (state["at"][0], state["at"][1])
    return RoundPage(query_from_token(state), old, new, position, first=False)


def _body(kind, query: Query, first: bool, value: list, link: tuple[str, str]) -> dict[str, Any]:
    context = f"/v1.0/$metadata#{kind}"
    if first and query.selected:  # $select shows in the context of a round's first page only
        context += "(" + ",".join(_selection(query)) + ")"
    name, url = link
    return {"@odata.context": absolute_url(context), name: url, "value": value}


def _link(tenant, query: Query, option: str, **state: Any) -> tuple[str, str]:
    payload = {"v": 1, "t": tenant.tenant_id, "e": tenant.delta_epoch, "g": tenant.instance}
    payload |= query_to_token(query)
    token = encode_token({**payload, **state})
    name = "@odata.deltaLink" if option == "$deltatoken" else "@odata.nextLink"
    return name, absolute_url(f"/v1.0/{query.kind}/delta?{option}={token}")


def _state(token: str, tenant, kind: str, page_token: bool) -> dict[str, Any]:
    """A token's payload, checked: 400 if it is not ours, 410 if its sync state has expired."""
    state = decode_token(token)
    if state is None or state.get("k") != kind or ("n" in state) != page_token:
        name = "skip" if page_token else "delta"
        raise GraphHTTPError(400, "Request_BadRequest", f"Invalid {name} token '{token}'.")
    issuer = (tenant.tenant_id, tenant.delta_epoch, tenant.instance)
    if (state.get("t"), state.get("e"), state.get("g")) != issuer:  # or an earlier process's
        raise _reset(query_from_token(state))
    return state


def _reset(query: Query) -> GraphHTTPError:
    """410 Gone with a Location to restart from: the 'synchronization reset' of
    delta-query-overview.md (a request URL with an empty $deltaToken, same as the initial query)."""
    options = []
    if query.selected:
        options.append("$select=" + quote(",".join(_selection(query)), safe=","))
    if query.ids:
        clause = " or ".join(f"id eq '{i}'" for i in query.ids)
        options.append("$filter=" + quote(clause, safe="'"))
    location = absolute_url(
        f"/v1.0/{query.kind}/delta" + ("?" + "&".join(options) if options else "")
    )
    return GraphHTTPError(
        410,
        "syncStateNotFound",
        "The sync state generation is not found; restart with a full synchronization.",
        headers={"Location": location},
    )


def _selection(query: Query) -> list[str]:
    names = list(query.properties)
    if query.kind == "groups" and query.members:
        names.append("members")
    return names
