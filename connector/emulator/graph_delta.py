"""driveItem delta (PROTOCOL.md 1.1): full enumeration, change rounds, tokens, 410 resync.

Glossary:
- *round*: the pages from a token-less (or deltaLink) request up to the page that carries the
  `@odata.deltaLink`; every other page carries an `@odata.nextLink`.
- *token*: opaque to clients; here base64url JSON of {mode, drive number, epoch, either the
  enumeration position or the change cursor, and the emulator process (tenant.instance)}.
  Links keep the request's path form and $select.
- *snapshot seq*: the tenant's seq when a round starts. The round's deltaLink resumes from it, so
  anything that changes while a round is paged through shows up (again) in the next round:
  replays are allowed, losses are not.

Enumeration walks `tenant.iter_items` one page at a time and never holds the whole drive.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import Response, request

from connector.emulator import graph_json, odata
from connector.emulator.graph_items import (
    DriveScope,
    context_url,
    graph_json_response,
    page_size,
    render_item,
)
from connector.emulator.odata import GraphHTTPError

if TYPE_CHECKING:
    from connector.emulator.model import Change, Item

DELTA_PAGE = 200
USER_SCAN_FACTOR = 20  # a user's page gives up after scanning this many times its size
ENUMERATE, CHANGES = "enumerate", "changes"
HIERARCHICAL = "hierarchicalsharing"
SHOW_REMOVED = "deltashowremovedasdeleted"
TRAVERSE_GAPS = "deltatraversepermissiongaps"
SHOW_SHARING = "deltashowsharingchanges"
KNOWN_PREFERENCES = (HIERARCHICAL, SHOW_REMOVED, TRAVERSE_GAPS, SHOW_SHARING)
RESYNC_MESSAGE = (
    "Resync required. Replace any local items with the server's version (including deletes) if "
    "you're sure that the service was up to date with your local changes when you last sync'd. "
    "Upload any local changes that the server doesn't know about."
)
TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
TOKEN_ARGUMENT = re.compile(r"""^\s*token\s*=\s*'?(?P<token>[^')]*)'?\s*$""", re.IGNORECASE)


@dataclass
class DeltaToken:
    mode: str
    drive: int
    epoch: int
    seq: int  # snapshot seq (enumerate) / changes already sent up to here (changes)
    upto: int = 0  # changes: the round's snapshot seq
    position: int = 0  # enumerate: next position to read
    top: int = DELTA_PAGE
    select: str = ""
    instance: str = ""  # the Tenant.instance that issued it

    def encode(self) -> str:
        raw = json.dumps(
            [
                self.mode[0],
                self.drive,
                self.epoch,
                self.seq,
                self.upto,
                self.position,
                self.top,
                self.select,
                self.instance,
            ],
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> DeltaToken:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            mode, drive, epoch, seq, upto, position, top, select, *instance = json.loads(raw)
            modes = {ENUMERATE[0]: ENUMERATE, CHANGES[0]: CHANGES}
            return cls(
                modes[mode],
                int(drive),
                int(epoch),
                int(seq),
                int(upto),
                int(position),
                int(top),
                str(select),
                str(instance[0]) if len(instance) == 1 else "",  # "": older than instances
            )
        except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError) as err:
            raise GraphHTTPError(400, "invalidRequest", "Invalid delta token.") from err


@dataclass
class Preferences:
    """How this round renders items: the honoured `Prefer` values and the $select in force."""

    applied: list[str] = field(default_factory=list)
    fields: list[str] | None = None

    @classmethod
    def read(cls, select_value: str) -> Preferences:
        sent = [p.strip().lower() for h in request.headers.getlist("Prefer") for p in h.split(",")]
        applied = [p for p in KNOWN_PREFERENCES if p in sent]
        if SHOW_SHARING in applied and not {SHOW_REMOVED, TRAVERSE_GAPS} <= set(applied):
            applied.remove(SHOW_SHARING)  # it needs the other two (driveitem-delta.md)
        fields = [f.strip() for f in select_value.split(",") if f.strip()] or None
        return cls(applied, fields)

    def __contains__(self, name: str) -> bool:
        return name in self.applied

    def select(self, body: dict[str, Any]) -> dict[str, Any]:
        return graph_json.select_item(body, self.fields)


# -- entry point ---------------------------------------------------------------------------


def delta(scope: DriveScope, function_args: str | None) -> Response:
    """GET .../root/delta in any of its path forms, with or without a token."""
    tenant = scope.tenant
    raw_token = token_argument(function_args)
    top = page_size(DELTA_PAGE)
    select = odata.query_param("$select") or ""
    if raw_token is None or TIMESTAMP.match(raw_token):
        # Emulator: a timestamp token starts a full enumeration (a superset of what changed).
        token = DeltaToken(
            ENUMERATE,
            scope.drive.number,
            tenant.delta_epoch,
            tenant.seq,
            top=top,
            select=select,
            instance=tenant.instance,
        )
    elif raw_token.lower() == "latest":
        latest = DeltaToken(
            CHANGES,
            scope.drive.number,
            tenant.delta_epoch,
            tenant.seq,
            select=select,
            instance=tenant.instance,
        )
        return delta_response(scope, [], latest, None, Preferences.read(select))
    else:
        token = DeltaToken.decode(raw_token)
        check_token(scope, token)
        if odata.query_param("$top"):
            token.top = top
        token.select = select or token.select
    if token.mode == ENUMERATE:
        return enumerate_page(scope, token)
    return changes_page(scope, token)


def token_argument(function_args: str | None) -> str | None:
    """The token from `?token=` or from the function form `delta(token='...')`."""
    if function_args:
        match = TOKEN_ARGUMENT.match(function_args)
        if match is None:
            raise GraphHTTPError(400, "invalidRequest", "Invalid delta token.")
        return match["token"]
    return request.args.get("token")


def check_token(scope: DriveScope, token: DeltaToken) -> None:
    if token.drive != scope.drive.number:
        raise GraphHTTPError(400, "invalidRequest", "Invalid delta token.")
    if token.epoch < scope.tenant.delta_epoch or token.instance != scope.tenant.instance:
        raise GraphHTTPError(
            410, "resyncRequired", RESYNC_MESSAGE, headers={"Location": link(token.select, None)}
        )


# -- pages ---------------------------------------------------------------------------------


def enumerate_page(scope: DriveScope, token: DeltaToken) -> Response:
    """One page of the current state, by position; the last page hands over to change rounds."""
    prefs = Preferences.read(token.select)
    budget = token.top * (1 if scope.caller.app_only else USER_SCAN_FACTOR)
    value: list[dict[str, Any]] = []
    resume_at = None
    items = scope.tenant.iter_items(scope.drive.id, token.position)
    for scanned, item in enumerate(items):
        if len(value) == token.top or scanned == budget:
            resume_at = item.index
            break
        if scope.can_open(item):
            value.append(live_item(scope, item, prefs, None))
    if resume_at is not None:
        following = DeltaToken(
            ENUMERATE,
            token.drive,
            token.epoch,
            token.seq,
            position=resume_at,
            top=token.top,
            select=token.select,
            instance=token.instance,
        )
        return delta_response(scope, value, None, following, prefs, resource_units=2)
    done = DeltaToken(
        CHANGES, token.drive, token.epoch, token.seq, select=token.select, instance=token.instance
    )
    return delta_response(scope, value, done, None, prefs, resource_units=2)


def changes_page(scope: DriveScope, token: DeltaToken) -> Response:
    """What changed after the token's seq, latest state per item, oldest change first."""
    prefs = Preferences.read(token.select)
    upto = token.upto or scope.tenant.seq
    pending = [c for c in scope.tenant.changes_since(scope.drive.id, token.seq) if c.seq <= upto]
    page, rest = pending[: token.top], pending[token.top :]
    value = [body for c in page if (body := changed_item(scope, c, prefs)) is not None]
    if rest:
        following = DeltaToken(
            CHANGES,
            token.drive,
            token.epoch,
            page[-1].seq,
            upto=upto,
            top=token.top,
            select=token.select,
            instance=token.instance,
        )
        return delta_response(scope, value, None, following, prefs)
    done = DeltaToken(
        CHANGES, token.drive, token.epoch, upto, select=token.select, instance=token.instance
    )
    return delta_response(scope, value, done, None, prefs)


def changed_item(scope: DriveScope, change: Change, prefs: Preferences) -> dict[str, Any] | None:
    """A journaled item as this caller sees it now: itself, a tombstone, or nothing."""
    item = scope.tenant.item_at(scope.drive.id, change.item_index)
    if item is None:
        return None
    if item.deleted:
        return prefs.select(graph_json.tombstone_json(scope.drive, item))
    if scope.can_open(item):
        return live_item(scope, item, prefs, change)
    if SHOW_REMOVED in prefs:  # the caller lost access: shown as deleted (driveitem-delta.md)
        return prefs.select(graph_json.tombstone_json(scope.drive, item))
    return None


def live_item(
    scope: DriveScope, item: Item, prefs: Preferences, change: Change | None
) -> dict[str, Any]:
    if HIERARCHICAL in prefs:
        body = render_item(
            scope,
            item,
            in_delta=True,
            shared=hierarchical_shared(scope, item),
            default_shared=False,
        )
    else:
        body = render_item(scope, item, in_delta=True)
    if change is not None and change.sharing_changed and SHOW_SHARING in prefs:
        body = {"@microsoft.graph.sharedChanged": "True", **body}
    return prefs.select(body)


def hierarchical_shared(scope: DriveScope, item: Item) -> dict[str, Any] | None:
    """`Prefer: hierarchicalsharing`: sharing only on roots of the permission hierarchy, with
    an empty facet on a root that is unique but not shared."""
    if not item.unique_permissions:
        return None
    scope_name = graph_json.sharing_scope(scope.tenant.grants(scope.drive.id, item.id))
    return {"scope": scope_name} if scope_name else {}


# -- links and the response ----------------------------------------------------------------


def link(select_value: str, token: DeltaToken | None) -> str:
    """An absolute delta URL on the request's own path form (function arguments dropped)."""
    path = re.sub(r"\((?:[^()]*)\)$", "()", request.path)
    query = []
    if select_value:
        query.append("$select=" + quote(select_value, safe=",*"))
    if token is not None:
        query.append("token=" + token.encode())
    return odata.absolute_url(path + ("?" + "&".join(query) if query else ""))


def delta_response(
    scope: DriveScope,
    value: list[dict[str, Any]],
    done: DeltaToken | None,
    following: DeltaToken | None,
    prefs: Preferences,
    resource_units: int = 1,
) -> Response:
    body: dict[str, Any] = {"@odata.context": context_url("Collection(driveItem)")}
    if following is not None:
        body["@odata.nextLink"] = link(following.select, following)
    else:
        body["@odata.deltaLink"] = link(done.select, done)  # type: ignore[union-attr]
    body["value"] = value
    headers = {"Preference-Applied": ", ".join(prefs.applied)} if prefs.applied else None
    return graph_json_response(body, resource_units, headers)
