"""Resource units per call (SharePoint's table) and pacing under a share of the budget."""

from __future__ import annotations

import pytest

from connector.budget import ResourceMeter, estimate

G = "https://graph.example/v1.0"


@pytest.mark.parametrize(
    ("method", "url", "units"),
    [
        ("GET", f"{G}/drives/b!x/items/01A", 1),
        ("GET", f"{G}/drives/b!x/root/delta?token=abc", 1),
        ("GET", f"{G}/drives/b!x/root/delta?$select=id", 2),
        ("GET", f"{G}/drives/b!x/items/01A/children", 2),
        ("GET", f"{G}/drives/b!x/items/01A/permissions", 5),
        ("GET", f"{G}/drives/b!x/items/01A?$expand=permissions", 5),
        ("PATCH", f"{G}/drives/b!x/items/01A", 2),
        ("POST", f"{G}/$batch", 0),
        ("GET", f"{G}/users/delta", 0),
        ("GET", f"{G}/groups/g1/drive/root/delta?token=t", 1),
        ("POST", "https://tenant.sharepoint.com/sites/a/_api/contextinfo", 2),
    ],
)
def test_estimates_follow_sharepoints_table(method, url, units):
    assert estimate(method, url) == units


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


class Answer:
    def __init__(self, status: int = 200, **headers: str) -> None:
        self.status_code = status
        self.headers = {k.replace("_", "-"): v for k, v in headers.items()}


def test_pacing_waits_for_the_oldest_units_to_age_out():
    clock = Clock()
    meter = ResourceMeter(per_minute=10, share=0.8, sleep=clock.sleep, clock=clock)
    for _ in range(8):  # 8 units = the share
        meter.after(meter.before("GET", f"{G}/drives/d/items/i"), Answer())
        clock.now += 1
    meter.before("GET", f"{G}/drives/d/items/i")
    assert clock.slept == [52.0]  # the first unit (t=1000) ages out at 1060; now was 1008
    figures = meter.figures()
    assert (figures.used_last_minute, figures.requests, figures.paced_seconds) == (8, 9, 52.0)


def test_the_answers_own_cost_and_ratelimit_headers_win():
    clock = Clock()
    meter = ResourceMeter(per_minute=1200, share=0.8, sleep=clock.sleep, clock=clock)
    ticket = meter.before("GET", f"{G}/drives/d/items/i")
    meter.after(ticket, Answer(x_ms_resource_unit="5"))
    ticket = meter.before("GET", f"{G}/drives/d/items/i")
    limited = Answer(RateLimit_Limit="1200", RateLimit_Remaining="100", RateLimit_Reset="7")
    meter.after(ticket, limited)
    meter.before("GET", f"{G}/drives/d/items/i")
    assert clock.slept == [7.0]
    figures = meter.figures()
    assert (figures.used_last_minute, figures.server_remaining) == (7, 100)


def test_a_budget_of_zero_counts_without_pacing():
    clock = Clock()
    meter = ResourceMeter(per_minute=0, sleep=clock.sleep, clock=clock)
    for _ in range(50):
        meter.after(meter.before("GET", f"{G}/drives/d/items/i/permissions"), Answer())
    assert (clock.slept, meter.figures().used_last_minute) == ([], 250)
