"""Where write-back may write: documents of the jobs that have it on, as the index has them.

The web app's write-back worker (overlay_app/writeback) asks this, for the documents whose
discussion changed, which job covers each one and where it lives in SharePoint (site URL,
list id, list item id). Nothing here is trimmed for a person: write-back writes the total
discussion into the library, where whoever sees the file sees it. Read-only.

A job covers a document when its target picks the document's site (all sites, the site's
URL, or a site whose title or name contains the job's site search: Graph's site search is
broader, so a document it found and this does not is simply not written), its library and
its path and file type. The first job by name that covers a document is the one reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from sync.jobs import DOCUMENTS, Job, list_jobs
from sync.targets import DocumentTarget

Key = tuple[str, str]  # (drive_id, item_id)

TARGETS_SQL = """
SELECT i.drive_id, i.item_id, i.list_id, i.list_item_id, i.deleted, i.path, i.file_type,
       i.is_folder, d.name, d.removed, s.web_url, s.title, s.name, s.removed
FROM json_each(:keys) AS k
JOIN items AS i ON i.drive_id = k.value ->> 0 AND i.item_id = k.value ->> 1
JOIN drives AS d ON d.id = i.drive_id
JOIN sites AS s ON s.id = d.site_id
"""


@dataclass(frozen=True)
class WriteTarget:
    """A document write-back may write to, and the job that covers it."""

    drive_id: str
    item_id: str
    job: str
    site_url: str
    list_id: str
    list_item_id: int
    archived: bool  # deleted in SharePoint (or its library or site is gone): never written


def write_back_jobs(db: sqlite_utils.Database) -> list[Job]:
    """Enabled documents jobs with write-back on, by name (a paused job writes nothing)."""
    return [
        job
        for job in list_jobs(db, enabled_only=True)
        if job.kind == DOCUMENTS and job.write_back and job.target is not None
    ]


def write_targets(db: sqlite_utils.Database, keys: Iterable[Key]) -> dict[Key, WriteTarget]:
    """Those of the documents that a write-back job covers, by key; documents the index does
    not know, or knows without SharePoint list ids, are left out."""
    jobs = write_back_jobs(db)
    wanted = [list(key) for key in keys]
    if not jobs or not wanted:
        return {}
    found: dict[Key, WriteTarget] = {}
    for row in db.conn.execute(TARGETS_SQL, {"keys": json.dumps(wanted)}):
        drive_id, item_id, list_id, list_item_id, deleted, path, file_type = row[:7]
        is_folder, drive_name, drive_removed, web_url, title, name, site_removed = row[7:]
        if not (list_id and list_item_id and web_url):
            continue
        job = next(
            (
                j.name
                for j in jobs
                if _covers(j.target, web_url, title, name, drive_id, drive_name)  # type: ignore[arg-type]
                and (is_folder or path is None or j.target.keeps_file(path, file_type))  # type: ignore[union-attr]
            ),
            None,
        )
        if job is None:
            continue
        archived = bool(deleted or drive_removed or site_removed)
        found[(drive_id, item_id)] = WriteTarget(
            drive_id, item_id, job, web_url, list_id, int(list_item_id), archived
        )
    return found


def _covers(
    target: DocumentTarget,
    web_url: str,
    title: str | None,
    name: str | None,
    drive_id: str,
    drive_name: str | None,
) -> bool:
    if not target.keeps_library(drive_id, drive_name):
        return False
    if target.all_sites:
        return True
    if target.site_urls:
        wanted = {url.rstrip("/").lower() for url in target.site_urls}
        return web_url.rstrip("/").lower() in wanted
    query = (target.site_search or "").strip().lower()
    return bool(query) and any(query in (text or "").lower() for text in (title, name))
