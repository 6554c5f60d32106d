"""What a run reports: its counts (RunCounts) and how it shows progress (Progress).

Re-exported by sync.engine, which is where callers import them from.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Protocol


@dataclass
class RunCounts:
    """Totals of one run; `deleted` counts tombstones, `permission_changes` items whose
    complete ACL changed (documents) or person-group memberships that changed (people),
    `permission_failures` items whose permissions could not be read after every retry (left
    `failed`: hidden to everyone until a later run reads them)."""

    added: int = 0
    updated: int = 0
    moved: int = 0
    deleted: int = 0
    permission_changes: int = 0
    permission_failures: int = 0
    throttled_waits: int = 0
    throttled_seconds: float = 0.0
    pages: int = 0
    items: int = 0

    def add(self, other: RunCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class Progress(Protocol):
    """Told about a run as it goes; the engine serialises calls from its worker threads.

    A callback may raise (e.g. to stop a run between pages): the run stops after its last
    committed page and the exception reaches the caller.
    """

    def on_page(self, items: int) -> None: ...

    def on_throttled(self, seconds: float) -> None: ...

    def on_message(self, text: str) -> None: ...


class NullProgress:
    def on_page(self, items: int) -> None:
        pass

    def on_throttled(self, seconds: float) -> None:
        pass

    def on_message(self, text: str) -> None:
        pass


class SerialProgress:
    """Wraps a Progress so that worker threads call it one at a time."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._lock = threading.Lock()

    def on_page(self, items: int) -> None:
        with self._lock:
            self._progress.on_page(items)

    def on_throttled(self, seconds: float) -> None:
        with self._lock:
            self._progress.on_throttled(seconds)

    def on_message(self, text: str) -> None:
        with self._lock:
            self._progress.on_message(text)
