"""An open-loop load generator: requests at a fixed rate from a bounded pool of threads.

Each of a stream's threads (one keep-alive requests.Session each) owns every k-th slot of a
fixed schedule, and a latency counts from when its request was due, not from when a busy thread
got round to it, so a server that falls behind shows it (no coordinated omission). wrk cannot
hold a fixed rate, which is why this exists (bench/overlay_load.py uses it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

GRACE = 5.0  # seconds a phase may overrun before unsent requests are dropped


@dataclass
class Stream:
    """One kind of request at a fixed rate: how to make a session and send one request.

    Requests still unsent GRACE seconds after the phase should have ended are dropped (and
    counted), so a saturated server cannot stretch a run without bound."""

    name: str
    rate: float
    threads: int
    session: Callable[[], requests.Session]
    send: Callable[[requests.Session, int], requests.Response]
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    dropped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, start: float, seconds: float) -> list[threading.Thread]:
        threads = []
        for k in range(self.threads):
            thread = threading.Thread(target=self._slots, args=(k, start, seconds), daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def _slots(self, k: int, start: float, seconds: float) -> None:
        session, total = self.session(), int(self.rate * seconds)
        give_up = start + seconds + GRACE
        for slot in range(k, total, self.threads):
            due = start + slot / self.rate
            if time.perf_counter() > give_up:
                with self._lock:
                    self.dropped += 1
                continue
            time.sleep(max(0.0, due - time.perf_counter()))
            try:
                ok = self.send(session, slot).status_code < 400
            except requests.RequestException:
                ok = False
            with self._lock:
                self.latencies.append(time.perf_counter() - due)
                self.failures += not ok


def measure(streams: list[Stream], seconds: float) -> float:
    """Runs the streams together; how long the phase took until its last answer."""
    start = time.perf_counter() + 0.2
    threads = [thread for stream in streams for thread in stream.run(start, seconds)]
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` 0.95 for p95) of seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] * 1000


def one_at_a_time(session: requests.Session, send, count: int = 40) -> float:
    """The median time of `count` requests sent one after another (no load, no sync)."""
    took = []
    for _ in range(count):
        began = time.perf_counter()
        send(session).raise_for_status()
        took.append(time.perf_counter() - began)
    return percentile(took, 0.5)


def plain_session() -> requests.Session:
    """A keep-alive session that ignores proxy settings from the environment (loopback)."""
    session = requests.Session()
    session.trust_env = False
    return session
