"""Retry-After parsing, backoff bounds, the shared pause and the request budget."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connector.pacing import (
    BACKOFF_CAP,
    MAX_WAIT,
    RequestBudget,
    ThrottleGate,
    backoff,
    retry_after_seconds,
)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        ("2.128", 2.128),
        ("0", 0.0),
        ("100000", MAX_WAIT),
        (None, None),
        ("", None),
        ("soon", None),
    ],
)
def test_retry_after_seconds(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_http_date():
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    earlier = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert 28.0 <= retry_after_seconds(later) <= 30.0
    assert retry_after_seconds(earlier) == 0.0


def test_backoff_grows_and_is_capped():
    for attempt in range(12):
        assert 0 <= backoff(attempt) <= min(BACKOFF_CAP, 2**attempt)


def test_gate_pauses_every_thread():
    gate = ThrottleGate()
    paused_at = time.monotonic()
    gate.pause(0.3)
    passed: list[float] = []

    def worker() -> None:
        gate.wait()
        passed.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every thread, however late it started, passes only once the pause is over.
    assert len(passed) == 4 and all(p >= paused_at + 0.3 for p in passed)
    assert gate.wait() == 0.0


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_budget_waits_for_the_oldest_request_to_leave_the_minute():
    clock = FakeClock()
    budget = RequestBudget(3, sleep=clock.sleep, clock=clock)
    for _ in range(3):
        assert budget.take() == 0.0
        clock.now += 10.0
    assert budget.take() == 30.0  # the first request, sent 30 s ago, leaves the minute then
    assert clock.slept == [30.0]
    assert RequestBudget(None).take() == 0.0
