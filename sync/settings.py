"""Where sync keeps its state: one data directory (PLAZA_DATA_DIR, default ./plaza-data)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SyncSettings:
    data_dir: Path

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index.db"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SyncSettings:
        environ = os.environ if environ is None else environ
        return cls(Path(environ.get("PLAZA_DATA_DIR") or "plaza-data").resolve())
