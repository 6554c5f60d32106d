"""Resource units: what each call costs against SharePoint's per-app budget, and pacing under it.

SharePoint (which serves Graph's sites, drives and items) gives an app a budget of resource
units per minute (1,200 for up to 1,000 licences; PROTOCOL 3.2) and charges each call: 1 for
one item or a delta page with a token, 2 for a listing, a delta page without a token or a
write, 5 for any permissions call; a `$batch` is charged request by request. When an answer
says its cost (`x-ms-resource-unit`), that figure wins over the estimate. Directory calls
(users, groups) have their own bucket and are not counted here; SharePoint REST has no fixed
cost and is estimated at REST_COST.

Pacing: before a call, if the units spent in the last minute plus this call's estimate would
pass `share` of the budget, wait until enough of them are a minute old. When SharePoint sends
`RateLimit-*` headers (from 80% used, counting every process of the app) and they say more
than `share` is spent, every call waits `RateLimit-Reset` seconds.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_PER_MINUTE = 1_200
DEFAULT_SHARE = 0.8
REST_COST = 2
MINUTE, HOUR = 60.0, 3600.0
DIRECTORY = re.compile(
    r"/v1\.0/(users|groups|me|directoryObjects|organization|applications|servicePrincipals)\b",
    re.IGNORECASE,
)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE", "MERGE"})


def estimate(method: str, url: str) -> int:
    """Resource units of one call, by SharePoint's table; 0 for calls outside the budget."""
    parts = urlsplit(url)
    path = parts.path
    if "/_api/" in path or path.endswith("/_api"):
        return REST_COST
    if path.endswith("/$batch") or "/oauth2/" in path or "/subscriptions" in path:
        return 0  # the batch's requests are charged one by one; tokens and subscriptions: free
    if DIRECTORY.search(path) and "/drive" not in path.lower():
        return 0
    lower = path.lower()
    if "/permissions" in lower or "permissions" in parse_qs(parts.query).get("$expand", [""])[0]:
        return 5
    if method.upper() in WRITES:
        return 2
    if "delta" in lower:
        return 1 if "token" in parse_qs(parts.query) else 2
    if lower.endswith("/children") or lower.endswith("/drives") or lower.endswith("/sites"):
        return 2
    return 1


def _sub_estimate(request: dict[str, Any]) -> int:
    """A request inside a $batch (its url is relative to the version root)."""
    return estimate(request.get("method", "GET"), "/v1.0" + request.get("url", ""))


@dataclass(frozen=True)
class BudgetFigures:
    """What the admin console shows: spending and the throttling met, since start."""

    per_minute: int
    share: float
    used_last_minute: int
    used_last_hour: int
    requests: int
    throttled: int  # 429 answers
    retry_after_seconds: float  # waited on Retry-After
    paced_seconds: float  # waited to stay under the share
    server_remaining: int | None  # last RateLimit-Remaining seen


class ResourceMeter:
    """Counts resource units per call and paces calls; shared by every thread of a transport.
    `per_minute` 0 counts without pacing (e.g. against an emulator without a budget)."""

    def __init__(
        self,
        per_minute: int = DEFAULT_PER_MINUTE,
        share: float = DEFAULT_SHARE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        window: float = MINUTE,
    ) -> None:
        self.per_minute, self.share = per_minute, share
        self.window = window  # SharePoint's is a minute; tests shorten both sides' alike
        self._sleep, self._clock = sleep, clock
        self._spent: deque[list[float]] = deque()  # [when, units], the last hour
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self._requests = self._throttled = 0
        self._retry_after = self._paced = 0.0
        self._remaining: int | None = None

    def _used(self, window: float, now: float) -> int:
        while self._spent and now - self._spent[0][0] >= HOUR:
            self._spent.popleft()
        total = 0
        for when, units in reversed(self._spent):
            if now - when >= window:
                break
            total += int(units)
        return total

    def before(self, method: str, url: str, sent_json: Any = None) -> list[float] | None:
        """Waits until this call fits under the share, then books its estimate (the ticket);
        a $batch is estimated as the sum of its requests."""
        units = estimate(method, url)
        if sent_json is not None:
            units = sum(_sub_estimate(r) for r in sent_json.get("requests", ()))
        if not units:
            return None
        target = self.share * self.per_minute
        while True:
            with self._lock:
                now = self._clock()
                wait = self._resume_at - now
                if wait <= 0:
                    used = self._used(self.window, now)
                    if not self.per_minute or used + units <= target or used == 0:
                        ticket = [now, float(units)]
                        self._spent.append(ticket)
                        self._requests += 1
                        return ticket
                    wait = self._until_fits(now, used + units - target)
                self._paced += wait
            self._sleep(wait)

    def _until_fits(self, now: float, excess: float) -> float:
        freed = 0.0
        for when, units in self._spent:
            if now - when >= self.window:
                continue
            freed += units
            if freed >= excess:
                return max(0.01, when + self.window - now)
        return self.window

    def after(self, ticket: list[float] | None, response: Any, sent_json: Any = None) -> None:
        """Corrects the booking with the answer's own cost; reads RateLimit headers and 429s."""
        headers = response.headers
        with self._lock:
            if ticket is not None and headers.get("x-ms-resource-unit", "").isdigit():
                ticket[1] = float(headers["x-ms-resource-unit"])
            if response.status_code == 429:
                self._throttled += 1
            if sent_json is not None and response.status_code == 200 and ticket is not None:
                ticket[1] = float(self._batch_cost(response, sent_json))
            self._read_rate_limit(headers)

    def _batch_cost(self, response: Any, sent_json: Any) -> int:
        """What a $batch's requests cost, one by one (each answer says its own cost; a
        directory request costs nothing here, as outside a batch)."""
        try:
            answers = response.json().get("responses", [])
        except ValueError:
            return 0
        sent = {r.get("id"): r for r in sent_json.get("requests", [])}
        total = 0
        for answer in answers:
            if answer.get("status") == 429:
                self._throttled += 1
            request = sent.get(answer.get("id"), {})
            if not _sub_estimate(request):
                continue
            cost = (answer.get("headers") or {}).get("x-ms-resource-unit", "")
            total += int(cost) if cost.isdigit() else _sub_estimate(request)
        return total

    def _read_rate_limit(self, headers: Any) -> None:
        limit, remaining = headers.get("RateLimit-Limit"), headers.get("RateLimit-Remaining")
        if not (limit and remaining and limit.isdigit() and remaining.isdigit()):
            return
        self._remaining = int(remaining)
        used = int(limit) - int(remaining)
        reset = headers.get("RateLimit-Reset", "")
        if used >= self.share * int(limit) and reset.isdigit():
            self._resume_at = max(self._resume_at, self._clock() + int(reset))

    def waited_retry_after(self, seconds: float) -> None:
        with self._lock:
            self._retry_after += seconds

    def figures(self) -> BudgetFigures:
        with self._lock:
            now = self._clock()
            return BudgetFigures(
                per_minute=self.per_minute,
                share=self.share,
                used_last_minute=self._used(self.window, now),
                used_last_hour=self._used(HOUR, now),
                requests=self._requests,
                throttled=self._throttled,
                retry_after_seconds=round(self._retry_after, 3),
                paced_seconds=round(self._paced, 3),
                server_remaining=self._remaining,
            )
