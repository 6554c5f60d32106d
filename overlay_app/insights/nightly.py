"""The nightly computation of the network analysis, and `plaza insights compute | nightly`.

Why a job: the KPIs are summed per request from daily totals this job keeps up to date
(totals.py: only the days whose activity changed), and the network measures (betweenness,
Burt's constraint) grow faster than the activity, so they are
computed at night for every distinct set of visible documents among the active people (people
whose principal sets open exactly the same documents with activity share one answer; nobody
reads an answer computed over documents they cannot open), and cached in `insights_cache`
(store.py). The activity is read once per run and trimmed per person. A request whose set has
no answer yet computes it once and caches it. Answers left from an earlier run are dropped at
the end, so a set nobody holds any more goes. Figures: bench/README.md.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import click
from flask import Flask

from overlay_app import db
from overlay_app.insights import kpis, reads, totals
from overlay_app.insights import store as insights_store
from overlay_app.insights.activity import Raw, discussed_keys, raw_activity, stamp
from overlay_app.settings import SettingsError
from sync import directory
from sync.trimming import principal_set
from sync.visibility import visible_among

UNIT_KINDS = ("department", "office")


@dataclass(frozen=True)
class Run:
    people: int
    visible_sets: int  # distinct sets of visible documents, in the longest period
    answers: int
    seconds: float
    dropped: int


def distinct_visible_sets(raw: Raw) -> dict[str, tuple[frozenset[str], set]]:
    """hash -> (a principal set, the documents commented on that it opens), each distinct
    set of documents once, over every active member."""
    index = db.index()
    members = directory.active_ids(index, directory.units(index))
    commented = discussed_keys(raw)  # as discussed_visible
    found: dict[str, tuple[frozenset[str], set]] = {}
    for person_id in sorted(members):
        principals = principal_set(index, person_id)
        visible = visible_among(index, principals, commented) if principals else set()
        found.setdefault(insights_store.visibility_hash(visible), (principals, visible))
    return found


def compute_all(app: Flask, now: datetime | None = None) -> Run:
    """Computes and caches the network analysis of every distinct set of visible documents,
    for each unit kind and period; drops answers from earlier runs."""
    started, now = time.perf_counter(), now or datetime.now(UTC)
    with app.app_context():
        totals.update(now)  # the KPIs' daily totals first: seconds, only the days that changed
        answers, sets = 0, 0
        for days in kpis.PERIODS:
            raw = raw_activity(now, days)
            distinct = distinct_visible_sets(raw)
            sets = max(sets, len(distinct))
            for principals, visible in distinct.values():
                answers += len(reads.compute_networks(raw, principals, visible, days))
        with db.transaction() as conn:
            dropped = insights_store.forget_older_than(conn, stamp(now))
        people = len(directory.active_ids(db.index(), directory.units(db.index())))
    return Run(people, sets, answers, time.perf_counter() - started, dropped)


# -- the commands ----------------------------------------------------------------------------


@click.group("insights")
def insights_group() -> None:
    """Insights for community managers: the nightly network analysis."""


def _app() -> Flask:
    from overlay_app import create_app

    try:
        return create_app()
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


@insights_group.command("compute")
def compute_command() -> None:
    """Compute the network analysis for every distinct principal set now (settings from PLAZA_*)."""
    run = compute_all(_app())
    click.echo(
        f"{run.answers} answers for {run.visible_sets} distinct sets of visible documents"
        f" of {run.people} people"
        f" in {run.seconds:.1f} s; {run.dropped} old answers dropped"
    )


@insights_group.command("totals")
def totals_command() -> None:
    """Bring the KPIs' daily totals up to date now (the days changed since the last run)."""
    app = _app()
    with app.app_context():
        done = totals.update(datetime.now(UTC))
    click.echo(
        f"{done.days} days recomputed ({done.rows} rows) in {done.seconds:.1f} s;"
        f" complete until {done.complete_until}"
    )


@insights_group.command("nightly")
@click.option("--at", "at_time", default="02:00", show_default=True, help="UTC time, HH:MM.")
def nightly_command(at_time: str) -> None:
    """Run `compute` every night at --at (UTC), in this process, until stopped."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    hour, _, minute = at_time.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise click.BadParameter("--at must be HH:MM (UTC)", param_hint="--at")
    app = _app()
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        lambda: click.echo(f"insights: {compute_all(app)}"),
        "cron",
        hour=int(hour),
        minute=int(minute),
        id="insights-nightly",
        max_instances=1,
        coalesce=True,
    )
    click.echo(f"insights: computing every night at {at_time} UTC (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
