"""Insights pages in headless Chromium: the KPI page with its chart, the network page with the
admin's person-level views, the experts page; at 390 px and 1280 px, with axe-core (no
serious or critical violation; tests/browser/axe) and no sideways scrolling on a phone.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.axe import serious_violations
from tests.browser.conftest import TIMEOUT_MS, overlay, sign_in_page, start_live_site
from tests.overlay_app.insights_script import as_of, find_stage, run_script

WIDTHS = (390, 1280)


@pytest.fixture(scope="module")
def site(plaza_env: Any, tmp_path_factory: pytest.TempPathFactory):
    site = start_live_site(plaza_env, tmp_path_factory.mktemp("insights-site"))
    stage = find_stage(plaza_env)
    token = lambda upn: plaza_env.handle.token("api", user=upn)  # noqa: E731
    api = lambda upn: overlay.Api(site.app.test_client(), token(upn))  # noqa: E731
    written = run_script(site.app, api, stage)
    a = stage["a"]
    for person in stage["p"][3:5]:  # six people in the graph: the network is shown
        reply = {"body": "Agreed", "parent_id": written["t1"]["id"]}
        assert (
            api(person).post(f"/api/v1/documents/{a[0]}/{a[1]}/comments", json=reply).status_code
            == 201
        )
    tagged = api(stage["p"][0]).post(
        f"/api/v1/documents/{a[0]}/{a[1]}/tags", json={"tag": "insights-topic"}
    )
    assert tagged.status_code == 201
    site.stage = stage
    yield site
    site.stop()


def check(page: Page, url: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        assert page.locator("svg.chart[role=img] title").count() >= 1, url
        assert serious_violations(page) == [], (url, width)
        if width == 390:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (url, overflow)


def test_insights_pages_are_accessible_at_phone_and_desktop_widths(
    site, chromium: Browser, people: dict[str, str]
):
    # axe is injected as a script: the page's CSP (nonces) would refuse it
    context = chromium.new_context(ignore_https_errors=True, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in_page(page, site, people["admin"])
        library = site.stage["a"][0]
        check(page, f"{site.url}/insights?scope=library:{library}&days=7&asOf={as_of()}")
        check(page, f"{site.url}/insights/network?unit=department&days=90&people=1")
        page.goto(f"{site.url}/insights/experts?tag=insights-topic")
        assert page.locator("ol.experts li").count() >= 3
        assert serious_violations(page) == []
    finally:
        context.close()
