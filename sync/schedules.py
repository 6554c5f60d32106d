"""When a job runs: an interval ("15m", "1h30m", "1d") or a crontab expression in a time zone.

A `Schedule` is stored in the jobs table as JSON ({"every": "15m"} or {"cron": "0 * * * *",
"tz": "Europe/London"}) and turned into an APScheduler 3 trigger by the scheduler.

APScheduler 3 numbers weekdays from Monday = 0, while crontab numbers them from Sunday = 0
(its own docstring of `CronTrigger.from_crontab` warns of the mismatch); numeric weekdays are
therefore translated to names here, so "0 9 * * 1" means Monday at 09:00 as in crontab.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sync.errors import SyncError

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
INTERVAL = re.compile(r"(?:\d+[smhd])+")
CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
DEFAULT_TIME_ZONE = "UTC"


class BadSchedule(SyncError):
    """An interval, cron expression or time zone that cannot be used."""


@dataclass(frozen=True)
class Schedule:
    """Either `every` (an interval such as "15m") or `cron` (5 fields) with its time zone."""

    every: str | None = None
    cron: str | None = None
    tz: str = DEFAULT_TIME_ZONE

    @classmethod
    def interval(cls, text: str) -> Schedule:
        interval_seconds(text)
        return cls(every=text.strip().lower())

    @classmethod
    def crontab(cls, expression: str, tz: str | None = None) -> Schedule:
        schedule = cls(cron=" ".join(expression.split()), tz=tz or DEFAULT_TIME_ZONE)
        schedule.trigger()  # validates fields and time zone
        return schedule

    @property
    def seconds(self) -> int | None:
        return interval_seconds(self.every) if self.every else None

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger; BadSchedule if the expression or time zone is unusable."""
        if self.every:
            return IntervalTrigger(seconds=interval_seconds(self.every), timezone=self.zone())
        assert self.cron is not None
        try:
            return CronTrigger.from_crontab(crontab_for_apscheduler(self.cron), self.zone())
        except ValueError as exc:
            raise BadSchedule(f"cron expression '{self.cron}' is not valid: {exc}") from exc

    def next_run(self, last_started: datetime | None, now: datetime) -> datetime:
        """When the scheduler runs the job next: now if it never ran (intervals) or missed
        a run while no scheduler ran (all missed runs become one), else its next time."""
        if last_started is None:
            if self.every:
                return now
            return self.trigger().get_next_fire_time(None, now)
        if self.every:
            due = last_started + timedelta(seconds=interval_seconds(self.every))
        else:
            # the first fire time strictly after the start (a run may start on the second)
            due = self.trigger().get_next_fire_time(None, last_started + timedelta(seconds=1))
        return max(due, now)

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise BadSchedule(
                f"time zone '{self.tz}' is unknown (use an IANA name such as Europe/London)"
            ) from exc

    def describe(self) -> str:
        if self.every:
            return f"every {self.every}"
        return f"cron '{self.cron}' ({self.tz})"

    def to_json(self) -> str:
        if self.every:
            return json.dumps({"every": self.every})
        return json.dumps({"cron": self.cron, "tz": self.tz})

    @classmethod
    def from_json(cls, text: str) -> Schedule:
        fields = json.loads(text)
        if "every" in fields:
            return cls(every=fields["every"])
        return cls(cron=fields["cron"], tz=fields.get("tz") or DEFAULT_TIME_ZONE)


def interval_seconds(text: str) -> int:
    """Seconds in an interval like "15m", "1h30m", "1d" or "1s"; BadSchedule otherwise."""
    compact = text.strip().lower()
    if not INTERVAL.fullmatch(compact):
        raise BadSchedule(
            f"interval '{text}' is not valid: use a number and a unit s, m, h or d, "
            "such as 15m, 1h or 1d"
        )
    seconds = sum(
        int(number) * UNIT_SECONDS[unit] for number, unit in re.findall(r"(\d+)([smhd])", compact)
    )
    if seconds < 1:
        raise BadSchedule(f"interval '{text}' is not valid: it must be at least 1s")
    return seconds


def crontab_for_apscheduler(expression: str) -> str:
    """The same expression with crontab weekdays (0 or 7 = Sunday) spelled as names."""
    fields = expression.split()
    if len(fields) == 5 and fields[4] != "*":
        fields[4] = ",".join(CRON_WEEKDAYS[day] for day in sorted(_weekdays(fields[4])))
    return " ".join(fields)


def _weekdays(field: str) -> set[int]:
    """Crontab day-of-week field -> day numbers 0..6 (Sunday = 0), lists, ranges and steps."""
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _weekday(low, field)
            last = _weekday(high, field) if high else first
            if high and last < first:
                raise BadSchedule(f"cron day of week '{field}' is not valid: {span} runs backwards")
        step = _positive(step_text, field) if step_text else 1
        days.update(day % 7 for day in range(first, last + 1, step))
    return days


def _weekday(token: str, field: str) -> int:
    if token in CRON_WEEKDAYS:
        return CRON_WEEKDAYS.index(token)
    if token.isdigit() and int(token) <= 7:
        return int(token)
    raise BadSchedule(
        f"cron day of week '{field}' is not valid: use 0-7 (0 and 7 are Sunday) or sun-sat"
    )


def _positive(text: str, field: str) -> int:
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise BadSchedule(f"cron day of week '{field}' is not valid: bad step '{text}'")
