"""Compact threads in real headless Chromium: the More menu by keyboard, folded replies with
exact counts, mention chips in the editor, the share offer when a mention is refused, a thread
of 20 comments on one desktop screen, axe-core and no sideways scrolling at 390 px.

Comments are seeded through the JSON API with real bearer tokens; every test seeds its own
and looks only at those (the module's site is shared).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import serious_violations
from tests.browser.conftest import sign_in_page

MARKUP = re.compile(r"@\[[^\]]*\]\([0-9A-Za-z-]+\)")


class Seeder:
    """Writes comments as a person through the API; returns their ids."""

    def __init__(self, site: Any, upn: str, path: str) -> None:
        self.api = site.api(upn)
        self.url = f"{site.url}/api/v1{path}/comments"

    def comment(self, body: str, parent_id: str | None = None) -> str:
        answer = self.api.post(self.url, json={"body": body, "parent_id": parent_id})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]


@pytest.fixture
def seed(live_site, people: dict[str, str], cast: dict[str, Any]) -> Seeder:
    return Seeder(live_site, people["author"], cast["path"])


def visible_tops(page: Page, selector: str) -> list[int]:
    return page.locator(selector).evaluate_all(
        "ns => ns.filter(n => n.getClientRects().length)"
        ".map(n => Math.round(n.getBoundingClientRect().top))"
    )


def test_the_more_menu_works_by_keyboard(
    live_site, browser_as, people: dict[str, str], cast: dict[str, Any], seed: Seeder
) -> None:
    mine = seed.comment("Menu of mine")
    theirs = Seeder(live_site, people["reader"], cast["path"]).comment("Menu of theirs")
    page, watch = browser_as(live_site, people["author"])
    page.goto(live_site.url + cast["path"])
    row = page.locator(f"#comment-{mine} > .actions")
    # Like, its count, Reply and More: one row
    names = row.locator("> *").evaluate_all(
        "ns => ns.filter(n => n.getClientRects().length).map(n => n.className)"
    )
    assert names == ["like-form inline", "like-count", "reply", "more"]
    assert len(set(visible_tops(page, f"#comment-{mine} > .actions > *"))) == 1

    more = row.locator("details.more")
    summary = more.locator("> summary")
    expect(summary).to_have_accessible_name("More actions on your comment")
    summary.focus()
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("open", "")
    expect(more.locator(".more-menu > li")).to_have_text(["Edit", "Delete"])
    page.keyboard.press("Escape")
    expect(more).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()

    page.keyboard.press("Space")
    for name in ("Edit", "Delete"):  # Tab walks the menu; leaving it closes it
        page.keyboard.press("Tab")
        expect(more.locator(".more-menu > li").get_by_text(name)).to_be_focused()
    page.keyboard.press("Tab")
    expect(more).not_to_have_attribute("open", "")
    summary.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(more.get_by_role("link", name="Edit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(more).not_to_have_attribute("open", "")
    editor = page.locator(f"#edit-{mine}")
    expect(editor).to_be_focused()
    expect(editor).to_have_text("Menu of mine")
    page.keyboard.type(", edited")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#comment-{mine} > .body")).to_have_text("Menu of mine, edited")

    other = page.locator(f"#comment-{theirs} > .actions details.more")
    expect(other.locator("> summary")).to_have_accessible_name(
        f"More actions on {cast['name']['reader']}'s comment"
    )
    other.locator("> summary").click()
    expect(other.locator(".more-menu > li > details > summary")).to_have_text(["Report"])
    page.locator("h1").click()  # a click elsewhere closes it
    expect(other).not_to_have_attribute("open", "")
    assert watch.fired == []


def test_long_threads_fold_with_exact_counts(
    live_site, browser_as, chromium, people: dict[str, str], cast: dict[str, Any], seed: Seeder
) -> None:
    root = seed.comment("Fold root")
    replies = [seed.comment(f"Fold reply {n}", root) for n in range(1, 9)]
    seed.comment("Under reply 5", replies[4])
    chain = [replies[0]]
    for depth in range(2, 6):  # depth 2 and 3 show; 4 and 5 fold under depth 3
        chain.append(seed.comment(f"Chain depth {depth}", chain[-1]))
    url = live_site.url + cast["path"]
    thread = f"#comment-{root}"

    context = chromium.new_context(ignore_https_errors=True, java_script_enabled=False)
    try:  # without script: <details> that open by themselves
        plain = context.new_page()
        sign_in_page(plain, live_site, people["reader"])
        plain.goto(url)
        folds = plain.locator(f"{thread} details.more-replies > summary")
        expect(folds).to_have_text(["Show 2 more replies", "Show 6 more replies"])
        expect(plain.locator(f"#comment-{replies[3]}")).to_be_hidden()
        folds.nth(1).click()
        expect(plain.locator(f"#comment-{replies[7]}")).to_be_visible()
        plain.goto(url + "#comment-" + chain[4])  # Chromium opens the fold of a linked comment
        expect(plain.locator(f"#comment-{chain[4]}")).to_be_visible()
    finally:
        context.close()

    page, watch = browser_as(live_site, people["reader"])
    page.goto(url)
    fold = page.locator(f"{thread} > ol.replies > li.folded > details > summary")
    expect(fold).to_have_text("Show 6 more replies")
    fold.click()  # unfolds in place: the comments, no summary left
    expect(page.locator(f"{thread} > ol.replies > li")).to_have_count(8)
    expect(page.locator(f"{thread} > ol.replies > li.folded")).to_have_count(0)
    expect(page.locator(f"#comment-{replies[3]}")).to_be_focused()
    expect(page.locator(f"#comment-{chain[4]}")).to_be_hidden()

    page.goto(url + "#comment-" + chain[4])  # linked: its thread unfolds
    page.reload()
    expect(page.locator(f"#comment-{chain[4]}")).to_be_visible()
    expect(page.locator(f"#comment-{chain[4]}")).to_be_in_viewport()
    assert watch.fired == []


def pick_person(page: Page, editor_id: str, name: str) -> None:
    """Types "@" and the start of the name, walks the options by arrow key, Enter."""
    editor = page.locator(f"#{editor_id}")
    page.keyboard.type("@" + name.split()[0][:3])
    expect(editor).to_have_attribute("aria-expanded", "true")
    options = page.locator(f"#{editor.get_attribute('aria-controls')} [role=option]")
    expect(options.filter(has_text=name)).to_have_count(1)
    selected = options.and_(page.locator("[aria-selected=true]"))
    for _ in range(options.count()):
        if name in selected.inner_text():
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(editor).to_have_attribute("aria-expanded", "false")


def test_mentions_are_chips_in_the_editor(
    live_site, browser_as, people: dict[str, str], cast: dict[str, Any], seed: Seeder
) -> None:
    root = seed.comment("Chips root")
    reader = cast["name"]["reader"]
    page, watch = browser_as(live_site, people["author"])
    page.goto(live_site.url + cast["path"])
    editor = page.locator("#new-comment")
    expect(editor).to_have_attribute("role", "combobox")
    editor.click()
    page.keyboard.type("Ask ")
    pick_person(page, "new-comment", reader)
    page.keyboard.type("and ")
    pick_person(page, "new-comment", reader)
    expect(editor.locator(".chip")).to_have_text(["@" + reader, "@" + reader])
    page.keyboard.press("Backspace")  # the space after the second chip
    page.keyboard.press("Backspace")  # the whole chip
    expect(editor.locator(".chip")).to_have_text(["@" + reader])
    page.keyboard.type("to check")
    assert not MARKUP.search(editor.inner_text())  # the writer never sees the markup
    field = page.locator("#new-comment-markup")
    expect(field).to_have_value(f"Ask @[{reader}]({cast['oid']['reader']}) and to check")
    page.locator("form:has(#new-comment)").get_by_role("button", name="Comment").click()
    made = page.locator("li.comment", has=page.locator(".body", has_text="to check")).last
    expect(made.locator("a.mention")).to_have_text("@" + reader)
    expect(made.locator("a.mention")).to_have_attribute("href", f"/people/{cast['oid']['reader']}")
    page.wait_for_load_state()  # the reloaded page's scripts share the reply form

    # the reply form too
    page.locator(f"#comment-{root} > .actions details.reply > summary").click()
    reply = page.locator(f"#reply-{root}")
    expect(reply).to_be_focused()
    page.keyboard.type("Yes ")
    pick_person(page, f"reply-{root}", reader)
    page.locator(f"#comment-{root} > .actions").get_by_role("button", name="Reply").click()
    expect(page.locator(f"#comment-{root} ol.replies a.mention")).to_have_text("@" + reader)
    assert watch.fired == []


def test_a_refused_mention_offers_to_share(
    live_site, browser_as, chromium, people: dict[str, str], cast: dict[str, Any]
) -> None:
    outsider, oid = cast["name"]["outsider"], cast["oid"]["outsider"]
    refusal = f"{outsider} cannot open this document, so they cannot be mentioned"
    text = f"Have a look @[{outsider}]({oid}) please"
    url = live_site.url + cast["path"]
    page, watch = browser_as(live_site, people["author"])
    page.goto(url)
    web_url = page.locator("#open-sharepoint").get_attribute("href")
    assert web_url.startswith("https://")
    page.locator("#new-comment-markup").evaluate("(field, text) => { field.value = text; }", text)
    expect(page.locator("#new-comment .chip")).to_have_text("@" + outsider)
    form = page.locator("form:has(#new-comment)")
    form.get_by_role("button", name="Comment").click()
    expect(form.locator(".form-error")).to_have_text(refusal)
    offer = form.locator(".share-offer")
    expect(offer).to_contain_text(f"{outsider} cannot open this document yet.")
    expect(offer.get_by_role("link", name="Share it with them in SharePoint")).to_have_attribute(
        "href", web_url
    )
    expect(page.locator("#new-comment-markup")).to_have_value(text)  # nothing lost
    assert watch.fired == []

    context = chromium.new_context(ignore_https_errors=True, java_script_enabled=False)
    try:  # the form post: the page comes back with the offer and the text
        plain = context.new_page()
        sign_in_page(plain, live_site, people["author"])
        plain.goto(url)
        plain.locator("#new-comment").fill(text)
        plain.locator("form:has(#new-comment)").get_by_role("button", name="Comment").click()
        expect(plain.locator("p.flash.error")).to_have_text(refusal)
        link = plain.locator(".share-offer").get_by_role(
            "link", name="Share it with them in SharePoint"
        )
        expect(link).to_have_attribute("href", web_url)
        expect(plain.locator("#new-comment")).to_have_value(text)
        plain.reload()  # shown once
        expect(plain.locator(".share-offer")).to_have_count(0)
    finally:
        context.close()


def test_twenty_comments_fit_one_desktop_screen(
    live_site, browser_as, people: dict[str, str], cast: dict[str, Any], seed: Seeder
) -> None:
    ids = []
    for n in range(1, 6):  # five comments with three short replies each
        root = seed.comment(f"Point {n}: the totals on page {n} differ.")
        ids += [root] + [seed.comment(f"Reply {n}.{m}: agreed.", root) for m in range(1, 4)]
    assert len(ids) == 20
    page, watch = browser_as(live_site, people["reader"])
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_site.url + cast["path"])
    first, last = page.locator(f"#comment-{ids[0]}"), page.locator(f"#comment-{ids[-1]}")
    first.evaluate("n => n.scrollIntoView({block: 'start'})")
    top = first.evaluate("n => n.getBoundingClientRect().top")
    bottom = last.evaluate("n => n.getBoundingClientRect().bottom")
    # The scroll lands on a whole pixel, the comment's edge may not: half a pixel either way.
    assert -1 < top < 5 and bottom <= 800, (top, bottom)
    page.screenshot(path=str(Path(os.environ.get("PLAZA_SHOTS", "/tmp")) / "thread-1280.png"))

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_site.url + cast["path"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    line = first.locator("> .body").evaluate("n => parseFloat(getComputedStyle(n).lineHeight)")
    assert line >= 20  # not cramped on a phone
    page.screenshot(
        path=str(Path(os.environ.get("PLAZA_SHOTS", "/tmp")) / "thread-390.png"), full_page=True
    )
    assert watch.fired == []


def test_the_discussion_passes_axe(
    live_site, browser_as, people: dict[str, str], cast: dict[str, Any], seed: Seeder
) -> None:
    root = seed.comment("Axe root")
    for n in range(7):
        seed.comment(f"Axe reply {n}", root)
    page, watch = browser_as(live_site, people["reader"])
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(live_site.url + cast["path"])
        page.locator("#new-comment").click()
        page.keyboard.type("@" + cast["name"]["author"][:3])
        expect(page.locator("#new-comment")).to_have_attribute("aria-expanded", "true")
        menu = page.locator(f"#comment-{root} > .actions details.more")
        menu.evaluate("menu => { menu.open = true; }")  # open beside the suggestions
        menu.locator("details.report").evaluate("report => { report.open = true; }")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shots = Path(os.environ.get("PLAZA_SHOTS", "/tmp"))
        page.locator("#discussion").screenshot(path=str(shots / f"discussion-{width}.png"))
        assert serious_violations(page) == [], width
    assert watch.fired == []
