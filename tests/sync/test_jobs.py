"""Jobs, schedules, locks and run records on a real SQLite index in tmp_path."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connector.cli import read_env_file
from sync import locks
from sync.db import open_index
from sync.engine import Connector, RunCounts
from sync.jobs import (
    InvalidJob,
    JobExists,
    JobNotFound,
    add_job,
    documents_job,
    get_job,
    list_jobs,
    people_job,
    remove_job,
    set_enabled,
    update_job,
)
from sync.runs import (
    FAILED,
    INTERRUPTED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    finish_run,
    get_run,
    history,
    latest_runs,
    run_job,
    start_run,
)
from sync.schedules import BadSchedule, Schedule, crontab_for_apscheduler, interval_seconds
from sync.targets import DocumentTarget
from tests.postgres import index_at

LONDON = ZoneInfo("Europe/London")
DAILY = Schedule.interval("1d")
HOURLY = Schedule.interval("1h")


@pytest.fixture
def db(tmp_path):
    index = open_index(index_at(tmp_path / "index.db"))
    yield index
    index.close()


# -- schedules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("1s", 1), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("1d", 86400)]
)
def test_intervals(text, seconds):
    assert interval_seconds(text) == seconds
    assert Schedule.interval(text).seconds == seconds


@pytest.mark.parametrize("text", ["15", "m", "1w", "-5m", "1.5h", ""])
def test_bad_intervals(text):
    with pytest.raises(BadSchedule) as caught:
        Schedule.interval(text)
    assert str(caught.value) == (
        f"interval '{text}' is not valid: use a number and a unit s, m, h or d, "
        "such as 15m, 1h or 1d"
    )


def test_zero_interval():
    with pytest.raises(BadSchedule) as caught:
        Schedule.interval("0m")
    assert str(caught.value) == "interval '0m' is not valid: it must be at least 1s"


@pytest.mark.parametrize(
    ("crontab", "apscheduler"),
    [
        ("0 * * * *", "0 * * * *"),
        ("0 9 * * 1", "0 9 * * mon"),
        ("0 9 * * 0", "0 9 * * sun"),
        ("0 9 * * 7", "0 9 * * sun"),
        ("0 9 * * 1-5", "0 9 * * mon,tue,wed,thu,fri"),
        ("0 9 * * 5-7", "0 9 * * sun,fri,sat"),
        ("0 9 * * */2", "0 9 * * sun,tue,thu,sat"),
        ("0 9 * * sat,sun", "0 9 * * sun,sat"),
    ],
)
def test_crontab_weekdays_count_from_sunday(crontab, apscheduler):
    assert crontab_for_apscheduler(crontab) == apscheduler


def test_cron_fires_in_its_time_zone_on_the_crontab_weekday():
    schedule = Schedule.crontab("0 9 * * 1", "Europe/London")
    sunday_noon = datetime(2024, 7, 7, 12, 0, tzinfo=UTC)
    fire = schedule.trigger().get_next_fire_time(None, sunday_noon)
    assert fire == datetime(2024, 7, 8, 9, 0, tzinfo=LONDON)  # Monday, 08:00 UTC in summer
    assert schedule.describe() == "cron '0 9 * * 1' (Europe/London)"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "0 * * *",
            "cron expression '0 * * *' is not valid: Wrong number of fields; got 4, expected 5",
        ),
        (
            "61 * * * *",
            "cron expression '61 * * * *' is not valid: Error validating expression "
            "'61': the last value (61) is higher than the maximum value (59)",
        ),
        ("0 9 * * 8", "cron day of week '8' is not valid: use 0-7 (0 and 7 are Sunday) or sun-sat"),
    ],
)
def test_bad_cron(expression, message):
    with pytest.raises(BadSchedule) as caught:
        Schedule.crontab(expression)
    assert str(caught.value) == message


def test_bad_time_zone():
    with pytest.raises(BadSchedule) as caught:
        Schedule.crontab("0 * * * *", "Europe/Lndon")
    assert str(caught.value) == (
        "time zone 'Europe/Lndon' is unknown (use an IANA name such as Europe/London)"
    )


def test_schedule_json_round_trip():
    for schedule in (Schedule.interval("15m"), Schedule.crontab("0  9 * * 1", "Europe/London")):
        assert Schedule.from_json(schedule.to_json()) == schedule
    assert Schedule.crontab("0  9 * * 1").cron == "0 9 * * 1"
    assert Schedule.crontab("0 9 * * 1").tz == "UTC"


def test_next_run():
    now = datetime(2024, 7, 7, 12, 0, tzinfo=UTC)
    every = Schedule.interval("1h")
    assert every.next_run(None, now) == now  # never ran: right away
    assert every.next_run(now - timedelta(minutes=20), now) == now + timedelta(minutes=40)
    assert every.next_run(now - timedelta(hours=5), now) == now  # missed runs become one, now
    daily = Schedule.crontab("0 2 * * *")
    assert daily.next_run(None, now) == datetime(2024, 7, 8, 2, 0, tzinfo=UTC)
    ran = datetime(2024, 7, 7, 2, 0, tzinfo=UTC)  # started on the second it was due
    assert daily.next_run(ran, now) == datetime(2024, 7, 8, 2, 0, tzinfo=UTC)
    assert daily.next_run(ran - timedelta(days=2), now) == now


# -- jobs ------------------------------------------------------------------------------------


def test_add_get_list_update_remove(db):
    target = DocumentTarget(
        site_urls=("https://contoso.sharepoint.com/sites/tax",),
        include=("/Clients/*",),
        file_types=("pdf", "docx"),
    )
    docs = add_job(db, documents_job("tax-docs", target, Schedule.interval("15m")))
    people = add_job(db, people_job("people", Schedule.crontab("0 * * * *", "Europe/London")))
    assert get_job(db, "tax-docs") == docs
    assert docs.target == target
    assert docs.created_at == docs.updated_at != ""
    assert [job.name for job in list_jobs(db)] == ["people", "tax-docs"]
    assert docs.describe_target() == (
        "sites https://contoso.sharepoint.com/sites/tax; include /Clients/*; file types pdf, docx"
    )
    assert people.describe_target() == "people and groups"

    paused = set_enabled(db, "people", False)
    assert paused.enabled is False
    assert paused.updated_at > people.updated_at
    assert [job.name for job in list_jobs(db, enabled_only=True)] == ["tax-docs"]

    moved = update_job(db, documents_job("tax-docs", DocumentTarget(all_sites=True), docs.schedule))
    assert get_job(db, "tax-docs").target == DocumentTarget(all_sites=True)
    assert get_job(db, "tax-docs").created_at == docs.created_at
    assert moved.updated_at > docs.updated_at

    remove_job(db, "tax-docs")
    with pytest.raises(JobNotFound) as caught:
        get_job(db, "tax-docs")
    assert str(caught.value) == "no job named 'tax-docs' (see `plaza sync list`)"


def test_duplicate_name(db):
    add_job(db, people_job("people", Schedule.interval("1h")))
    with pytest.raises(JobExists) as caught:
        add_job(db, documents_job("people", DocumentTarget(all_sites=True), DAILY))
    assert str(caught.value) == "a job named 'people' already exists"
    assert get_job(db, "people").kind == "people"


def test_unknown_job(db):
    for action in (
        lambda: remove_job(db, "nope"),
        lambda: set_enabled(db, "nope", True),
        lambda: get_job(db, "nope"),
    ):
        with pytest.raises(JobNotFound):
            action()


@pytest.mark.parametrize("name", ["Tenant", "tenant docs", "tenant_docs", "", "é"])
def test_bad_names(name):
    with pytest.raises(InvalidJob) as caught:
        people_job(name, Schedule.interval("1h"))
    assert str(caught.value) == (
        f"job name '{name}' is not valid: use lower-case letters, digits and '-' only"
    )


@pytest.mark.parametrize(
    "target",
    [
        DocumentTarget(),
        DocumentTarget(all_sites=True, site_urls=("https://x/sites/a",)),
        DocumentTarget(site_search="tax", all_sites=True),
    ],
)
def test_sites_chosen_exactly_once(target):
    with pytest.raises(InvalidJob) as caught:
        documents_job("docs", target, Schedule.interval("1h"))
    assert str(caught.value) == (
        "choose the sites with exactly one of --all-sites, --site URL, --site-search QUERY"
        " (or --library alone for those libraries on every site)"
    )


def test_site_url_must_be_absolute():
    with pytest.raises(InvalidJob) as caught:
        documents_job("docs", DocumentTarget(site_urls=("sites/tax",)), Schedule.interval("1h"))
    assert str(caught.value) == "site URL 'sites/tax' is not valid: give the full https:// URL"


# -- locks -----------------------------------------------------------------------------------


def test_lock_is_exclusive_until_released_or_expired(db):
    assert locks.acquire(db, "job:a", "one") is None
    assert locks.acquire(db, "job:a", "two") == "one"
    assert locks.acquire(db, "job:b", "two") is None  # another job's lock is independent
    locks.release(db, "job:a", "two")  # not the owner: no effect
    assert locks.acquire(db, "job:a", "two") == "one"
    locks.release(db, "job:a", "one")
    assert locks.acquire(db, "job:a", "two") is None
    assert locks.acquire(db, "job:c", "dead", ttl=0.05) is None
    time.sleep(0.1)
    assert locks.acquire(db, "job:c", "alive") is None  # the dead owner's lease ran out
    assert locks.refresh(db, "job:c", "dead") is False
    assert locks.refresh(db, "job:c", "alive") is True


def test_heartbeat_keeps_a_long_run_locked(tmp_path, db):
    path = index_at(tmp_path / "index.db")
    assert locks.acquire(db, "job:a", "runner", ttl=0.3) is None
    with locks.Heartbeat(path, "job:a", "runner", ttl=0.3):
        time.sleep(0.8)
        assert locks.acquire(db, "job:a", "intruder") == "runner"
    time.sleep(0.4)  # no more heartbeats: the lease runs out
    assert locks.acquire(db, "job:a", "intruder") is None


def test_owner_ids_differ():
    assert locks.new_owner() != locks.new_owner()


# -- runs ------------------------------------------------------------------------------------


@pytest.fixture
def connector(emulator, tmp_path):
    env_file = tmp_path / "emulator.env"
    emulator.write_env(env_file)
    return Connector.from_env(read_env_file(env_file))


def test_history_newest_first_and_latest_runs(db):
    first = start_run(db, "people", full=False)
    finish_run(db, first, SUCCEEDED, RunCounts(added=3, throttled_waits=1, throttled_seconds=2.5))
    second = start_run(db, "docs", full=True)
    finish_run(db, second, FAILED, None, "it broke (request-id r-1)", "r-1")
    third = start_run(db, "people", full=False)
    assert [run.id for run in history(db)] == [third, second, first]
    assert [run.id for run in history(db, "people")] == [third, first]
    assert [run.id for run in history(db, limit=1)] == [third]
    done = get_run(db, first)
    assert (
        done.outcome,
        done.counts.added,
        done.counts.throttled_waits,
        done.counts.throttled_seconds,
    ) == (
        SUCCEEDED,
        3,
        1,
        2.5,
    )
    assert done.ended_at >= done.started_at
    failed = get_run(db, second)
    assert (failed.full, failed.request_id) == (True, "r-1")
    assert failed.error == "it broke (request-id r-1)"
    assert get_run(db, third).outcome == RUNNING
    latest = latest_runs(db)
    assert (latest["people"].id, latest["docs"].id) == (third, second)


def test_run_job_runs_the_engine_under_the_lock(tmp_path, db, connector):
    path = index_at(tmp_path / "index.db")
    add_job(db, people_job("people", HOURLY))
    run = run_job(path, "people", connector=connector)
    assert (run.outcome, run.error, run.full) == (SUCCEEDED, None, False)
    people = db.conn.execute("SELECT COUNT(*) FROM people").fetchone()[0]
    groups = db.conn.execute("SELECT COUNT(*) FROM groups").fetchone()[0]
    assert people > 0
    assert run.counts.added == people + groups
    assert history(db) == [run]
    assert db.conn.execute("SELECT COUNT(*) FROM locks").fetchone()[0] == 0
    again = run_job(path, "people", full=True, connector=connector)
    assert (again.outcome, again.full, again.counts.added) == (SUCCEEDED, True, 0)


def test_a_job_running_elsewhere_is_skipped(tmp_path, db, connector):
    path = index_at(tmp_path / "index.db")
    add_job(db, people_job("people", HOURLY))
    assert locks.acquire(db, "job:people", "other-host:42:cafe") is None
    run = run_job(path, "people", connector=connector)
    assert run.outcome == SKIPPED
    assert run.error == "job 'people' is already running (lock held by other-host:42:cafe)"
    assert run.ended_at == run.started_at
    assert db.conn.execute("SELECT COUNT(*) FROM people").fetchone()[0] == 0
    assert locks.acquire(db, "job:people", "someone") == "other-host:42:cafe"


def test_runs_left_running_by_a_dead_process_become_failed(tmp_path, db, connector):
    path = index_at(tmp_path / "index.db")
    add_job(db, people_job("people", HOURLY))
    orphan = start_run(db, "people", full=False)  # as left by a kill -9
    run = run_job(path, "people", connector=connector)
    assert run.outcome == SUCCEEDED
    dead = get_run(db, orphan)
    assert (dead.outcome, dead.error) == (FAILED, INTERRUPTED)
    assert dead.ended_at is not None


def test_a_failed_run_records_the_engines_words(fresh_emulator, tmp_path):
    env_file = tmp_path / "emulator.env"
    fresh_emulator.write_env(env_file)
    client_id = fresh_emulator.info["client_id"]
    revoked = fresh_emulator.session().put(
        f"{fresh_emulator.base_url}/_emulator/apps/{client_id}/roles", json={"roles": []}
    )
    assert revoked.status_code == 200
    path = index_at(tmp_path / "index.db")
    db = open_index(path)
    add_job(db, documents_job("docs", DocumentTarget(all_sites=True), HOURLY))
    connector = Connector.from_env(read_env_file(env_file))
    run = run_job(path, "docs", connector=connector)
    assert run.outcome == FAILED
    assert run.request_id
    assert run.error == (
        "the app is not allowed to read this: Microsoft Graph answered 403 because the "
        "application permission Sites.Read.All is not granted; an admin must add it in Entra ID "
        "(App registrations -> API permissions -> Add a permission -> Microsoft Graph -> "
        f"Application permissions) and grant admin consent (request-id {run.request_id})"
    )
    assert db.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0
    db.close()


def test_unknown_job_is_raised_not_recorded(tmp_path, db):
    with pytest.raises(JobNotFound):
        run_job(index_at(tmp_path / "index.db"), "nope")
    assert history(db) == []
