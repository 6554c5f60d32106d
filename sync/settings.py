"""Where sync keeps its state: one data directory (PLAZA_DATA_DIR, default ./plaza-data), and
the index in PostgreSQL instead of index.db when PLAZA_DATABASE_URL is set."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sync.db import Location, index_location


@dataclass(frozen=True)
class SyncSettings:
    data_dir: Path
    database_url: str = field(default="", repr=False)  # PLAZA_DATABASE_URL

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index.db"

    @property
    def index_location(self) -> Location:
        """What sync.db.open_index takes: the PostgreSQL URL if set, else index.db."""
        return index_location(self.index_path, self.database_url)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SyncSettings:
        environ = os.environ if environ is None else environ
        data_dir = Path(environ.get("PLAZA_DATA_DIR") or "plaza-data").resolve()
        return cls(data_dir, environ.get("PLAZA_DATABASE_URL") or "")
