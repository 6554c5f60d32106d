"""Microsoft Graph (and SharePoint REST raw calls) with the app's own tokens.

Every request gets a bearer token for its audience, the ISV User-Agent Microsoft asks for
("ISV|Company|App/Version"; undecorated traffic is throttled first), a timeout, a debug log line
(method, path, status, milliseconds, request-id), the optional request budget, and the retry
policy of connector.session (the one retry decision: Retry-After, backoff, a pause of every
thread; only idempotent requests, i.e. GET, HEAD, PUT, DELETE, and `retry_safe=True` for a POST
that only reads, such as a $batch of GETs). On top of it, here:
- 401: forget the token, get a new one and send once more (tokens can expire mid-run).
- $batch: sub-requests answered 429/503/504 are sent again in a new batch.
- a nextLink or deltaLink kept from an earlier run (`resume`) is only followed if this Graph
  endpoint issued it; one from another host is an expired cursor (DeltaExpired).
Error answers become the exceptions of connector.errors (connector.error_mapping says which).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import requests

from connector.auth import GRAPH, TokenProvider
from connector.budget import BudgetFigures, ResourceMeter
from connector.error_mapping import RETRY_STATUSES, error_from_parts, error_from_response
from connector.errors import DeltaExpired, GraphError
from connector.models import ErrorInfo
from connector.session import (
    CONNECTION_FAILURES,
    HttpStats,
    Transport,
    connection_error,
    new_session,
)
from connector.settings import ConnectorSettings

__all__ = ["BatchRequest", "BatchResponse", "GraphHttp", "HttpStats", "user_agent"]

BATCH_LIMIT = 20  # "JSON batch requests are currently limited to 20 individual requests"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def user_agent(company: str) -> str:
    try:
        version = metadata.version("plaza")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"ISV|{company}|Plaza/{version}"


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
    """Authenticated, throttling-aware requests; share one instance between worker threads.

    `transport` may be shared with other clients (SharePoint REST, delegated calls), so that
    they pause together and are counted together.
    """

    def __init__(
        self,
        settings: ConnectorSettings,
        tokens: TokenProvider | None = None,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.tokens = tokens or TokenProvider(settings)
        self.transport = transport or Transport(
            new_session(settings.ca_bundle, settings.http_timeout),
            max_retries=settings.max_retries,
            per_minute=settings.max_requests_per_minute,
            user_agent=user_agent(settings.user_agent_company),
            sleep=sleep,
            meter=ResourceMeter(
                settings.graph_budget_per_minute, settings.graph_budget_share, sleep=sleep
            ),
        )

    # -- public API ------------------------------------------------------------------------

    def stats(self) -> HttpStats:
        return self.transport.stats()

    def budget(self) -> BudgetFigures | None:
        """Resource units spent and throttling met (None for a transport without a meter)."""
        return self.transport.meter.figures() if self.transport.meter is not None else None

    @property
    def backoff_base(self) -> float:
        """Seconds; the first wait without a Retry-After (tests shorten it)."""
        return self.transport.backoff_base

    @backoff_base.setter
    def backoff_base(self, seconds: float) -> None:
        self.transport.backoff_base = seconds

    def url(self, path_or_url: str) -> str:
        """Absolute URL: Graph-relative paths ("/sites/root") join the service root."""
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        return self.settings.graph_url + "/" + path_or_url.lstrip("/")

    def resume(self, link: str) -> str:
        """`link`, a nextLink or deltaLink kept from an earlier run, if this endpoint issued it.

        Graph's links are absolute. One kept while Plaza pointed at another Graph (the emulator
        on another port, another national cloud) names a service that is gone or never knew
        the token: DeltaExpired, so the caller starts a new round as after Graph's own 410.
        """
        if not same_service(link, self.settings.graph_url):
            raise DeltaExpired(
                f"the saved link is for {_origin(link)}, not the configured Graph "
                f"{self.settings.graph_url}: start a new round",
                code="foreignLink",
            )
        return link

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
        refreshed = False
        while True:
            token = self.tokens.token(audience)
            all_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            all_headers.update(headers or {})
            try:
                response = self.transport.send(
                    method, url, params=params, headers=all_headers, json=json, retryable=retryable
                )
            except CONNECTION_FAILURES as exc:
                raise connection_error(method, url, exc) from exc
            if response.status_code == 401 and not refreshed:
                refreshed = True
                self.tokens.invalidate(audience, token)
                self.transport.count(token_refreshes=1)
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
                self.transport.count(token_refreshes=1)
                again += expired
            throttled = [sub for sub in todo if done[sub.id].status in RETRY_STATUSES]
            waits = [self._wait(done[sub.id], attempt) for sub in throttled]
            if throttled and None not in waits:
                # As Microsoft advises: the longest Retry-After among them, then all again.
                self.transport.pause_all(max(w for w in waits if w is not None))
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

    def _wait(self, answer: BatchResponse, attempt: int) -> float | None:
        return self.transport.wait(answer.status, answer.headers.get("retry-after"), attempt)


def same_service(url: str, service_root: str) -> bool:
    """Whether `url` lies under `service_root` (scheme, host, port and version path)."""
    link, root = urlsplit(url), urlsplit(service_root)
    try:
        ports = link.port, root.port
    except ValueError:  # a port that is not a number: not a link of ours
        return False
    defaults = {"https": 443, "http": 80}
    return (
        link.scheme.lower() == root.scheme.lower()
        and (link.hostname or "") == (root.hostname or "")
        and (ports[0] or defaults.get(link.scheme.lower()))
        == (ports[1] or defaults.get(root.scheme.lower()))
        and (link.path + "/").startswith(root.path.rstrip("/") + "/")
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "a relative link"
