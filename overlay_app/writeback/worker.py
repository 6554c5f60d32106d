"""One write-back round: the discussion counts of documents that changed, written into their
SharePoint libraries (columns "Plaza discussion", "Plaza comments", "Plaza likes", "Plaza
last discussed", "Plaza tags"; connector.sharepoint_fields).

- **Dirty** documents are found by comparing each document's discussion now (comments,
  likes, newest comment, tags) with what was last written (`writeback_state`), not by hooks
  in the actions: nothing to forget when a new action appears, and a failed write simply
  stays different and is written next round, until it succeeds.
- **Debounced**: a document is written once its newest activity is `delay` seconds old, so
  a burst of 50 comments is one write. (Unlikes and removed tags leave no time behind: they
  are written at the next round.)
- **Scope**: only documents of enabled documents jobs with write-back on
  (sync.writeback_scope), never one deleted in SharePoint (archived in the index).
- **Requests**: a library's columns are checked (and added if missing) once per worker, then
  one system update per document: no version, Modified and Modified By kept.
- **Errors** become words here (this is the scheduler's and CLI's job wrapper for
  write-back): a missing permission is named, and recorded on the job's round in
  `writeback_rounds`; a throttled answer past every retry ends the round (what is left
  stays dirty); any other failure of one document is counted and the round goes on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import sqlite_utils

from connector.errors import AuthError, ConnectorError, PermissionMissing, Throttled
from connector.sharepoint_fields import (
    FieldRejected,
    SharePointFields,
    discussion_link,
    form_date,
)
from overlay_app.db import write
from overlay_app.writeback import store
from overlay_app.writeback.store import NONE, Discussion, Key, Round
from sync.writeback_scope import WriteTarget, write_back_jobs, write_targets

log = logging.getLogger(__name__)

PERMISSION_ADVICE = (
    "SharePoint refused write-back: the application permission {permission} (SharePoint, not "
    "Microsoft Graph) is not granted; an admin must add it in Entra ID (App registrations -> "
    "API permissions -> Add a permission -> SharePoint -> Application permissions) and grant "
    "admin consent, or turn write-back off with `plaza sync edit {job} --no-write-back`"
)


@dataclass
class RoundReport:
    """What a round did, per job (only jobs it touched), and how many documents wait."""

    rounds: dict[str, Round] = field(default_factory=dict)
    waiting: int = 0  # changed, but their activity is younger than the delay

    @property
    def ok(self) -> bool:
        return all(r.error is None and not r.failed for r in self.rounds.values())


class WriteBack:
    """Runs rounds for one social store and index; keep one per process (it remembers which
    libraries already have Plaza's columns)."""

    def __init__(
        self,
        social: sqlite_utils.Database,
        index: sqlite_utils.Database,
        fields: SharePointFields,
        public_url: str,
        delay: float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.social, self.index, self.fields = social, index, fields
        self.public_url = public_url.rstrip("/")
        self.delay = delay
        self.clock = clock
        self.ready: set[tuple[str, str]] = set()  # (site URL, list id) with our columns

    def run_round(self) -> RoundReport:
        report = RoundReport()
        if not write_back_jobs(self.index):
            return report
        started = _iso(self.clock())
        due, report.waiting = self._due()
        targets = write_targets(self.index, due)
        libraries: dict[tuple[str, str], list[WriteTarget]] = defaultdict(list)
        for target in targets.values():
            job = report.rounds.setdefault(target.job, Round(target.job, started))
            if target.archived:
                report.rounds[target.job] = replace(job, archived=job.archived + 1)
            else:
                libraries[(target.site_url, target.list_id)].append(target)
        try:
            for library, documents in libraries.items():
                self._write_library(library, documents, due, report)
        except Throttled as exc:
            log.warning("write-back throttled past every retry: the rest waits for next round")
            for name, job in report.rounds.items():
                report.rounds[name] = replace(job, error=job.error or _words(exc, name))
        with write(self.social) as conn:
            for job in report.rounds.values():
                store.record_round(conn, job)
        return report

    def _due(self) -> tuple[dict[Key, Discussion], int]:
        """Documents whose discussion differs from what was written, and are quiet."""
        now_values = store.current(self.social)
        before = store.written(self.social)
        quiet_since = _iso(self.clock() - timedelta(seconds=self.delay))
        due: dict[Key, Discussion] = {}
        waiting = 0
        for key in now_values.keys() | before.keys():
            entry = now_values.get(key)
            discussion = entry.discussion if entry else NONE
            if discussion == before.get(key, NONE):
                continue
            if entry is not None and _normal(entry.activity) > quiet_since:
                waiting += 1
            else:
                due[key] = discussion
        return due, waiting

    def _write_library(
        self,
        library: tuple[str, str],
        documents: list[WriteTarget],
        due: dict[Key, Discussion],
        report: RoundReport,
    ) -> None:
        site_url, list_id = library
        try:
            if library not in self.ready:
                self.fields.ensure_columns(site_url, list_id)
                self.ready.add(library)
        except (PermissionMissing, AuthError) as exc:
            self._fail(report, documents, exc)
            return
        for n, target in enumerate(documents):
            key = (target.drive_id, target.item_id)
            try:
                self.fields.system_update(
                    site_url, list_id, target.list_item_id, self.form_values(key, due[key])
                )
            except (PermissionMissing, AuthError) as exc:  # the rest would fail alike
                self._fail(report, documents[n:], exc)
                return
            except Throttled:
                raise
            except ConnectorError as exc:
                log.warning("write-back of %s/%s failed: %s", *key, exc)
                if isinstance(exc, FieldRejected):  # a column removed since? look next round
                    self.ready.discard(library)
                self._fail(report, [target], exc)
                continue
            with write(self.social) as conn:
                store.record_written(conn, key, due[key])
            job = report.rounds[target.job]
            report.rounds[target.job] = replace(job, written=job.written + 1)

    def _fail(self, report: RoundReport, documents: list[WriteTarget], exc: Exception) -> None:
        for target in documents:
            job = report.rounds[target.job]
            error = job.error or _words(exc, target.job)
            report.rounds[target.job] = replace(job, failed=job.failed + 1, error=error)

    def form_values(self, key: Key, discussion: Discussion) -> dict[str, str]:
        """The columns' values as SharePoint's form validation takes them."""
        drive_id, item_id = key
        url = f"{self.public_url}/documents/{quote(drive_id, safe='!')}/{quote(item_id)}"
        last = discussion.last_discussed
        last_moment = datetime.fromisoformat(_normal(last)) if last else None
        return {
            "PlazaDiscussion": discussion_link(url, describe(discussion)),
            "PlazaComments": str(discussion.comments),
            "PlazaLikes": str(discussion.likes),
            "PlazaLastDiscussed": form_date(last_moment),
            "PlazaTags": discussion.tags,
        }


def describe(discussion: Discussion) -> str:
    """ "3 comments · 5 likes", the link's text in the library."""
    comments = f"{discussion.comments} comment{'' if discussion.comments == 1 else 's'}"
    likes = f"{discussion.likes} like{'' if discussion.likes == 1 else 's'}"
    return f"{comments} · {likes}"


def _words(exc: Exception, job: str) -> str:
    if isinstance(exc, PermissionMissing):
        return PERMISSION_ADVICE.format(permission=exc.permission or "Sites.Manage.All", job=job)
    if isinstance(exc, Throttled):
        return "SharePoint is throttling Plaza: the documents left are written next round"
    return f"SharePoint refused write-back: {exc}"


def _normal(stamp: str) -> str:
    """An ISO timestamp in one comparable form (UTC, microseconds, +00:00)."""
    if not stamp:
        return ""
    return _iso(datetime.fromisoformat(stamp.replace("Z", "+00:00")))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
