"""The one place that sends HTTP requests to Microsoft Graph (and SharePoint REST raw calls).

Every request gets: a bearer token for its audience, the ISV User-Agent Microsoft asks for
("ISV|Company|App/Version"; undecorated traffic is throttled first), a timeout, a debug log
line (method, path, status, milliseconds, request-id), the optional request budget, and the
retry policy:

- 429 / 503 / 504: wait the `Retry-After` (seconds, fractional seconds, or an HTTP date), else
  exponential backoff with full jitter; *every* thread pauses until then (Microsoft blocks apps
  whose other threads keep calling while throttled); then retry, up to `max_retries`.
- connection resets and timeouts: backoff and retry, likewise.
- only idempotent requests are retried (GET, HEAD, PUT, DELETE, and `retry_safe=True` for a
  POST that only reads, i.e. a $batch of GETs).
- 401: forget the token, get a new one and retry once (tokens can expire mid-run).
Error answers become the exceptions of connector.errors (connector.error_mapping says which).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.exceptions import ChunkedEncodingError

from connector.auth import GRAPH, TokenProvider, trusted_session
from connector.error_mapping import RETRY_STATUSES, error_from_parts, error_from_response
from connector.errors import GraphError
from connector.models import ErrorInfo
from connector.pacing import (
    BACKOFF_BASE,
    RequestBudget,
    ThrottleGate,
    backoff,
    retry_after_seconds,
)
from connector.settings import ConnectorSettings

log = logging.getLogger("connector.http")

BATCH_LIMIT = 20  # "JSON batch requests are currently limited to 20 individual requests"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def user_agent(company: str) -> str:
    try:
        version = metadata.version("plaza")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"ISV|{company}|Plaza/{version}"


@dataclass(frozen=True)
class HttpStats:
    """Counters since start, for run records: compare two snapshots to get one run's share."""

    requests: int = 0
    retries: int = 0
    throttled_waits: int = 0
    throttled_seconds: float = 0.0
    token_refreshes: int = 0


@dataclass(frozen=True)
class BatchRequest:
    """One request inside a $batch; `url` is relative to the version root ("/users/x")."""

    id: str
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None

    def as_json(self) -> dict[str, Any]:
        request: dict[str, Any] = {"id": self.id, "method": self.method, "url": self.url}
        if self.headers:
            request["headers"] = dict(self.headers)
        if self.body is not None:
            request["body"] = self.body
        return request


@dataclass(frozen=True)
class BatchResponse:
    """One answer from a $batch: status, headers (lower-case names) and parsed body."""

    id: str
    status: int
    headers: dict[str, str]
    body: Any

    @classmethod
    def from_graph(cls, raw: dict[str, Any]) -> BatchResponse:
        headers = {str(k).lower(): str(v) for k, v in (raw.get("headers") or {}).items()}
        return cls(str(raw.get("id")), int(raw.get("status", 0)), headers, raw.get("body"))

    def raise_for_error(self, needs: str | None = None) -> None:
        if self.status >= 400:
            raise error_from_parts(
                self.status,
                ErrorInfo.from_graph(self.body),
                request_id=self.headers.get("request-id"),
                retry_after=self.headers.get("retry-after"),
                location=self.headers.get("location"),
                needs=needs,
            )


class GraphHttp:
    """Authenticated, throttling-aware requests; share one instance between worker threads."""

    def __init__(
        self,
        settings: ConnectorSettings,
        tokens: TokenProvider | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.tokens = tokens or TokenProvider(settings)
        self.session = session or trusted_session(settings)
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self.session.mount("https://", adapter)
        self.gate = ThrottleGate(sleep)
        self.budget = RequestBudget(settings.max_requests_per_minute, sleep)
        self.user_agent = user_agent(settings.user_agent_company)
        self.backoff_base = BACKOFF_BASE  # seconds; the first wait without a Retry-After
        self._sleep = sleep
        self._stats = HttpStats()
        self._stats_lock = threading.Lock()

    # -- public API ------------------------------------------------------------------------

    def stats(self) -> HttpStats:
        with self._stats_lock:
            return self._stats

    def url(self, path_or_url: str) -> str:
        """Absolute URL: Graph-relative paths ("/sites/root") join the service root."""
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        return self.settings.graph_url + "/" + path_or_url.lstrip("/")

    def get_json(self, path_or_url: str, *, params=None, headers=None, needs=None) -> dict:
        return self.request("GET", path_or_url, params=params, headers=headers, needs=needs).json()

    def pages(
        self, path_or_url: str, *, params=None, headers=None, needs=None
    ) -> Iterator[dict[str, Any]]:
        """Each page of a collection, following @odata.nextLink (opaque, absolute) to the end.

        The query is sent on the first request only: Graph encodes it in its nextLinks.
        Pages are yielded one at a time, so memory does not grow with the collection.
        """
        url: str | None = path_or_url
        while url:
            page = self.get_json(url, params=params, headers=headers, needs=needs)
            yield page
            params = None
            url = page.get("@odata.nextLink")

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        audience: str = GRAPH,
        retry_safe: bool | None = None,
        needs: str | None = None,
    ) -> requests.Response:
        """Send one request with retries; returns a 2xx/3xx response or raises ConnectorError.

        `needs` names the permission the call requires, reported by PermissionMissing when
        Graph's 403 does not say (directory APIs only say "Insufficient privileges").
        """
        url = self.url(path_or_url)
        retryable = method.upper() in IDEMPOTENT if retry_safe is None else retry_safe
        attempt = 0
        refreshed = False
        while True:
            token = self.tokens.token(audience)
            response = self._send(method, url, params, headers, json, token, retryable, attempt)
            if response is None:  # a connection failure that will be retried
                attempt += 1
                continue
            if response.status_code == 401 and not refreshed:
                refreshed = True
                self.tokens.invalidate(audience, token)
                self._count(token_refreshes=1)
                continue
            throttled = response.status_code in RETRY_STATUSES
            if throttled and retryable and attempt < self.settings.max_retries:
                self._wait_throttled(response, attempt)
                attempt += 1
                continue
            if response.status_code >= 400:
                raise error_from_response(response, needs=needs)
            return response

    def batch(self, requests_: Sequence[BatchRequest]) -> dict[str, BatchResponse]:
        """Send requests through /$batch, 20 at a time; answers by request id.

        Answers may come in any order (Graph says so). Sub-requests answered 429/503/504 are
        sent again in a new batch after the longest Retry-After among them, as Microsoft
        advises; other errors are left in the answers for the caller (`raise_for_error`).
        Requests that use dependsOn must not span chunks (the connector never uses it).
        """
        answers: dict[str, BatchResponse] = {}
        for start in range(0, len(requests_), BATCH_LIMIT):
            answers.update(self._batch_chunk(list(requests_[start : start + BATCH_LIMIT])))
        return answers

    # -- internals -------------------------------------------------------------------------

    def _batch_chunk(self, todo: list[BatchRequest]) -> dict[str, BatchResponse]:
        done: dict[str, BatchResponse] = {}
        attempt = 0
        refreshed = False
        while todo:
            answers = self._post_batch(todo)
            for sub in todo:
                done[sub.id] = answers[sub.id.lower()]
            again = []
            # Each sub-request checks the token again: it can expire (or be revoked) while the
            # batch runs. As for a single request's 401: a new token, then once more.
            expired = [sub for sub in todo if done[sub.id].status == 401]
            if expired and not refreshed:
                refreshed = True
                self.tokens.invalidate(GRAPH, self.tokens.token(GRAPH))
                self._count(token_refreshes=1)
                again += expired
            throttled = [sub for sub in todo if done[sub.id].status in RETRY_STATUSES]
            if throttled and attempt < self.settings.max_retries:
                waits = [
                    retry_after_seconds(done[sub.id].headers.get("retry-after"))
                    for sub in throttled
                ]
                delay = max((w for w in waits if w is not None), default=None)
                self._count(throttled_waits=1)
                self.gate.pause(backoff(attempt, self.backoff_base) if delay is None else delay)
                attempt += 1
                again += throttled
            todo = again
        return done

    def _post_batch(self, todo: list[BatchRequest]) -> dict[str, BatchResponse]:
        body = {"requests": [sub.as_json() for sub in todo]}
        only_reads = all(sub.method.upper() == "GET" for sub in todo)
        try:
            response = self.request("POST", "/$batch", json=body, retry_safe=only_reads)
        except GraphError as exc:
            if exc.status != 424:
                raise
            # An older throttling doc says the whole batch fails with 424 when throttled.
            return {sub.id.lower(): BatchResponse(sub.id, 429, {}, None) for sub in todo}
        answers = {}
        for raw in response.json().get("responses") or ():
            answer = BatchResponse.from_graph(raw)
            answers[answer.id.lower()] = answer
        missing = [sub.id for sub in todo if sub.id.lower() not in answers]
        if missing:
            raise GraphError(
                f"$batch answered without responses for ids {missing}",
                status=response.status_code,
                code="batchIncomplete",
                request_id=response.headers.get("request-id"),
            )
        return answers

    def _send(self, method, url, params, headers, json, token, retryable, attempt):
        self._sleep_in_gate()
        self.budget.take()
        all_headers = {
            "Authorization": f"Bearer {token}",
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }
        all_headers.update(headers or {})
        started = time.monotonic()
        self._count(requests=1, retries=1 if attempt else 0)
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                headers=all_headers,
                json=json,
                timeout=self.settings.http_timeout,
            )
        except (requests.ConnectionError, requests.Timeout, ChunkedEncodingError) as exc:
            log.debug(
                "%s %s -> %s after %d ms",
                method,
                _path(url),
                type(exc).__name__,
                (time.monotonic() - started) * 1000,
            )
            if retryable and attempt < self.settings.max_retries:
                self._sleep(backoff(attempt, self.backoff_base))
                return None
            raise GraphError(
                f"{method} {_path(url)} failed: {exc}", code="connectionError"
            ) from exc
        log.debug(
            "%s %s -> %d in %d ms request-id %s",
            method,
            _path(url),
            response.status_code,
            (time.monotonic() - started) * 1000,
            response.headers.get("request-id", "-"),
        )
        return response

    def _sleep_in_gate(self) -> None:
        waited = self.gate.wait()
        if waited:
            self._count(throttled_seconds=waited)

    def _wait_throttled(self, response: requests.Response, attempt: int) -> None:
        delay = retry_after_seconds(response.headers.get("Retry-After"))
        if delay is None:
            delay = backoff(attempt, self.backoff_base)
        log.info(
            "throttled (%d) on %s: pausing all requests for %.2f s",
            response.status_code,
            _path(response.url),
            delay,
        )
        self._count(throttled_waits=1)
        self.gate.pause(delay)

    def _count(self, **increments: float) -> None:
        with self._stats_lock:
            changes = {k: getattr(self._stats, k) + v for k, v in increments.items()}
            self._stats = replace(self._stats, **changes)


def _path(url: str) -> str:
    return urlsplit(url).path
