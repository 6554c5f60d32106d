"""Plaza in Dutch in headless Chromium: the settings switch turns every page Dutch (the
browser's own language is English here), scripts word what they add in Dutch too, and the
main pages pass axe-core (no serious or critical violation) with no sideways scroll at 390 px
and 1280 px."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import load_test_module  # type: ignore[import-not-found]

attention = load_test_module(
    "tests.browser.test_attention", Path(__file__).parent / "test_attention.py"
)
serious_violations, sideways = attention.serious_violations, attention.sideways
# The elements reaching past the viewport's right edge (what to fix when a page scrolls sideways).
OVERFLOWING = """() => Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .map(e => e.tagName.toLowerCase() + "." + e.className + " "
              + (e.textContent || "").trim().slice(0, 40))"""


def test_dutch_pages_pass_axe_and_fit_a_phone(live_site, browser_as, people, document, cast):
    page, watch = browser_as(live_site, people["reader"])
    site = live_site.url
    page.goto(site + "/settings/notifications")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_label("Nederlands").check()
    page.get_by_role("button", name="Change language").click()
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", level=1).inner_text() == "Instellingen voor meldingen"
    assert page.get_by_label("Nederlands").is_checked()
    # A script's words: the like button and count, changed in place by plaza.js.
    page.goto(site + cast["path"])
    page.get_by_role("button", name="Vind ik leuk").click()
    expect(page.get_by_role("button", name="Niet meer leuk")).to_be_visible()
    expect(page.locator(".like-count")).to_have_text("1 like")
    assert page.locator("nav a[href='/feed']").inner_text() == "Voor jou"
    pages = (
        "/", "/feed", "/following", "/settings/notifications", "/notifications", "/people",
        f"/people/{cast['oid']['author']}", "/sites", "/search?q=a", cast["path"], "/chat",
        "/privacy", "/documents/missing/missing",
    )  # fmt: skip
    for path in pages:
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(site + path)
            assert page.locator("html").get_attribute("lang") == "nl", path
            assert serious_violations(page) == [], (path, width)
            assert sideways(page) <= 0, (path, width, page.evaluate(OVERFLOWING))
    assert watch.fired == []
