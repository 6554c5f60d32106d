"""The admin console in real headless Chromium: an admin adds a sync job and watches it run,
sees health turn red when the emulator throttles, a reader reports a comment and a moderator
hides it; every console page passes axe-core (no serious or critical violation) and does not
scroll sideways at 390 px (axe-core: tests/browser/axe).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.axe import serious_violations
from tests.browser.conftest import LiveSite, start_live_site
from tests.overlay_app.admin_staff import moderator_group

WIDTHS = (390, 1280)
SAID = "The retention clause contradicts section 2"
REASON = "Insults a colleague by name"


@pytest.fixture(scope="module")
def site(plaza_env: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    group_id, _ = moderator_group(plaza_env)
    saved = {name: os.environ.get(name) for name in plaza_env.connector_env}
    os.environ.update(plaza_env.connector_env)  # "run now" and the connector check use them
    live = start_live_site(plaza_env, tmp_path_factory.mktemp("admin-site"),
                           moderator_group_id=group_id)  # fmt: skip
    yield live
    live.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_an_admin_adds_a_job_and_watches_it_run(site, browser_as, plaza_env) -> None:
    page, watch = browser_as(site, plaza_env.people["admin"])
    page.goto(site.url + "/admin")
    page.get_by_role("link", name="Sync jobs").click()
    page.locator("#job-name").fill("browser-people")
    page.get_by_label("People and groups").check()
    page.locator("#every").fill("1h")
    page.get_by_role("button", name="Add job").click()
    expect(page.get_by_role("heading", name="Job browser-people")).to_be_visible()
    page.get_by_role("button", name="Run now").click()
    # admin.js polls the progress and reloads the page when the run ends
    expect(page.locator("tr.run")).to_have_count(1, timeout=60_000)
    assert page.locator("tr.run").get_attribute("class") == "run run-succeeded", page.locator(
        "tr.run"
    ).inner_text()
    expect(page.locator('#job-progress [data-field="state"]')).to_have_text("succeeded")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".admin-facts")).to_contain_text("every 1h (paused)")
    page.get_by_role("button", name="Resume").click()
    page.locator("#every").fill("2h")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".admin-facts")).to_contain_text("every 2h")
    expect(page.locator(".admin-facts")).not_to_contain_text("paused")
    assert watch.fired == []


def test_health_turns_red_when_microsoft_throttles(site, browser_as, plaza_env) -> None:
    page, watch = browser_as(site, plaza_env.people["admin"])
    page.goto(site.url + "/admin/health")
    rule = {"kind": "throttle", "path": "/users", "count": 1, "retry_after": "0.2"}
    plaza_env.control("POST", "/faults", {"rules": [rule]})
    page.goto(site.url + "/admin/jobs/browser-people")
    page.get_by_role("button", name="Run now").click()
    expect(page.locator("tr.run-succeeded")).to_have_count(2, timeout=60_000)
    page.goto(site.url + "/admin/health")
    expect(page.locator("#health-verdict")).to_have_class("card verdict unhealthy")
    expect(page.locator(".problems")).to_contain_text("Microsoft throttled Plaza 1 times")
    expect(page.locator("#health-throttling")).to_contain_text("1 waits")
    assert watch.fired == []


def test_a_moderator_hides_a_reported_comment(site, browser_as, plaza_env, document) -> None:
    path = f"{site.url}/documents/{document[0]}/{document[1]}"
    site.api(plaza_env.people["author"]).post(
        f"{site.url}/api/v1{path.removeprefix(site.url)}/comments", json={"body": SAID}
    ).raise_for_status()
    reader, _ = browser_as(site, plaza_env.people["reader"])
    reader.goto(path)
    comment = reader.locator("li.comment", has=reader.locator(".body", has_text=SAID))
    comment.locator("details.more > summary").click()  # Report is in the More menu
    comment.locator("details.report > summary").click()
    comment.get_by_label("Why should moderators look at it?").fill("Rude")
    comment.get_by_role("button", name="Report").click()
    expect(reader.locator(".flash")).to_contain_text("the moderators will look at it")
    _, moderator_upn = moderator_group(plaza_env)
    page, watch = browser_as(site, moderator_upn)
    page.goto(site.url + "/notifications")
    page.get_by_role("link", name="reported something for moderators to review").first.click()
    entry = page.locator("li.reported", has_text=SAID)
    expect(entry.locator(".where")).to_have_text("in a document you cannot open")
    expect(entry).to_contain_text(plaza_env.tenant.user(plaza_env.people["author"]).display_name)
    entry.get_by_label("Reason the author is told").fill(REASON)
    entry.get_by_role("button", name="Hide").click()
    expect(page.locator("li.reported", has_text=SAID)).to_have_count(0)
    reader.goto(path)
    expect(reader.locator(".comment .body", has_text=SAID)).to_have_count(0)
    author, _ = browser_as(site, plaza_env.people["author"])
    author.goto(site.url + "/moderation/notices")
    expect(author.locator(".notice")).to_contain_text(REASON)
    assert watch.fired == []


def test_switches_terms_data_requests_and_audit(site, browser_as, plaza_env, document) -> None:
    page, watch = browser_as(site, plaza_env.people["admin"])
    reader, _ = browser_as(site, plaza_env.people["reader"])
    path = f"{site.url}/documents/{document[0]}/{document[1]}"
    page.goto(site.url + "/admin/switches")
    page.get_by_label("Likes", exact=True).uncheck()
    page.get_by_role("button", name="Save").click()
    reader.goto(path)
    expect(reader.locator("form.like-form")).to_have_count(0)  # the document's and comments'
    expect(reader.locator(".like-count")).to_have_count(0)
    page.get_by_label("Likes", exact=True).check()
    page.get_by_role("button", name="Save").click()
    page.goto(site.url + "/admin/terms")
    page.locator("#terms-text").fill("Be kind to each other.")
    page.get_by_role("button", name="Publish a new version").click()
    reader.goto(path)
    reader.locator("#new-comment").fill("Writing before accepting")
    reader.get_by_role("button", name="Comment").click()
    # plaza.js sends the form to the API and shows its refusal beside the form
    expect(reader.locator(".form-error").first).to_contain_text("Accept the current terms of use")
    reader.goto(site.url + "/terms")
    reader.get_by_role("button", name="I accept these terms").click()
    expect(reader).to_have_url(site.url + "/")
    page.goto(site.url + "/admin/people")
    page.locator("#export-person").fill(plaza_env.people["reader"])
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the JSON archive").click()
    archive = json.loads(Path(download.value.path()).read_text())
    assert [t["version"] for t in archive["termsAccepted"]] == [1]
    page.goto(site.url + "/admin/audit?what=admin.")
    expect(page.locator("table.admin-table")).to_contain_text("admin.terms.publish")
    expect(page.locator("table.admin-table")).to_contain_text("admin.switches")
    assert watch.fired == []


ADMIN_PAGES = ("/admin", "/admin/jobs", "/admin/jobs/browser-people", "/admin/health",
               "/admin/connector", "/admin/moderation", "/admin/switches", "/admin/terms",
               "/admin/people", "/admin/audit", "/moderation/notices", "/terms")  # fmt: skip


def test_every_console_page_is_accessible_and_fits(site, browser_as, plaza_env):
    made = site.api(plaza_env.people["admin"]).post(
        site.url + "/api/v1/admin/jobs", json={"name": "browser-people", "people": True,
                                               "every": "1h"})  # fmt: skip
    assert made.status_code in (201, 409)  # 409: the first test made it
    page, watch = browser_as(site, plaza_env.people["admin"])
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in ADMIN_PAGES:
            page.goto(site.url + path)
            assert page.title() != "404 · Plaza", path
            problems += [f"{path} @{width}: {v}" for v in serious_violations(page)]
            wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            if wide:
                problems.append(f"{path} @{width}: scrolls sideways")
    assert problems == []
    assert watch.fired == []
