"""Follow, the feed and the notification settings in headless Chromium: a person follows a
document and a colleague from their pages, sees the feed say why, changes their settings;
each page passes axe-core (no serious or critical violation) and has no sideways scroll at
390 px."""

from __future__ import annotations

from tests.browser.axe import serious_violations


def sideways(page) -> int:
    return page.evaluate(
        "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    )


def test_follow_the_feed_and_the_settings_page(live_site, browser_as, people, document, cast):
    page, watch = browser_as(live_site, people["reader"])
    site = live_site.url
    # Follow the document and the author from their pages.
    page.goto(site + cast["path"])
    page.get_by_role("button", name="Follow this document").click()
    assert page.get_by_role("button", name="Following this document").is_visible()
    page.goto(f"{site}/people/{cast['oid']['author']}")
    page.get_by_role("button", name="Follow", exact=True).click()
    assert page.get_by_role("button", name="Following", exact=True).is_visible()
    # The author says something; the reader's feed shows it once, and why.
    author = live_site.api(people["author"])
    for words in ("Browser feed remark one", "Browser feed remark two"):
        posted = author.post(
            f"{site}/api/v1/documents/{document[0]}/{document[1]}/comments",
            json={"body": words},
        )
        assert posted.status_code == 201
    page.goto(site + "/feed")
    entries = page.locator(".feed-entry")
    assert entries.count() == 1
    assert entries.first.locator(".feed-title a").inner_text() == cast["title"]
    assert entries.first.locator(".excerpt").inner_text() == "Browser feed remark two"
    entries.first.locator("summary").click()
    reasons = entries.first.locator(".feed-why li").all_inner_texts()
    assert reasons[0] == "You follow this document"
    assert f"{cast['name']['author']}, whom you follow, took part" in reasons
    # Settings: no mention mails, an hourly digest.
    page.goto(site + "/settings/notifications")
    page.get_by_label("Someone mentions you: Email").uncheck()
    page.locator("#digest").select_option("hourly")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").inner_text() == "Saved."
    assert not page.get_by_label("Someone mentions you: Email").is_checked()
    assert page.locator("#digest").input_value() == "hourly"
    # Every page of this feature, at a phone's width and a desktop's.
    for path in ("/feed", "/following", "/settings/notifications", cast["path"]):
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(site + path)
            assert serious_violations(page) == [], (path, width)
            assert sideways(page) <= 0, (path, width)
    assert watch.fired == []
