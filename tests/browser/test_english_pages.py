"""Plaza's main pages in English in headless Chromium, as test_languages.py checks them in
Dutch: axe-core (no serious or critical violation) and no sideways scroll, at a small phone's
320 px, at 390 px and at 1280 px; and the Dutch pages at 320 px too (issue 19: every page in
both languages, usable at 320-390 px)."""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import load_test_module  # type: ignore[import-not-found]

languages = load_test_module(
    "tests.browser.test_languages", Path(__file__).parent / "test_languages.py"
)
serious_violations, sideways = languages.serious_violations, languages.sideways
OVERFLOWING = languages.OVERFLOWING
WIDTHS = (320, 390, 1280)


def test_english_pages_pass_axe_and_fit_a_small_phone(
    live_site, browser_as, people, document, cast
):
    page, watch = browser_as(live_site, people["reader"])
    site = live_site.url
    author = live_site.api(people["author"])
    tagged = author.post(
        f"{site}/api/v1/documents/{document[0]}/{document[1]}/tags", json={"tag": "english-words"}
    )
    assert tagged.status_code in (200, 201)
    page.goto(site + "/sites")
    site_page = page.locator(".site h2 a").first.get_attribute("href")
    library_page = page.locator(".site .libraries a").first.get_attribute("href")
    room = author.post(f"{site}/api/v1/rooms", json={"kind": "channel", "name": "english-room"})
    assert room.status_code == 201
    room_page = f"/chat/{room.json()['id']}"
    pages = (
        "/", "/feed", "/following", "/settings/notifications", "/notifications", "/people",
        f"/people/{cast['oid']['author']}", "/sites", site_page, library_page,
        "/tags/english-words", "/search?q=a", cast["path"], "/chat", room_page, "/privacy",
        "/documents/missing/missing",
    )  # fmt: skip
    problems = []
    for path in pages:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(site + path)
            assert page.locator("html").get_attribute("lang") == "en", path
            problems += [f"{path} @{width}: {v}" for v in serious_violations(page)]
            if sideways(page) > 0:
                problems.append(f"{path} @{width}: sideways {page.evaluate(OVERFLOWING)}")
    assert problems == [], problems
    assert watch.fired == []


def test_dutch_pages_fit_a_small_phone(live_site, browser_as, people, document, cast):
    """test_languages.py checks Dutch at 390 and 1280 px; its longer words at 320 px here."""
    page, watch = browser_as(live_site, people["reader"])
    site = live_site.url
    page.goto(site + "/settings/notifications")
    page.get_by_label("Nederlands").check()
    page.get_by_role("button", name="Change language").click()
    assert page.locator("html").get_attribute("lang") == "nl"
    problems = []
    page.set_viewport_size({"width": 320, "height": 800})
    for path in (
        "/", "/feed", "/following", "/settings/notifications", "/notifications", "/people",
        f"/people/{cast['oid']['author']}", "/sites", "/search?q=a", cast["path"], "/chat",
        "/privacy", "/documents/missing/missing",
    ):  # fmt: skip
        page.goto(site + path)
        assert page.locator("html").get_attribute("lang") == "nl", path
        problems += [f"{path}: {v}" for v in serious_violations(page)]
        if sideways(page) > 0:
            problems.append(f"{path}: sideways {page.evaluate(OVERFLOWING)}")
    assert problems == [], problems
    assert watch.fired == []
