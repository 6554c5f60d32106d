"""The web app's settings, from PLAZA_* environment variables and an optional TOML file.

Validated at start with every problem reported at once (SettingsError lists them all).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SettingsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("Plaza cannot start:\n" + "\n".join(f"- {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class OverlaySettings:
    data_dir: Path
    secret_key: str
    public_url: str = "http://localhost:5000"  # where people reach Plaza (redirect URI base)
    authority: str = ""
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = ""
    ca_bundle: str = ""
    graph_url: str = "https://graph.microsoft.com/v1.0"
    api_audience: str = ""  # accepted `aud` of bearer tokens; default api://{client_id}
    admin_group_id: str = ""
    admin_role: str = "Plaza.Admin"
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    writes_per_minute: int = 30
    live_check_seconds: int = 60
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def social_path(self) -> Path:
        return self.data_dir / "overlay.db"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index.db"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> OverlaySettings:
        """Settings from a dict of field names (tests); unknown names are an error."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError([f"unknown setting {name}" for name in unknown])
        values = dict(values)
        values["data_dir"] = Path(values.get("data_dir") or "plaza-data").resolve()
        return cls(**values)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> OverlaySettings:
        environ = os.environ if environ is None else environ
        return cls.from_mapping(
            {
                "data_dir": environ.get("PLAZA_DATA_DIR") or "plaza-data",
                "secret_key": environ.get("PLAZA_SECRET_KEY", ""),
            }
        )
