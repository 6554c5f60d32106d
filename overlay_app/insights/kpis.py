"""Engagement KPIs of one scope over one period and the period before it, from an Activity
that is already trimmed for the viewer (activity.py). Pure: no SQL, no request.

Words:
- scope: everything (`all`), a community (`channel:<room id>`), a site, a library, a tag, or a
  unit of people (`department:<name>`, `office:<name>`: what the people sync stores).
- contribution: a comment, a reply, a channel message or a like given.
- posting: made a contribution in the period; only reading: read (activity.py says what that
  means) but made none. Both are counts, never lists of people.
- thread: a top-level comment; answered: someone other than its author replied (at any time
  up to the end of the period); time to first reply: to that reply, in hours.
- the group: the people posting or reading in the period. Its figures are shown only when it
  holds at least `min_group` people (and, for a unit, the unit too); else "too few people".
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from overlay_app.errors import N_
from overlay_app.insights.activity import Activity, Key, parse, stamp
from sync.visibility import Document

PERIODS = (7, 28, 90)
SCOPE_KINDS = ("all", "channel", "site", "library", "tag", "department", "office")
UNIT_KINDS = ("department", "office")
TOO_FEW = N_("too few people")
LIST_LIMIT = 20
TOP_LIMIT = 10


@dataclass(frozen=True)
class Scope:
    kind: str
    value: str = ""

    @property
    def text(self) -> str:
        return self.kind if self.kind == "all" else f"{self.kind}:{self.value}"


def parse_scope(text: str) -> Scope | None:
    kind, _, value = text.partition(":")
    if kind == "all" and not value:
        return Scope("all")
    if kind in SCOPE_KINDS and kind != "all" and value:
        return Scope(kind, value)
    return None


# -- which activity a scope holds ------------------------------------------------------------


class InScope:
    """Membership tests of one scope over one Activity."""

    def __init__(self, activity: Activity, scope: Scope) -> None:
        self.activity, self.scope = activity, scope
        unit_index = UNIT_KINDS.index(scope.kind) if scope.kind in UNIT_KINDS else None
        self.unit_people = (
            {p for p, unit in activity.units.items() if unit[unit_index] == scope.value}
            if unit_index is not None
            else None
        )
        self.keys = {key for key in activity.documents if self._holds(key)}

    def _holds(self, key: Key) -> bool:
        kind, value = self.scope.kind, self.scope.value
        document = self.activity.documents[key]
        if kind == "channel":
            return False
        if kind == "site":
            return document.site_id == value
        if kind == "library":
            return document.drive_id == value
        if kind == "tag":
            return value in self.activity.tags.get(key, [])
        return True

    def document(self, key: Key) -> bool:
        return key in self.keys

    def room(self, room_id: str) -> bool:
        if self.scope.kind == "channel":
            return room_id == self.scope.value
        return self.scope.kind in ("all", *UNIT_KINDS)

    def person(self, person_id: str) -> bool:
        return self.unit_people is None or person_id in self.unit_people


# -- one period ------------------------------------------------------------------------------


@dataclass
class Period:
    start: str
    end: str

    def holds(self, at: str) -> bool:
        return self.start <= at < self.end

    @property
    def first_day(self) -> date:
        return parse(self.start).date()


def periods(now: datetime, days: int) -> tuple[Period, Period]:
    """(this period, the one before it) in whole UTC days: this one the last `days` days up to
    `now`, today so far included (from the midnight at or after `now - days`), the one before
    the `days` days before it. Whole days let the nightly totals hold them (totals.py)."""
    cut = _midnight_at_or_after(now - timedelta(days=days))
    return Period(stamp(cut), stamp(now)), Period(stamp(cut - timedelta(days=days)), stamp(cut))


def _midnight_at_or_after(moment: datetime) -> datetime:
    midnight = datetime.combine(moment.astimezone(UTC).date(), time(), UTC)
    return midnight if midnight == moment else midnight + timedelta(days=1)


def day_count(period: Period) -> int:
    """The days of the period's daily figures (the last one may be today, so far)."""
    seconds = (parse(period.end) - parse(period.start)).total_seconds()
    return max(1, math.ceil(seconds / 86400))


@dataclass
class Thread:
    id: str
    key: Key
    author: str
    at: str


@dataclass
class Tally:
    """What one period of one scope holds, before any figure is derived: the people posting
    and reading (sets, so that two tallies add up exactly), counts, the threads started with
    their first reply by someone else before the period's end, the daily contributions
    written, and comments per document. The direct form (`tally`) and the totals form
    (totals.py) each make one; `figures` derives the same KPIs from either."""

    days: int
    posting: set[str] = field(default_factory=set)
    readers: set[str] = field(default_factory=set)
    contributions: int = 0
    replies: int = 0
    threads: list[Thread] = field(default_factory=list)  # oldest first
    first_reply: dict[str, str] = field(default_factory=dict)  # thread id -> at
    daily: list[int] = field(default_factory=list)
    per_document: Counter = field(default_factory=Counter)
    # threads the totals counted without listing them: how many, the waits (ms) of those
    # answered, the first unanswered ones
    more_threads: int = 0
    more_waits: list[int] = field(default_factory=list)
    more_unanswered: list[Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.daily = self.daily or [0] * self.days

    def count_day(self, period: Period, at: str, n: int = 1) -> None:
        index = (parse(at).date() - period.first_day).days
        if 0 <= index < self.days:
            self.daily[index] += n

    def answer(self, thread_id: str, at: str) -> None:
        known = self.first_reply.get(thread_id)
        if known is None or at < known:
            self.first_reply[thread_id] = at


def tally(activity: Activity, within: InScope, period: Period) -> Tally:
    """The direct form: one pass over the trimmed activity."""
    found = Tally(day_count(period))
    comments = [c for c in activity.comments if within.document(c.key)]
    for c in comments:
        if period.holds(c.at) and within.person(c.author):
            found.posting.add(c.author)
            found.contributions += 1
            found.per_document[c.key] += 1
            found.count_day(period, c.at)
            if c.parent_id is None:
                found.threads.append(Thread(c.id, c.key, c.author, c.at))
            else:
                found.replies += 1
    messages = [(who, at) for room, who, at in activity.messages if within.room(room)] + [
        (who, at) for key, who, at in activity.document_messages if within.document(key)
    ]
    likes = [
        (who, at) for key, who, at in activity.comment_likes + activity.document_likes
        if within.document(key)
    ]  # fmt: skip
    for who, at in messages + likes:
        if period.holds(at) and within.person(who):
            found.posting.add(who)
            found.contributions += 1
    for who, at in messages:
        if period.holds(at) and within.person(who):
            found.count_day(period, at)
    reads = [
        (who, at) for key, who, at in activity.notification_reads + activity.document_marker_moves
        if within.document(key)
    ] + [(who, at) for room, who, at in activity.marker_moves if within.room(room)]  # fmt: skip
    found.readers |= {who for who, at in reads if period.holds(at) and within.person(who)}
    authors = {t.id: t.author for t in found.threads}
    for c in comments:
        if c.parent_id in authors and c.author != authors[c.parent_id] and c.at < period.end:
            found.answer(c.parent_id, c.at)
    return found


def wait_ms(start: str, reply: str) -> int:
    """From a thread to its first reply, in whole milliseconds (what the stamps hold)."""
    return round((parse(reply) - parse(start)).total_seconds() * 1000)


def figures(found: Tally) -> dict:
    """The KPIs of one tally, before any group threshold."""
    posting = found.posting
    answered = [t for t in found.threads if t.id in found.first_reply]
    waits = found.more_waits + [wait_ms(t.at, found.first_reply[t.id]) for t in answered]
    threads = len(found.threads) + found.more_threads
    contributions = found.contributions
    return {
        "group": len(posting | found.readers),
        "posting": len(posting),
        "onlyReading": len(found.readers - posting),
        "contributions": contributions,
        "perActivePerson": round(contributions / len(posting), 2) if posting else None,
        "threads": threads,
        "replies": found.replies,
        "answeredShare": round(len(waits) / threads, 3) if threads else None,
        "medianHoursToFirstReply": (
            round(statistics.median(waits) / 3_600_000, 2) if waits else None
        ),
        "_unanswered": waiting(found),
        "_per_document": found.per_document,
        "_daily": found.daily,
    }


# -- the answer ------------------------------------------------------------------------------

SHOWN = (
    "posting", "onlyReading", "contributions", "perActivePerson", "threads", "replies",
    "answeredShare", "medianHoursToFirstReply",
)  # fmt: skip


def kpis(
    activity: Activity, scope: Scope, days: int, min_group: int, unit_size: int | None
) -> dict:
    """The KPIs of `scope` over the last `days` and the period before, computed directly from
    the trimmed activity (`answer` says what is shown)."""
    within = InScope(activity, scope)
    current_period, previous_period = periods(activity.now, days)
    tallies = (tally(activity, within, current_period), tally(activity, within, previous_period))
    return answer(scope, days, current_period, tallies, min_group, unit_size, activity.documents)


def answer(
    scope: Scope,
    days: int,
    current_period: Period,
    tallies: tuple[Tally, Tally],
    min_group: int,
    unit_size: int | None,
    documents: dict[Key, Document],
) -> dict:
    """The KPIs with trends, the unanswered threads and the most discussed documents (named
    from `documents`); figures withheld ("too few people") for a period whose group, or the
    unit itself, holds fewer than `min_group` people."""
    current, previous = figures(tallies[0]), figures(tallies[1])
    unit_ok = unit_size is None or unit_size >= min_group
    shown_now = unit_ok and current["group"] >= min_group
    shown_before = unit_ok and previous["group"] >= min_group
    return {
        "scope": scope.text,
        "days": days,
        "from": current_period.start,
        "until": current_period.end,
        "current": _public(current) if shown_now else None,
        "previous": _public(previous) if shown_before else None,
        "withheld": None if shown_now else TOO_FEW,
        "trend": _trend(current, previous) if shown_now and shown_before else None,
        "daily": current["_daily"] if shown_now else None,
        "unanswered": _unanswered(documents, current) if shown_now else [],
        "topDocuments": _top_documents(documents, current) if shown_now else [],
    }


def _public(found: dict) -> dict:
    return {name: found[name] for name in SHOWN}


def _trend(current: dict, previous: dict) -> dict:
    """This period minus the one before, per figure (None where either has no value)."""
    changes = {}
    for name in SHOWN:
        now, before = current[name], previous[name]
        changes[name] = None if now is None or before is None else round(now - before, 3)
    return changes


def waiting(found: Tally) -> list[Thread]:
    """The first threads with no answer, oldest first."""
    listed = [t for t in found.threads if t.id not in found.first_reply]
    return sorted(found.more_unanswered + listed, key=lambda t: (t.at, t.id))[:LIST_LIMIT]


def unanswered_keys(found: Tally) -> list[Key]:
    """The documents of the threads `_unanswered` lists (to name them)."""
    return [t.key for t in waiting(found)]


def top_keys(found: Tally) -> list[Key]:
    ranked = sorted(found.per_document.items(), key=lambda pair: (-pair[1], pair[0]))
    return [key for key, _ in ranked[:TOP_LIMIT]]


def _unanswered(documents: dict[Key, Document], found: dict) -> list[dict]:
    return [_thread_json(documents, t) for t in found["_unanswered"]]


def _thread_json(documents: dict[Key, Document], thread: Thread) -> dict:
    document = documents[thread.key]
    return {
        "commentId": thread.id,
        "driveId": thread.key[0],
        "itemId": thread.key[1],
        "name": document.name,
        "createdAt": thread.at,
    }


def _top_documents(documents: dict[Key, Document], found: dict) -> list[dict]:
    counts = found["_per_document"]
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_LIMIT]
    return [
        {"driveId": d, "itemId": i, "name": documents[(d, i)].name, "comments": n}
        for (d, i), n in ranked
    ]
