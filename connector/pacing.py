"""How long to wait before the next request: Retry-After, backoff, a shared pause, a budget.

Microsoft's guidance (PROTOCOL.md 3): on 429/503 wait the Retry-After it sends (Graph sends
fractions like "2.128"; the HTTP standard also allows a date); without one, back off
exponentially; and pause *all* requests of the app, not just the throttled one.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_WAIT = 300.0  # never sleep longer than this for one Retry-After
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: "2", "2.128" or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_WAIT)


def backoff(attempt: int, base: float = BACKOFF_BASE) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(BACKOFF_CAP, base * 2**attempt))


class ThrottleGate:
    """A pause shared by every worker thread: while the tenant is throttled, nobody sends."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._resume_at = 0.0
        self._lock = threading.Lock()
        self._sleep = sleep

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    def wait(self) -> float:
        """Sleep until the pause ends; returns how long this caller slept."""
        with self._lock:
            remaining = self._resume_at - time.monotonic()
        if remaining > 0:
            self._sleep(remaining)
            return remaining
        return 0.0


class RequestBudget:
    """At most `per_minute` requests in any sliding minute (None = unlimited)."""

    def __init__(
        self,
        per_minute: int | None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self._sleep = sleep
        self._clock = clock

    def take(self) -> float:
        """Wait for a free slot in the budget and use it; returns how long it waited."""
        waited = 0.0
        while self.per_minute:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= 60.0:
                    self._sent.popleft()
                if len(self._sent) < self.per_minute:
                    self._sent.append(now)
                    break
                wait = 60.0 - (now - self._sent[0])
            self._sleep(wait)
            waited += wait
        return waited
