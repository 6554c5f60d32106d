"""KPI trends on a hand-written activity (the pure part of insights/kpis.py): with five or more
people in both periods, the answer holds the period before and each figure's change; with four
then, the period before and the trend are withheld while this period is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from overlay_app.insights import kpis
from overlay_app.insights.activity import Activity, Comment, stamp
from sync.visibility import Document

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
KEY = ("drive", "doc")


def activity(before: int) -> Activity:
    """`before` people start a thread ten days ago (the period before, for 7 days); this week
    six people start one each and p0's thread gets a reply two hours after it."""
    comments = []
    old = stamp(NOW - timedelta(days=10))
    comments += [Comment(f"old-{n}", KEY, None, f"p{n}", old) for n in range(before)]
    new = NOW - timedelta(days=2)
    comments += [Comment(f"new-{n}", KEY, None, f"p{n}", stamp(new)) for n in range(6)]
    comments.append(Comment("reply", KEY, "new-0", "p1", stamp(new + timedelta(hours=2))))
    document = Document(*KEY, "Plan.docx", "/Plan.docx", None, False, "docx", 1, None, None)
    return Activity(now=NOW, comments=comments, documents={KEY: document})


def test_a_trend_is_this_period_minus_the_one_before():
    answer = kpis.kpis(activity(before=5), kpis.Scope("all"), 7, 5, unit_size=None)
    assert answer["previous"] == {
        "posting": 5,
        "onlyReading": 0,
        "contributions": 5,
        "perActivePerson": 1.0,
        "threads": 5,
        "replies": 0,
        "answeredShare": 0.0,
        "medianHoursToFirstReply": None,
    }
    assert answer["current"] == {
        "posting": 6,
        "onlyReading": 0,
        "contributions": 7,
        "perActivePerson": 1.17,
        "threads": 6,
        "replies": 1,
        "answeredShare": 0.167,
        "medianHoursToFirstReply": 2.0,
    }
    assert answer["trend"] == {
        "posting": 1,
        "onlyReading": 0,
        "contributions": 2,
        "perActivePerson": 0.17,
        "threads": 1,
        "replies": 1,
        "answeredShare": 0.167,
        "medianHoursToFirstReply": None,  # no reply before: no change to tell
    }


def test_four_people_before_withhold_the_trend_not_this_period():
    answer = kpis.kpis(activity(before=4), kpis.Scope("all"), 7, 5, unit_size=None)
    assert (answer["previous"], answer["trend"]) == (None, None)
    assert answer["withheld"] is None and answer["current"]["posting"] == 6
