"""Who created which document in SharePoint (the items' createdBy), read from the index.

Decides nothing about visibility: callers pass keys already trimmed for the viewer
(sync/visibility), as expertise evidence does before it counts anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils

Key = tuple[str, str]


def creators(db: sqlite_utils.Database, keys: Iterable[Key]) -> dict[Key, str]:
    """The creator's oid of each of those live documents that has one, by key."""
    wanted = sorted({(str(d), str(i)) for d, i in keys})
    if not wanted:
        return {}
    rows = db.execute(
        """SELECT i.drive_id, i.item_id, i.created_by FROM json_each(?) AS k
           JOIN items AS i ON i.drive_id = k.value ->> 0 AND i.item_id = k.value ->> 1
           WHERE i.deleted = 0 AND i.created_by IS NOT NULL AND i.is_folder = 0""",
        [json.dumps(wanted)],
    )
    return {(drive_id, item_id): creator for drive_id, item_id, creator in rows}
