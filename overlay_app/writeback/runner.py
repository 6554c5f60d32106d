"""Write-back as the CLI and the scheduler run it: settings from PLAZA_*, the stores opened,
one `WriteBack` kept per process (it remembers which libraries have Plaza's columns).

Settings (environment):
- PLAZA_DATA_DIR: where overlay.db and index.db live (default ./plaza-data).
- PLAZA_DATABASE_URL: a postgresql:// URL puts both stores in that database instead (the
  social store, and the index in its schema plaza_index), as for the web app and the sync.
- PLAZA_PUBLIC_URL: where people reach Plaza; the "Plaza discussion" links point there.
- PLAZA_WRITEBACK_DELAY: seconds a document's discussion must be quiet before it is written
  (default 30): a burst of comments is one write.
- PLAZA_WRITEBACK_INTERVAL: seconds between the scheduler's write-back rounds (default 60).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from connector.auth import TokenProvider
from connector.session import Transport
from connector.settings import ConnectorSettings
from connector.sharepoint_fields import SharePointFields
from overlay_app.db import open_social_store
from overlay_app.writeback.worker import RoundReport, WriteBack
from sync.db import index_location, open_index

DEFAULT_PUBLIC_URL = "http://localhost:5000"


class WriteBackSettingsError(ValueError):
    """Unusable write-back settings; `problems` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class WriteBackSettings:
    # The settings only write-back reads (.env.sample lists them; its test checks).
    OWN = ("PLAZA_WRITEBACK_DELAY", "PLAZA_WRITEBACK_INTERVAL")

    data_dir: Path
    public_url: str = DEFAULT_PUBLIC_URL
    delay: float = 30.0
    interval: float = 60.0
    database_url: str = field(default="", repr=False)  # PLAZA_DATABASE_URL: the social store

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WriteBackSettings:
        env = os.environ if environ is None else environ
        problems: list[str] = []
        delay = _seconds(env, "PLAZA_WRITEBACK_DELAY", 30.0, 0.0, problems)
        interval = _seconds(env, "PLAZA_WRITEBACK_INTERVAL", 60.0, 1.0, problems)
        public_url = (env.get("PLAZA_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
        if not public_url.startswith(("https://", "http://")):
            problems.append(f"PLAZA_PUBLIC_URL {public_url!r} must start with https:// or http://")
        if problems:
            raise WriteBackSettingsError(problems)
        data_dir = Path(env.get("PLAZA_DATA_DIR") or "plaza-data").resolve()
        return cls(data_dir, public_url, delay, interval, env.get("PLAZA_DATABASE_URL") or "")


def _seconds(env, name: str, default: float, minimum: float, problems: list[str]) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < minimum:
        problems.append(f"{name} must be a number of seconds, at least {minimum:g} (got {raw!r})")
        return default
    return value


class Runner:
    """Rounds of write-back for one process; `transport`/`tokens` may be shared with the
    sync's connector (one throttle pause and budget for the app)."""

    def __init__(
        self,
        settings: WriteBackSettings,
        connector_settings: ConnectorSettings,
        tokens: TokenProvider | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self.fields = SharePointFields(
            connector_settings, tokens or TokenProvider(connector_settings), transport
        )
        self._worker: WriteBack | None = None
        self._lock = threading.Lock()

    def run_round(self) -> RoundReport:
        with self._lock:  # one round at a time, whoever calls
            if self._worker is None:
                data_dir = self.settings.data_dir
                self._worker = WriteBack(
                    open_social_store(data_dir, self.settings.database_url),
                    open_index(index_location(data_dir / "index.db", self.settings.database_url)),
                    self.fields,
                    self.settings.public_url,
                    delay=self.settings.delay,
                )
            return self._worker.run_round()

    def close(self) -> None:
        """Closes the worker's connections (a command's one round is done)."""
        with self._lock:
            if self._worker is not None:
                self._worker.social.close()
                self._worker.index.close()
                self._worker = None
