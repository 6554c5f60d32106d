"""A subscription that expired at Graph without notice (Graph sends none for expiry): when the
scheduler comes to renew it, Graph answers 404 and a new subscription is made, through which
changes reach the index again (issue 18: renewal before expiry, expiry as documented). A
scheduler that starts while Graph no longer holds a stored subscription (the demo's emulator
started again) makes it anew at once, without waiting for its renewal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync import subscriptions as store
from sync.db import open_index, transaction
from sync.freshness import Freshness
from tests.overlay_app.test_freshness import name_in_index, scheduler, site, tick_until

__all__ = ["scheduler", "site"]  # the fixtures, used by name


def stored_id(site, drive_id: str) -> str:
    db = open_index(site.index_path)
    try:
        return store.stored_subscriptions(db.conn)[drive_id].subscription_id
    finally:
        db.close()


def assert_subscribed_anew(env, site, scheduler, document, old: str, new_name: str) -> None:
    """The library has a new subscription (the only one Graph holds for it), and a rename
    made now reaches the index through it."""
    new = stored_id(site, document[0])
    assert new != old
    at_graph = env.control("GET", "/subscriptions")["subscriptions"]
    assert [s["id"] for s in at_graph if s["driveId"] == document[0]] == [new]
    env.control("PATCH", "/items/{}/{}".format(*document), {"name": new_name})
    assert tick_until(scheduler, lambda: name_in_index(site, document) == new_name)


def test_a_subscription_expired_at_graph_is_made_anew_when_renewed(
    fresh_plaza_env, site, scheduler, document
):
    scheduler.freshness_tick()
    old = stored_id(site, document[0])
    fresh_plaza_env.control("POST", f"/subscriptions/{old}/expire")
    listed = fresh_plaza_env.control("GET", "/subscriptions")["subscriptions"]
    assert old not in {s["id"] for s in listed}
    db = open_index(site.index_path)
    try:
        with transaction(db) as conn:  # its renewal is due: under 3 days left by Plaza's count
            conn.execute(
                "UPDATE subscriptions SET expires_at = ? WHERE drive_id = ?",
                ((datetime.now(UTC) + timedelta(days=1)).isoformat(), document[0]),
            )
        freshness = scheduler._freshness
        assert freshness is not None
        freshness.ensure(db)
    finally:
        db.close()
    assert_subscribed_anew(fresh_plaza_env, site, scheduler, document, old, "Renewed.docx")


def test_a_new_scheduler_remakes_subscriptions_graph_no_longer_holds(
    fresh_plaza_env, site, scheduler, document
):
    scheduler.freshness_tick()
    old = stored_id(site, document[0])
    fresh_plaza_env.control("POST", f"/subscriptions/{old}/expire")
    before = scheduler._freshness
    assert before is not None
    # The scheduler process starts again: its first tick asks Graph which subscriptions it holds.
    scheduler._freshness = Freshness(site.index_path, before.connector, before.webhook_url)
    scheduler.freshness_tick()
    assert_subscribed_anew(fresh_plaza_env, site, scheduler, document, old, "Restarted.docx")
