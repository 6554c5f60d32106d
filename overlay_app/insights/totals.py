"""KPIs from the nightly daily totals: what the KPI pages and API answer once the nightly job
has run (before it, and for the days after it, the activity itself is read).

Why: read directly (kpis.tally over activity.py), a 28-day KPI over a firm with a million
comments a year reads some 150,000 rows and takes seconds. The nightly job (`update`) keeps,
for every complete UTC day, per document and person what they wrote, liked and read there,
and per thread its first reply (store_totals.py); only the days whose activity changed since
the last run are recomputed (triggers mark them, m013). A request then sums those rows in
SQL for the days the totals hold, reads the activity itself only from the end of the last
complete day on (today, or the end of a past `asOf`), and adds both tallies up: the people
posting and reading are exact sets (one row per person, document and day), never sketches.

Trimming: the documents with activity are trimmed for the viewer at request time, exactly as
activity.py does (access.filter_visible); the sums read only those documents, so a document
the viewer cannot open contributes nothing, and one revoked disappears at once. Channels are
read directly (few, and trimmed by chat.access). What the totals hold lags the activity for
changes to complete days made since the last run (a comment deleted or hidden, a like taken
back, a read marker moved on): the next run puts them right.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from overlay_app import access, db
from overlay_app.identity import Person
from overlay_app.insights import kpis
from overlay_app.insights import store_totals as store
from overlay_app.insights.activity import Activity, Key, stamp, viewer_activity
from overlay_app.insights.kpis import InScope, Period, Scope, Tally, Thread
from overlay_app.tags import store as tags_store
from sync import visibility

# -- the nightly job's side ------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    days: int  # days recomputed
    rows: int
    seconds: float
    complete_until: str


def update(now: datetime) -> Update:
    """Recomputes the totals of every day before today (UTC) whose activity changed since
    the last run (all of them the first time), one transaction per day."""
    started, today = time.perf_counter(), now.astimezone(UTC).date()
    with db.transaction() as conn:
        if store.state(conn) is None:
            store.mark_every_day(conn)
    days, rows = store.dirty_days(db.social(), today.isoformat()), 0
    for day in days:
        first = date.fromisoformat(day)
        a, b = _at(first), _at(first + timedelta(days=1))
        with db.transaction() as conn:
            rows += store.recompute_day(conn, day, day_number(day), a, b)
    seconds = time.perf_counter() - started
    with db.transaction() as conn:
        store.set_state(conn, today.isoformat(), stamp(now), seconds, len(days))
    return Update(len(days), rows, seconds, today.isoformat())


def day_number(day: str) -> int:
    """A UTC day (YYYY-MM-DD or a stamp) as the totals number it: days since 1970-01-01."""
    return (date.fromisoformat(day[:10]) - EPOCH).days


EPOCH = date(1970, 1, 1)


def _at(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


# -- the request's side ----------------------------------------------------------------------


def complete_until() -> str | None:
    found = store.state(db.social())
    return None if found is None else found[0]


@dataclass
class Window:
    """One viewer's reading of both periods: the activity read directly from `split` on, and
    the documents with activity in the totals before it that the viewer may open (by key,
    with the number the totals give it)."""

    recent: Activity
    split: str  # a UTC day: totals before it, the activity itself from it on
    visible: dict[Key, int]
    principals: frozenset[str]


def window(viewer: Person, days: int, now: datetime) -> Window | None:
    """None before the first nightly run (then the activity itself is read)."""
    until = complete_until()
    if until is None:
        return None
    previous = kpis.periods(now, days)[1]
    split = max(previous.start[:10], min(until, now.astimezone(UTC).date().isoformat()))
    principals = access.principals_of(viewer.id)
    recent = viewer_activity(viewer, principals, now, _at(date.fromisoformat(split)),
                             rooms_since=previous.start)  # fmt: skip
    numbered = store.documents_between(db.social(), day_number(previous.start), day_number(split))
    visible = access.filter_visible(viewer, numbered) if principals and numbered else set()
    return Window(recent, split, {key: numbered[key] for key in visible}, principals)


def with_documents(found: Window) -> Activity:
    """The recent activity with the metadata and tags of every visible document of the window
    (for the scopes a viewer may pick, and their names)."""
    activity = found.recent
    older = set(found.visible) - set(activity.documents)
    activity.documents |= visibility.documents(db.index(), found.principals, older)
    activity.tags |= tags_store.tags_on(db.social(), sorted(older))
    return activity


def kpis_in(found: Window, scope: Scope, days: int, least: int, unit_size: int | None) -> dict:
    """The same answer as kpis.kpis over the whole activity, from the totals and the recent
    activity."""
    current, previous = kpis.periods(found.recent.now, days)
    keys, documents = _scope_keys(found, scope)
    within = InScope(found.recent, scope)
    tallies = (
        kpis.tally(found.recent, within, current),
        kpis.tally(found.recent, within, previous),
    )
    if keys:
        Totals(found, {found.visible[k]: k for k in keys}, within.unit_people).add(
            (current, previous), tallies
        )
    shown = {k for t in tallies for k in kpis.unanswered_keys(t) + kpis.top_keys(t)}
    documents |= found.recent.documents
    missing = shown - set(documents)
    documents |= visibility.documents(db.index(), found.principals, missing) if missing else {}
    return kpis.answer(scope, days, current, tallies, least, unit_size, documents)


def _scope_keys(found: Window, scope: Scope) -> tuple[set[Key], dict]:
    """The visible documents the scope holds, and their metadata when it took reading it."""
    if scope.kind == "channel":
        return set(), {}
    visible = set(found.visible)
    if scope.kind == "tag":
        tags = tags_store.tags_on(db.social(), sorted(visible))
        return {k for k in visible if scope.value in tags.get(k, [])}, {}
    if scope.kind not in ("site", "library"):
        return visible, {}
    documents = visibility.documents(db.index(), found.principals, visible)
    field = "site_id" if scope.kind == "site" else "drive_id"
    held = {k for k, d in documents.items() if getattr(d, field) == scope.value}
    return held, documents


class Totals:
    """Adds what the totals hold of the periods' whole days before the split to the tallies
    of what was read directly (which hold everything from the split on)."""

    def __init__(self, found: Window, documents: dict[int, Key], people: set[str] | None):
        self.found, self.documents, self.people = found, documents, people
        self.social = db.social()

    def add(self, periods: tuple[Period, Period], tallies: tuple[Tally, Tally]) -> None:
        current, previous = periods
        first, cut = day_number(previous.start), day_number(current.start)
        until = min(day_number(self.found.split), day_number(current.end))
        if first >= until:
            return
        docs, people = list(self.documents), self.people
        sums = store.people_between(self.social, first, cut, until, docs, people)
        for person, *counts in sums:
            for tally, contributions, reads in (
                (tallies[1], *counts[:2]),
                (tallies[0], *counts[2:]),
            ):
                if contributions:
                    tally.posting.add(person)
                if reads:
                    tally.readers.add(person)
                tally.contributions += contributions
        for day, replies, written in store.days_between(self.social, first, until, docs, people):
            tally, period = (tallies[0], current) if day >= cut else (tallies[1], previous)
            tally.replies += replies
            tally.count_day(period, _at(EPOCH + timedelta(days=day)), written)
        for document, comments in store.comments_by_document(self.social, cut, until, docs, people):
            tallies[0].per_document[self.documents[document]] += comments
        for tally, period in zip(tallies, periods, strict=True):
            last = min(self.found.split, period.end[:10])
            if period.start[:10] < last:
                self._threads(tally, period, period.start, _at(date.fromisoformat(last)))

    def _threads(self, tally: Tally, period: Period, a: str, b: str) -> None:
        """The threads of [a, b): those a reply read directly may answer (its parent) listed
        one by one; the others only counted, with their waits and first unanswered ones."""
        docs, people, recent = list(self.documents), self.people, self.found.recent
        parents = {c.parent_id for c in recent.comments if c.parent_id}
        listed = []
        for cid, document, author, at, first_reply in store.threads_among(
            self.social, parents, docs
        ):
            if a <= at < b and (people is None or author in people):
                listed.append(Thread(cid, self.documents[document], author, at))
                if first_reply is not None and first_reply < period.end:
                    tally.answer(cid, first_reply)
        for c in recent.comments:  # a reply since the last run may come first
            for thread in listed:
                if c.parent_id == thread.id and c.author != thread.author and c.at < period.end:
                    tally.answer(thread.id, c.at)
        tally.threads = listed + tally.threads
        apart = [t.id for t in listed]
        count, waits = store.thread_waits(self.social, a, b, period.end, docs, people, apart)
        tally.more_threads += count
        tally.more_waits += [int(w) for w in waits.split(",")] if waits else []
        rows = store.unanswered(self.social, a, b, period.end, docs, people, apart, kpis.LIST_LIMIT)
        tally.more_unanswered += [
            Thread(cid, self.documents[document], "", at) for cid, document, at in rows
        ]
