"""What the composition root tells `plaza connector check`: whether any sync job has
write-back on (then the check also names the SharePoint permissions write-back needs)."""

from __future__ import annotations

from sync.db import connect
from sync.settings import SyncSettings
from sync.writeback_scope import write_back_jobs


def write_back_on(environ: dict[str, str]) -> bool:
    """True when the index of PLAZA_DATA_DIR has an enabled documents job with write-back."""
    settings = SyncSettings.from_env(environ)
    if not settings.database_url and not settings.index_path.exists():
        return False
    db = connect(settings.index_location, readonly=True)
    try:
        return bool(write_back_jobs(db))
    except Exception:  # an index older than write-back (no column yet), or unreadable
        return False
    finally:
        db.close()
