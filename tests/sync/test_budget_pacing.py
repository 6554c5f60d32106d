"""Pacing under SharePoint's resource-unit budget: a full sync stays under it with no 429.

The budget is a minute at Microsoft; here both the emulator and the connector count it over a
six-second window (100 units), so that a whole small tenant (140 units) needs it to pace.
"""

from __future__ import annotations

from pathlib import Path

from connector.budget import ResourceMeter
from connector.emulator import server
from sync.db import open_index
from sync.engine import Connector, sync_documents
from sync.targets import DocumentTarget

WINDOW, UNITS = 6.0, 100


def set_budget(handle, per_window: int) -> None:
    with handle.session() as session:
        answer = session.put(
            f"{handle.base_url}/_emulator/budget",
            json={"perMinute": per_window, "windowSeconds": WINDOW, "reset": True},
            timeout=30,
        )
    assert answer.status_code == 200, answer.text


def emulator_usage(handle) -> dict:
    with handle.session() as session:
        apps = session.get(f"{handle.base_url}/_emulator/budget", timeout=30).json()["apps"]
    (usage,) = apps.values()
    return usage


def full_sync(handle, tmp_path: Path, meter: ResourceMeter):
    connector = Connector.from_env({n: str(handle.info[k]) for n, k in server.ENV_KEYS.items()})
    connector.http.transport.meter = meter
    db = open_index(tmp_path / "index.db")
    try:
        return sync_documents(db, connector, DocumentTarget(all_sites=True))
    finally:
        db.close()


def test_pacing_keeps_a_full_sync_under_the_budget(fresh_emulator, tmp_path: Path):
    set_budget(fresh_emulator, UNITS)
    meter = ResourceMeter(UNITS, 0.8, window=WINDOW)
    counts = full_sync(fresh_emulator, tmp_path, meter)
    usage = emulator_usage(fresh_emulator)
    figures = meter.figures()
    assert (counts.added, usage["throttled"], figures.throttled) == (400, 0, 0)
    assert usage["total_units"] == 140 and figures.paced_seconds > 0


def test_without_pacing_the_same_sync_is_throttled(fresh_emulator, tmp_path: Path):
    set_budget(fresh_emulator, UNITS)
    meter = ResourceMeter(10_000, 1.0, window=WINDOW)  # paces nothing
    counts = full_sync(fresh_emulator, tmp_path, meter)
    usage = emulator_usage(fresh_emulator)
    assert counts.added == 400
    assert usage["throttled"] >= 1 and meter.figures().throttled == usage["throttled"]
