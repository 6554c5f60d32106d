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
    # Times a script words (live chat messages, the minute's refresh) read as the server's do.
    words = page.evaluate("""() => {
        const time = document.createElement("time");
        const fiveMinutesAgo = new Date(Date.now() - 5 * 60000 - 5000).toISOString();
        window.plaza.showTime(time, fiveMinutesAgo);
        const phrase = time.textContent;
        window.plaza.showTime(time, "2025-11-22T16:58:00Z");
        return [phrase, time.textContent, time.title];
    }""")
    assert words == ["5 minuten geleden", "22 nov 2025", "22 nov 2025, 16:58 UTC"]
    page.get_by_label("Een tag toevoegen").fill("dutch-words")
    page.get_by_role("button", name="Tag toevoegen").click()
    expect(page.locator("#tags-title")).to_have_text("Tags · 1")
    # The pages reached from others: a site, its library, the tag, the document's chat room.
    page.goto(site + "/sites")
    site_page = page.locator(".site h2 a").first.get_attribute("href")
    library_page = page.locator(".site .libraries a").first.get_attribute("href")
    page.goto(site + "/chat")
    room_page = page.locator(".chat-rooms a").first.get_attribute("href")
    pages = (
        "/", "/feed", "/following", "/settings/notifications", "/notifications", "/people",
        f"/people/{cast['oid']['author']}", "/sites", site_page, library_page,
        "/tags/dutch-words", "/search?q=a", cast["path"], "/chat", room_page, "/privacy",
        "/documents/missing/missing",
    )  # fmt: skip
    for path in pages:
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(site + path)
            assert page.locator("html").get_attribute("lang") == "nl", path
            assert serious_violations(page) == [], (path, width)
            assert sideways(page) <= 0, (path, width, page.evaluate(OVERFLOWING))
    assert watch.fired == []
