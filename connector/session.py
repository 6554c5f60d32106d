"""The one way Plaza talks HTTP to Microsoft: one session factory, one retry decision.

Every call to Microsoft goes through a session from `new_session`: Graph (connector.http),
SharePoint REST (connector.sharepoint, under office365), Graph with a person's own token
(connector.delegated), and token requests (MSAL's `http_client`, in connector.auth and in the
web app's sign-in). Graph, SharePoint REST and delegated calls are sent by a `Transport`, whose
`retry_wait` is the only place that decides whether to send again, and when:

- 429 / 503 / 504: wait the `Retry-After` (seconds, fractional seconds, or an HTTP date), else
  exponential backoff with full jitter; *every* thread of the transport pauses until then
  (Microsoft blocks apps whose other threads keep calling while throttled).
- connection resets and timeouts: backoff and send again, likewise.
- only requests the caller marks `retryable` (idempotent ones), at most `max_retries` times,
  and never for a wait longer than `max_wait` (a web page cannot wait a minute).
Each transport counts requests, retries and throttled waits in its `HttpStats`, and, given a
`ResourceMeter` (connector.budget), the resource units each call costs and the pacing under them.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError

from connector.budget import ResourceMeter
from connector.error_mapping import RETRY_STATUSES
from connector.errors import GraphError
from connector.pacing import (
    BACKOFF_BASE,
    MAX_WAIT,
    RequestBudget,
    ThrottleGate,
    backoff,
    retry_after_seconds,
)

log = logging.getLogger("connector.http")

# Calls made while a person waits for a page (live access checks, sign-in): few, short waits.
PERSON_WAITING_RETRIES = 2
PERSON_WAITING_MAX_WAIT = 2.0  # seconds; a longer Retry-After is answered at once

CONNECTION_FAILURES = (requests.ConnectionError, requests.Timeout, ChunkedEncodingError)


def new_session(ca_bundle: str = "", timeout: float = 10.0) -> requests.Session:
    """The only place that makes an HTTP session for calls to Microsoft.

    With `ca_bundle`, the session trusts exactly that bundle: requests lets REQUESTS_CA_BUNDLE /
    CURL_CA_BUNDLE from the environment override a session's `verify` unless trust_env is off
    (PROTOCOL.md "TLS trust"), which would break the emulator's CA on machines that set them.
    Without one, the environment (proxies, CAs) applies.
    """
    session = requests.Session()
    # Every request gets a timeout (MSAL and office365 pass none of their own); a caller's wins.
    session.request = functools.partial(session.request, timeout=timeout)  # type: ignore[method-assign]
    if ca_bundle:
        session.trust_env = False
        session.verify = ca_bundle
    # Worker threads share one session: keep enough pooled connections for all of them.
    session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=32))
    return session


def retry_wait(
    status: int | None,
    retry_after: str | None,
    attempt: int,
    *,
    max_retries: int,
    max_wait: float = MAX_WAIT,
    base: float = BACKOFF_BASE,
) -> float | None:
    """Seconds to wait before sending a retryable request again, or None: the answer stands.

    `status` None is a connection failure (reset, timeout); `attempt` counts earlier retries.
    """
    if attempt >= max_retries:
        return None
    if status is not None and status not in RETRY_STATUSES:
        return None
    delay = retry_after_seconds(retry_after) if status is not None else None
    if delay is None:
        delay = backoff(attempt, base)
    return delay if delay <= max_wait else None


@dataclass(frozen=True)
class HttpStats:
    """Counters since start, for run records: compare two snapshots to get one run's share."""

    requests: int = 0
    retries: int = 0
    throttled_waits: int = 0
    throttled_seconds: float = 0.0
    token_refreshes: int = 0


class Transport:
    """A session, the retry decision, the shared pause and the budget; share between threads."""

    def __init__(
        self,
        session: requests.Session,
        *,
        max_retries: int,
        max_wait: float = MAX_WAIT,
        per_minute: int | None = None,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        meter: ResourceMeter | None = None,
    ) -> None:
        self.session = session
        self.meter = meter
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.user_agent = user_agent
        self.backoff_base = BACKOFF_BASE  # seconds; the first wait without a Retry-After
        self.gate = ThrottleGate(sleep)
        self.budget = RequestBudget(per_minute, sleep)
        self._sleep = sleep
        self._stats = HttpStats()
        self._stats_lock = threading.Lock()

    def stats(self) -> HttpStats:
        with self._stats_lock:
            return self._stats

    def count(self, **increments: float) -> None:
        with self._stats_lock:
            changes = {k: getattr(self._stats, k) + v for k, v in increments.items()}
            self._stats = replace(self._stats, **changes)

    def wait(self, status: int | None, retry_after: str | None, attempt: int) -> float | None:
        """This transport's `retry_wait` for a retryable request."""
        return retry_wait(
            status,
            retry_after,
            attempt,
            max_retries=self.max_retries,
            max_wait=self.max_wait,
            base=self.backoff_base,
        )

    def pause_all(self, seconds: float) -> None:
        """Throttled: no thread of this transport sends for `seconds`."""
        self.count(throttled_waits=1)
        if self.meter is not None:
            self.meter.waited_retry_after(seconds)
        self.gate.pause(seconds)

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        retryable: bool,
        params: Mapping[str, Any] | None = None,
        **body: Any,
    ) -> requests.Response:
        """Send until the answer stands (any status); `body` is requests' json= or data=.

        A connection that fails for good raises requests' exception (see `connection_error`).
        """
        attempt = 0
        while True:
            try:
                response = self._send_once(method, url, headers, params, body, attempt)
            except CONNECTION_FAILURES as exc:
                delay = self.wait(None, None, attempt) if retryable else None
                if delay is None:
                    raise
                log.debug("%s %s: %s, sending again in %.2f s", method, _path(url), exc, delay)
                self._sleep(delay)
                attempt += 1
                continue
            status = response.status_code
            retry_after = response.headers.get("Retry-After")
            delay = self.wait(status, retry_after, attempt) if retryable else None
            if delay is None:
                return response
            log.info(
                "throttled (%d) on %s: pausing all requests for %.2f s", status, _path(url), delay
            )
            self.pause_all(delay)
            attempt += 1

    def _send_once(self, method, url, headers, params, body, attempt) -> requests.Response:
        waited = self.gate.wait()
        if waited:
            self.count(throttled_seconds=waited)
        self.budget.take()
        batch = body.get("json") if url.endswith("$batch") else None
        ticket = self.meter.before(method, url, batch) if self.meter is not None else None
        all_headers = {"User-Agent": self.user_agent} if self.user_agent else {}
        all_headers.update(headers)
        self.count(requests=1, retries=1 if attempt else 0)
        started = time.monotonic()
        try:
            response = self.session.request(method, url, params=params, headers=all_headers, **body)
        except CONNECTION_FAILURES as exc:
            log.debug("%s %s -> %s after %d ms", method, _path(url), type(exc).__name__,
                      (time.monotonic() - started) * 1000)  # fmt: skip
            raise
        if self.meter is not None:
            self.meter.after(ticket, response, batch)
        log.debug(
            "%s %s -> %d in %d ms request-id %s",
            method,
            _path(url),
            response.status_code,
            (time.monotonic() - started) * 1000,
            response.headers.get("request-id", "-"),
        )
        return response


class SessionClient:
    """The session-like face of a Transport (get, post, close): what MSAL takes as its
    `http_client`, so that token requests follow the same retry decision as every other call.
    Token requests are safe to send again: a throttled one was not served, and a code redeemed
    twice is refused, as an unanswered one would have been."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def get(self, url: str, params=None, headers=None, **kwargs: Any) -> requests.Response:
        return self.transport.send(
            "GET", url, params=params, headers=headers or {}, retryable=True, **kwargs
        )

    def post(
        self, url: str, params=None, data=None, headers=None, **kwargs: Any
    ) -> requests.Response:
        return self.transport.send(
            "POST", url, params=params, headers=headers or {}, retryable=True, data=data, **kwargs
        )

    def close(self) -> None:
        self.transport.session.close()


def token_client(
    ca_bundle: str = "", timeout: float = 10.0, max_retries: int = 3, max_wait: float = MAX_WAIT
) -> SessionClient:
    """An `http_client` for MSAL (and the sign-in's discovery and key reads)."""
    transport = Transport(
        new_session(ca_bundle, timeout), max_retries=max_retries, max_wait=max_wait
    )
    return SessionClient(transport)


def connection_error(method: str, url: str, exc: Exception) -> GraphError:
    """A connection that failed for good, as the connector reports it."""
    return GraphError(f"{method} {_path(url)} failed: {exc}", code="connectionError")


def _path(url: str) -> str:
    return urlsplit(url).path
