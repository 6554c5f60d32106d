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
        with db.transaction() as conn:
            rows += store.recompute_day(conn, day, _at(first), _at(first + timedelta(days=1)))
    seconds = time.perf_counter() - started
    with db.transaction() as conn:
        store.set_state(conn, today.isoformat(), stamp(now), seconds, len(days))
    return Update(len(days), rows, seconds, today.isoformat())


def _at(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


# -- the request's side ----------------------------------------------------------------------


def complete_until() -> str | None:
    found = store.state(db.social())
    return None if found is None else found[0]


@dataclass
class Window:
    """One viewer's reading of both periods: the activity read directly from `split` on, and
    the documents with activity in the totals before it that the viewer may open."""

    recent: Activity
    split: str  # a UTC day: totals before it, the activity itself from it on
    visible: set[Key]
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
    candidates = store.keys_between(db.social(), previous.start[:10], split)
    visible = access.filter_visible(viewer, candidates) if principals else set()
    return Window(recent, split, visible, principals)


def with_documents(found: Window) -> Activity:
    """The recent activity with the metadata and tags of every visible document of the window
    (for the scopes a viewer may pick, and their names)."""
    activity = found.recent
    older = found.visible - set(activity.documents)
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
        _add_totals(kpis.tally(found.recent, within, current), found, current, keys, within),
        _add_totals(kpis.tally(found.recent, within, previous), found, previous, keys, within),
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
    if scope.kind == "tag":
        tags = tags_store.tags_on(db.social(), sorted(found.visible))
        return {k for k in found.visible if scope.value in tags.get(k, [])}, {}
    if scope.kind not in ("site", "library"):
        return found.visible, {}
    documents = visibility.documents(db.index(), found.principals, found.visible)
    field = "site_id" if scope.kind == "site" else "drive_id"
    held = {k for k, d in documents.items() if getattr(d, field) == scope.value}
    return held, documents


def _add_totals(
    found: Tally, window_: Window, period: Period, keys: set[Key], within: InScope
) -> Tally:
    """Adds the totals of the period's whole days before the split to the tally of what was
    read directly (which holds everything from the split on)."""
    first, until = period.start[:10], min(window_.split, period.end[:10])
    if first >= until or not keys:
        return found
    social, people = db.social(), within.unit_people
    for person, contributions, reads in store.people_between(social, first, until, keys, people):
        if contributions:
            found.posting.add(person)
        if reads:
            found.readers.add(person)
        found.contributions += contributions
    for day, replies, written in store.days_between(social, first, until, keys, people):
        found.replies += replies
        found.count_day(period, _at(date.fromisoformat(day)), written)
    for d, i, comments in store.documents_between(social, first, until, keys, people):
        found.per_document[(d, i)] += comments
    a, b = _at(date.fromisoformat(first)), _at(date.fromisoformat(until))
    rows = store.threads_between(social, a, b, keys, people)
    older = [Thread(cid, (d, i), author, at) for cid, d, i, author, at, _ in rows]
    for thread_id, *_, first_reply in rows:
        if first_reply is not None and first_reply < period.end:
            found.answer(thread_id, first_reply)
    _recent_replies(found, older, window_.recent, period)
    found.threads = older + found.threads
    return found


def _recent_replies(found: Tally, older: list[Thread], recent: Activity, period: Period) -> None:
    """Replies read directly to threads the totals hold: the totals' first reply is as of the
    last run, so one written since may come first."""
    authors = {t.id: t.author for t in older}
    for c in recent.comments:
        parent = c.parent_id
        if parent in authors and c.author != authors[parent] and c.at < period.end:
            found.answer(parent, c.at)  # on the thread's document, trimmed like it
