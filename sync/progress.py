"""How a run shows progress: a live bar on a terminal, plain log lines anywhere else.

Both implement sync.engine.Progress (on_page, on_throttled, on_message) and may be called from
the engine's worker threads. Use `progress_for(stream)` as a context manager around a run.
SnapshotProgress writes the same tally to a JSON file that another process (the web admin)
reads while the run goes on.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

LOG_EVERY_SECONDS = 5.0  # plain logs: at most one page line per interval (a 1M-item run has 5k)


class Tally:
    """Pages, items and throttled waits seen so far (thread-safe)."""

    def __init__(self) -> None:
        self.pages = self.items = self.throttled_waits = 0
        self.throttled_seconds = 0.0
        self.lock = threading.Lock()

    def add_page(self, items: int) -> None:
        with self.lock:
            self.pages += 1
            self.items += items

    def add_wait(self, seconds: float) -> None:
        with self.lock:
            self.throttled_waits += 1
            self.throttled_seconds += seconds

    def summary(self) -> str:
        return (
            f"{plural(self.items, 'item')}, {plural(self.pages, 'page')}, "
            f"{plural(self.throttled_waits, 'throttled wait')} ({self.throttled_seconds:.1f} s)"
        )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class LogProgress:
    """One timestamped line per message, throttled wait, and (at most every few seconds) page."""

    def __init__(
        self,
        stream: TextIO,
        every: float = LOG_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.every, self.clock = stream, every, clock
        self.tally = Tally()
        self._last_line = float("-inf")
        self._last_summary = ""

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.tally.pages and self.tally.summary() != self._last_summary:
            self._summary()  # where the run ended, if the last page was not logged
        self.stream.flush()

    def on_page(self, items: int) -> None:
        self.tally.add_page(items)
        now = self.clock()
        if now - self._last_line >= self.every:
            self._last_line = now
            self._summary()

    def _summary(self) -> None:
        self._last_summary = self.tally.summary()
        self._line(f"synced {self._last_summary}")

    def on_throttled(self, seconds: float) -> None:
        self.tally.add_wait(seconds)
        self._line(f"throttled: waiting {seconds:.1f} s")

    def on_message(self, text: str) -> None:
        self._line(text)

    def _line(self, text: str) -> None:
        stamp = datetime.now().astimezone().strftime("%H:%M:%S")
        with self.tally.lock:
            print(f"{stamp} {text}", file=self.stream, flush=True)


class BarProgress:
    """A rich live line: spinner, items, pages, throttled waits, elapsed time."""

    def __init__(self, stream: TextIO, title: str = "sync") -> None:
        self.tally = Tally()
        self._bar = RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self._task = self._bar.add_task(title, total=None, counts=self.tally.summary())

    def __enter__(self) -> BarProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._refresh()
        self._bar.stop()

    def on_page(self, items: int) -> None:
        self.tally.add_page(items)
        self._refresh()

    def on_throttled(self, seconds: float) -> None:
        self.tally.add_wait(seconds)
        self._refresh()

    def on_message(self, text: str) -> None:
        self._bar.console.print(text, markup=False, highlight=False)

    def _refresh(self) -> None:
        self._bar.update(self._task, counts=self.tally.summary())


def progress_for(
    stream: TextIO | None = None, title: str = "sync", terminal: bool | None = None
) -> LogProgress | BarProgress:
    """A bar when `stream` (default stdout) is a terminal, else plain log lines."""
    stream = stream or sys.stdout
    if terminal is None:
        terminal = stream.isatty()
    return BarProgress(stream, title) if terminal else LogProgress(stream)


class SnapshotProgress:
    """The tally as a small JSON file, rewritten atomically at most every `every` seconds: how
    another process (the web admin's "run now") watches a run live. `finish(run)` writes the
    outcome last."""

    KEEP_MESSAGES = 5

    def __init__(self, path: Path, job: str, every: float = 0.5) -> None:
        self.path, self.job, self.every = Path(path), job, every
        self.tally = Tally()
        self.messages: list[str] = []
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._last_write = float("-inf")
        self._ending: dict[str, object] = {}

    def __enter__(self) -> SnapshotProgress:
        self.write(force=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.write(force=True)

    def on_page(self, items: int) -> None:
        self.tally.add_page(items)
        self.write()

    def on_throttled(self, seconds: float) -> None:
        self.tally.add_wait(seconds)
        self.write()

    def on_message(self, text: str) -> None:
        self.messages = [*self.messages, text][-self.KEEP_MESSAGES :]
        self.write(force=True)

    def finish(self, outcome: str, error: str | None) -> None:
        self._ending = {"outcome": outcome, "error": error}
        self.write(force=True)

    def write(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < self.every:
            return
        self._last_write = now
        snapshot = {
            "job": self.job,
            "startedAt": self.started_at,
            "pages": self.tally.pages,
            "items": self.tally.items,
            "throttledWaits": self.tally.throttled_waits,
            "throttledSeconds": round(self.tally.throttled_seconds, 1),
            "messages": self.messages,
            "running": not self._ending,
            **self._ending,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps(snapshot))
        os.replace(partial, self.path)  # readers never see half a file


def read_snapshot(path: Path) -> dict | None:
    """What a SnapshotProgress last wrote at `path`, or None."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
