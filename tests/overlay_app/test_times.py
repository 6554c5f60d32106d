"""Times read one way everywhere: a relative phrase, the exact UTC time as its title."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overlay_app.times import exact_time, relative_time, time_tag

NOW = datetime(2026, 3, 12, 15, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stamp", "phrase"),
    [
        ("2026-03-12T15:00:00Z", "just now"),
        ("2026-03-12T14:55:00Z", "5 min ago"),
        ("2026-03-12T12:00:00+00:00", "3 h ago"),
        ("2026-03-11T09:00:00Z", "yesterday"),
        ("2026-03-08T15:00:00Z", "4 days ago"),
        ("2026-03-01T08:00:00Z", "1 Mar 2026"),
        ("2026-03-12T16:00:00+02:00", "1 h ago"),
        ("not a time", "not a time"),
    ],
)
def test_relative_phrases(stamp: str, phrase: str) -> None:
    assert relative_time(stamp, NOW) == phrase


def test_exact_time_is_utc_in_one_format() -> None:
    assert exact_time("2025-11-22T17:58:00+01:00") == "22 Nov 2025, 16:58 UTC"
    assert exact_time("2025-11-02T06:05:00Z") == "2 Nov 2025, 06:05 UTC"
    assert exact_time(None) == ""


def test_the_time_element_carries_both() -> None:
    assert str(time_tag("2026-03-12T14:55:00Z", NOW)) == (
        '<time datetime="2026-03-12T14:55:00Z" title="12 Mar 2026, 14:55 UTC" data-relative>'
        "5 min ago</time>"
    )
    assert str(time_tag("", NOW)) == "<time data-relative></time>"
