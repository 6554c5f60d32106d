"""Pacing under SharePoint's resource-unit budget: a full sync stays under it with no 429.

The budget is a minute at Microsoft; here both the emulator and the connector count it over a
six-second window, so that a whole tenant needs it to pace within seconds: the small tenant
(140 units) under 100 a window, the medium one (20,000 documents, 2,852 units) under 540 a
window, i.e. 90 units a second where an unpaced sync of it spends about 200 a second on an idle
machine (about 15 s); paced at 80% it takes about 40 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.budget import ResourceMeter
from connector.emulator import server
from sync.db import open_index
from sync.engine import Connector, sync_documents
from sync.targets import DocumentTarget
from tests.postgres import index_at

WINDOW, UNITS = 6.0, 100
MEDIUM_UNITS = 540  # a window's budget for the medium tenant: 5 windows' worth in all


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
    db = open_index(index_at(tmp_path / "index.db"))
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


@pytest.fixture
def medium_emulator(emulator_state: Path) -> Iterator[server.EmulatorHandle]:
    handle = server.start(seed=7, size="medium", state_dir=emulator_state)
    yield handle
    handle.stop()


@pytest.mark.same_on_every_backend(
    reason="pacing counts the connector's requests; the index's engine only changes how long "
    "the sync waits between them (the small tenant's pacing tests run on both)"
)
def test_pacing_keeps_a_medium_tenant_sync_under_the_budget(medium_emulator, tmp_path: Path):
    set_budget(medium_emulator, MEDIUM_UNITS)
    meter = ResourceMeter(MEDIUM_UNITS, 0.8, window=WINDOW)
    counts = full_sync(medium_emulator, tmp_path, meter)
    usage = emulator_usage(medium_emulator)
    figures = meter.figures()
    assert (counts.added, usage["throttled"], figures.throttled) == (20_000, 0, 0)
    # The emulator's own accounting: the sync needed five windows' budget, and no window
    # (sliding, at every charge) ever held more than the budget.
    assert usage["total_units"] == 2_852
    assert usage["peak_window_units"] <= MEDIUM_UNITS
    assert figures.paced_seconds > 0
