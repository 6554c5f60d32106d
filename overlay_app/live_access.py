"""Access confirmed with Graph now, not as of the last sync: the live check and the account check.

The index is only as fresh as the last sync. On reads of one document's discussion or room
(access.require_document / require_comment, live by default), Graph is asked whether the
person can open the item right now; the answer is cached per (person, drive, item) and process
for `live_check_seconds` (at most 60 s; 0 asks every time):
- with the person's own delegated Graph token (Graph answers an item they cannot open like a
  missing one: 404, or 403): for an embedded page's Plaza token, the one its sign-in exchanged
  on behalf of the person; for an Entra bearer token, that token exchanged on behalf of the
  person now (overlay_app/embedded/tokens.py, MSAL caching it per token); otherwise the one
  their browser sign-in left;
- when no delegated token can be had (Entra refuses the exchange, e.g. consent not given),
  the app reads the item's effective permissions with its own token (`GET .../permissions`,
  as a sync would) and matches them against the person's principal set from the index.
A refusal is remembered like a consent, so lists over many documents (search, tag pages,
notifications, event fan-out) leave out a document whose live check failed within the window
(`LiveChecks.denied`), without asking Graph themselves.

`AccountChecks` asks Graph (app token) whether a person's account is still enabled, cached
per person and process for the same time: someone disabled in Entra is signed out within it.

Graph not answering (outage, throttling, a token that cannot be had) is not a refusal: the
index's word stands and nothing is cached, so the next request asks again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from connector.delegated import DelegatedSession, item_reachable
from connector.errors import ConnectorError, NotFound
from connector.graph import GraphSource
from connector.http import GraphHttp
from connector.settings import CLOUDS, ConnectorSettings
from overlay_app import db
from overlay_app.identity import Person
from sync import directory
from sync.principals import acl_of

log = logging.getLogger("overlay_app.live_access")

MAX_CACHED = 10_000
APP_TIMEOUT_SECONDS = 10.0  # a request waits on it: no retries, a short timeout
Key = tuple[str, str]
NOT_ANSWERED = (ConnectorError, requests.RequestException, ValueError)


@dataclass
class Remembered:
    """Answers kept `ttl` seconds by `clock` (monotonic seconds; tests inject their own)."""

    ttl: float
    clock: Callable[[], float] = time.monotonic
    _answers: dict[Any, tuple[float, bool]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Any) -> bool | None:
        with self._lock:
            found = self._answers.get(key)
        return found[1] if found is not None and found[0] > self.clock() else None

    def put(self, key: Any, answer: bool) -> None:
        if self.ttl <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._answers) >= MAX_CACHED:
                self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
            self._answers[key] = (now + self.ttl, answer)

    def forget(self) -> None:
        with self._lock:
            self._answers.clear()


class AppGraph:
    """Graph with the app's own token (client credentials), for the checks a request waits on."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._source: GraphSource | None = None
        self._lock = threading.Lock()

    def source(self) -> GraphSource:
        with self._lock:
            if self._source is None:
                self._source = GraphSource(GraphHttp(connector_settings(self.settings)))
            return self._source

    def permissions_admit(
        self, principals: frozenset[str], site_id: str, drive_id: str, item_id: str
    ) -> bool:
        """Whether the item's effective permissions now admit one of `principals` (False for
        an item Graph no longer knows)."""
        try:
            permissions = self.source().permissions(drive_id, item_id)
        except NotFound:
            return False
        entries = acl_of(permissions, site_id, _person_of_upn)
        return any(entry.principal in principals for entry in entries)

    def account_enabled(self, person_id: str) -> bool:
        """accountEnabled of the user (False for a user Graph no longer knows)."""
        try:
            user = self.source().http.get_json(
                f"/users/{quote(person_id, safe='')}", params={"$select": "id,accountEnabled"}
            )
        except NotFound:
            return False
        return user.get("accountEnabled") is not False


def connector_settings(settings: Any) -> ConnectorSettings:
    """The connector's settings for Plaza's own app registration (one try, short timeout)."""
    graph = next((c.graph for c in CLOUDS.values() if settings.graph_url.startswith(c.graph)),
                 CLOUDS["global"].graph)  # fmt: skip
    return ConnectorSettings(
        tenant_id=settings.tenant_id,
        client_id=settings.client_id,
        authority=settings.authority,
        graph_url=settings.graph_url,
        graph_scope=f"{graph}/.default",
        client_secret=settings.client_secret or None,
        ca_bundle=settings.ca_bundle or None,
        http_timeout=APP_TIMEOUT_SECONDS,
        max_retries=0,
    )


def _person_of_upn(upn: str) -> str | None:
    """A claim's UPN as an object id, from the index's people (unknown: dropped, closed)."""
    found = directory.listed_by_upn(db.index(), upn)
    return found.id if found else None


@dataclass
class LiveChecks:
    """Graph's answer to "can this person open this item now", cached briefly per process."""

    graph_url: str
    ca_bundle: str
    ttl: float
    app_graph: AppGraph | None = None
    delegated_token: Callable[[Person], str | None] = lambda person: None
    clock: Callable[[], float] = time.monotonic
    answers: Remembered = field(init=False)
    _session: DelegatedSession | None = None

    def __post_init__(self) -> None:
        self.answers = Remembered(self.ttl, lambda: self.clock())  # follows a clock set later

    def allows(
        self, person: Person, drive_id: str, item_id: str, site_id: str = "",
        principals: frozenset[str] = frozenset(),
    ) -> bool:  # fmt: skip
        key = (person.id, drive_id, item_id)
        cached = self.answers.get(key)
        if cached is not None:
            return cached
        try:
            allowed = self._ask(person, drive_id, item_id, site_id, principals)
        except NOT_ANSWERED as exc:
            # Not a refusal: Graph could not be asked. The index admitted the person; do not
            # cache, ask again next time.
            log.warning("live access check not answered (%s)", type(exc).__name__)
            return True
        self.answers.put(key, allowed)
        return allowed

    def _ask(
        self, person: Person, drive_id: str, item_id: str, site_id: str,
        principals: frozenset[str],
    ) -> bool:  # fmt: skip
        token = self.delegated_token(person)
        if token:
            return item_reachable(self.session(), self.graph_url, token, drive_id, item_id)
        if self.app_graph is None:
            return True
        return self.app_graph.permissions_admit(principals, site_id, drive_id, item_id)

    def denied(self, person_id: str, keys: Iterable[Key]) -> set[Key]:
        """The keys whose live check failed for the person within the cache window."""
        return {(d, i) for d, i in keys if self.answers.get((person_id, d, i)) is False}

    def session(self) -> DelegatedSession:
        if self._session is None:
            self._session = DelegatedSession(self.ca_bundle)
        return self._session


@dataclass
class AccountChecks:
    """Whether a person's account is enabled in Entra now, cached per person and process."""

    app_graph: AppGraph
    ttl: float
    clock: Callable[[], float] = time.monotonic
    _answers: Remembered = field(init=False)

    def __post_init__(self) -> None:
        self._answers = Remembered(self.ttl, lambda: self.clock())

    def enabled(self, person_id: str) -> bool:
        cached = self._answers.get(person_id)
        if cached is not None:
            return cached
        try:
            enabled = self.app_graph.account_enabled(person_id)
        except NOT_ANSWERED as exc:
            log.warning("account check not answered (%s)", type(exc).__name__)
            return True
        self._answers.put(person_id, enabled)
        return enabled
