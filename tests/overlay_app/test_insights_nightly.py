"""The nightly network computation: one cached answer per distinct principal set, unit kind
and period, read back by requests of people holding that set; older answers dropped; the
command refuses bad settings with one clear line."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from overlay_app import db
from overlay_app.insights import nightly, store_totals
from overlay_app.insights import store as insights_store
from overlay_app.insights.activity import raw_activity, stamp
from plaza.cli import main


def test_the_nightly_run_caches_one_answer_per_set_of_visible_documents(app, api, people):
    first = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    run = nightly.compute_all(app, first)
    with app.app_context():
        counts = [len(nightly.distinct_visible_sets(raw_activity(first, d))) for d in (7, 28, 90)]
        rows = db.social().execute("SELECT count(*), min(computed_at) FROM insights_cache")
        count, computed = rows.fetchone()
    assert (run.visible_sets, run.answers, run.dropped) == (max(counts), 2 * sum(counts), 0)
    assert (count, computed) == (2 * sum(counts), stamp(first))
    with app.app_context():  # the KPIs' daily totals first, complete up to that day
        assert store_totals.state(db.social()) == ("2026-12-01", stamp(first))
    answer = api(people["outsider"]).get("/api/v1/insights/network?unit=office&days=28")
    assert answer.get_json()["computedAt"] == stamp(first)  # read from the cache

    with app.app_context(), db.transaction() as conn:  # a set that nobody holds any more
        insights_store.store(conn, "gone", "network", "office/28", stamp(first), 0.1, {})
    second = nightly.compute_all(app, datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    assert second.dropped == 1  # the others were replaced by this run's answers


def test_the_command_refuses_missing_settings_in_one_line(tmp_path, monkeypatch):
    for name in ("PLAZA_TENANT_ID", "PLAZA_CLIENT_ID", "PLAZA_CLIENT_SECRET", "PLAZA_AUTHORITY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLAZA_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["insights", "compute"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Plaza cannot start:")
    assert "PLAZA_TENANT_ID is required" in result.output
