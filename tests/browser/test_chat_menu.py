"""The chat message's More menu in real headless Chromium: by keyboard on a message the server
rendered, on a message that arrived live (Report included, at once), edit and delete through
it; its words in Dutch; axe-core and no sideways scrolling; ten one-line messages on one phone
screen.

Every test makes its own channel through the API (the module's site is shared) and seeds its
messages there with real bearer tokens.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.browser.axe import serious_violations
from tests.browser.chat_page import LIVE_MS, messages, open_chat, send, shows_once
from tests.browser.conftest import TIMEOUT_MS

THANKS = "Thank you: the moderators will look at it."
_channels = itertools.count(1)


class Channel:
    """An open channel the author made and the reader joined; messages sent through the API."""

    def __init__(self, site: Any, people: dict[str, str]) -> None:
        self.site, self.people = site, people
        name = f"menu-{next(_channels)}-{int(time.time() * 1000)}"
        made = site.api(people["author"]).post(
            f"{site.url}/api/v1/rooms", json={"kind": "channel", "name": name}
        )
        assert made.status_code == 201, made.text
        self.id = made.json()["id"]
        reader_id = site.env.tenant.user(people["reader"]).id
        joined = site.api(people["reader"]).post(
            f"{site.url}/api/v1/rooms/{self.id}/members", json={"person_id": reader_id}
        )
        assert joined.status_code == 200, joined.text
        self.url = f"{site.url}/chat/{self.id}"

    def say(self, role: str, body: str) -> str:
        answer = self.site.api(self.people[role]).post(
            f"{self.site.url}/api/v1/rooms/{self.id}/messages", json={"body": body}
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]


@pytest.fixture
def channel(live_site, people: dict[str, str]) -> Channel:
    return Channel(live_site, people)


def menu_items(message: Locator) -> Locator:
    """The menu's entries, in order: its buttons and the summaries of the forms it opens."""
    return message.locator(".more-menu > li > form > button, .more-menu > li > details > summary")


def test_the_menu_works_by_keyboard_on_a_server_rendered_message(
    live_site, browser_as, people: dict[str, str], cast: dict[str, Any], channel: Channel
) -> None:
    channel.say("reader", "Theirs, from the server")
    channel.say("author", "Mine, from the server")
    page, watch = browser_as(live_site, people["author"])
    open_chat(page, channel.url)

    mine = messages(page, "Mine, from the server")
    more = mine.locator("details.more")
    summary = more.locator("> summary")
    expect(summary).to_have_accessible_name("More actions on your message")
    # The menu ends the who-and-when line: no line of its own.
    assert more.evaluate("n => n.parentElement.className") == "meta"
    # With a mouse, the menu shows while the message is hovered or holds the focus.
    page.locator("h1").hover()
    expect(summary).to_have_css("opacity", "0")
    mine.hover()
    expect(summary).to_have_css("opacity", "1")
    page.locator("h1").hover()
    summary.focus()
    expect(summary).to_have_css("opacity", "1")
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("open", "")
    expect(menu_items(mine)).to_have_text(["Edit", "Delete"])
    page.keyboard.press("Escape")
    expect(more).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()

    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(more.locator("details.edit > summary")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    field = more.locator("form.message-edit textarea")
    expect(field).to_be_focused()
    expect(field).to_have_value("Mine, from the server")
    page.keyboard.press("End")
    page.keyboard.type(", edited")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Save, through the API: no page load
    edited = messages(page, "Mine, from the server, edited")
    expect(edited.locator(".edited")).to_be_visible(timeout=LIVE_MS)
    expect(edited.locator("details.more")).not_to_have_attribute("open", "")

    theirs = messages(page, "Theirs, from the server")
    other = theirs.locator("details.more > summary")
    expect(other).to_have_accessible_name(f"More actions on {cast['name']['reader']}'s message")
    other.focus()
    page.keyboard.press("Enter")
    expect(menu_items(theirs)).to_have_text(["Report"])
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(theirs.locator("form.report-form input[name=reason]")).to_be_focused()
    page.keyboard.type("Off topic")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".flash.info")).to_have_text(THANKS)
    assert watch.fired == []


def test_a_live_message_gets_the_menu_at_once(
    live_site, browser_as, people: dict[str, str], cast: dict[str, Any], channel: Channel
) -> None:
    author, author_watch = browser_as(live_site, people["author"])
    reader, reader_watch = browser_as(live_site, people["reader"])
    open_chat(author, channel.url)
    open_chat(reader, channel.url)

    # The author's own message, sent live: Edit and Delete as soon as the server has it.
    send(author, "Live and mine")
    shows_once(author, "Live and mine")
    shows_once(reader, "Live and mine")
    mine = messages(author, "Live and mine")
    message_id = mine.get_attribute("data-message-id")
    mine.locator("details.more > summary").click()
    expect(menu_items(mine)).to_have_text(["Edit", "Delete"])
    mine.locator("details.edit > summary").click()
    form = mine.locator("form.message-edit")
    assert form.get_attribute("action") == f"/chat/messages/{message_id}/edit"
    form.locator("textarea").fill("Live and mine, edited")
    form.get_by_role("button", name="Save").click()
    expect(messages(reader, "Live and mine, edited").locator(".edited")).to_be_visible(
        timeout=LIVE_MS
    )
    expect(mine.locator("details.more")).not_to_have_attribute("open", "")

    author.evaluate("window.confirm = () => true")  # the page asks before deleting
    mine.locator("details.more > summary").click()
    mine.get_by_role("button", name="Delete").click()
    for page in (author, reader):
        gone = page.locator(f'li.chat-message[data-message-id="{message_id}"]')
        expect(gone.locator(".body")).to_have_text("message deleted", timeout=LIVE_MS)
        expect(gone.locator("details.more")).to_be_hidden()

    # Someone else's message, arrived live: Report at once, no reload.
    send(reader, "Live from the reader")
    shows_once(author, "Live from the reader")
    theirs = messages(author, "Live from the reader")
    theirs_id = theirs.get_attribute("data-message-id")
    summary = theirs.locator("details.more > summary")
    expect(summary).to_have_accessible_name(f"More actions on {cast['name']['reader']}'s message")
    summary.click()
    expect(menu_items(theirs)).to_have_text(["Report"])
    theirs.locator("details.report > summary").click()
    report = theirs.locator("form.report-form")
    assert report.get_attribute("action") == f"/chat/messages/{theirs_id}/report"
    report.locator("input[name=reason]").fill("Not for this channel")
    with author.expect_navigation():
        report.get_by_role("button", name="Report").click()
    expect(author.locator(".flash.info")).to_have_text(THANKS)
    assert author_watch.fired == [] and reader_watch.fired == []


def test_the_menu_speaks_dutch_on_live_messages_too(
    live_site,
    chromium: Browser,
    browser_as,
    people: dict[str, str],
    cast: dict[str, Any],
    channel: Channel,
) -> None:
    channel.say("author", "Van mij, van de server")
    signed_in, _ = browser_as(live_site, people["author"])
    dutch = chromium.new_context(locale="nl-NL", storage_state=signed_in.context.storage_state())
    dutch.set_default_timeout(TIMEOUT_MS)
    try:
        page = dutch.new_page()
        open_chat(page, channel.url)
        mine = messages(page, "Van mij, van de server")
        expect(mine.locator("details.more > summary")).to_have_accessible_name(
            "Meer acties voor je bericht"
        )
        mine.locator("details.more > summary").click()
        expect(menu_items(mine)).to_have_text(["Bewerken", "Verwijderen"])
        page.keyboard.press("Escape")  # the open menu would cover the next message
        channel.say("reader", "Live van de lezer")
        shows_once(page, "Live van de lezer")
        theirs = messages(page, "Live van de lezer")
        summary = theirs.locator("details.more > summary")
        expect(summary).to_have_text("Meer")
        expect(summary).to_have_accessible_name(
            f"Meer acties voor het bericht van {cast['name']['reader']}"
        )
        summary.click()
        expect(menu_items(theirs)).to_have_text(["Melden"])
    finally:
        dutch.close()


def test_the_last_message_menu_opens_in_sight_on_the_document_panel(
    live_site, browser_as, people: dict[str, str], cast: dict[str, Any]
) -> None:
    """The panel's list scrolls (max-height): a form opened in the last message's menu is
    scrolled into the list's sight, not cut off below it."""
    page, watch = browser_as(live_site, people["reader"])
    page.set_viewport_size({"width": 390, "height": 844})
    open_chat(page, live_site.url + cast["path"])
    writer = live_site.api(people["author"])
    room = page.locator("#chat .chat-room").get_attribute("data-room-id")
    for n in range(8):
        answer = writer.post(
            f"{live_site.url}/api/v1/rooms/{room}/messages", json={"body": f"Panel line {n}"}
        )
        assert answer.status_code == 201, answer.text
    shows_once(page, "Panel line 7")
    last = messages(page, "Panel line 7")
    last.locator("details.more > summary").click()
    last.locator("details.report > summary").click()
    button = last.locator("form.report-form button")
    expect(button).to_be_visible()
    inside = page.locator("#chat .chat-messages").evaluate(
        """(list, button) => {
          const outer = list.getBoundingClientRect(), inner = button.getBoundingClientRect();
          return inner.top >= outer.top && inner.bottom <= outer.bottom;
        }""",
        button.element_handle(),
    )
    assert inside
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert watch.fired == []


def test_a_chat_room_passes_axe_and_fits_390_px(
    live_site, browser_as, people: dict[str, str], channel: Channel
) -> None:
    channel.say("reader", "Axe: a message of theirs with a rather long line of text in it")
    channel.say("author", "Axe: a message of mine")
    page, watch = browser_as(live_site, people["author"])
    shots = Path(os.environ.get("PLAZA_SHOTS", "/tmp"))
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844})
        open_chat(page, channel.url)
        send(page, f"Axe: sent live at {width}")
        shows_once(page, f"Axe: sent live at {width}")
        theirs = messages(page, "Axe: a message of theirs")
        theirs.locator("details.more > summary").click()
        theirs.locator("details.report > summary").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(shots / f"chat-menu-{width}.png"))
        assert serious_violations(page) == [], width
    assert watch.fired == []


def test_ten_one_line_messages_fit_a_phone_screen(
    live_site, chromium: Browser, browser_as, people: dict[str, str], channel: Channel
) -> None:
    for n in range(10):
        channel.say("author" if n % 2 else "reader", f"Line {n}: see you at ten")
    signed_in, _ = browser_as(live_site, people["author"])
    phone = chromium.new_context(
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
        storage_state=signed_in.context.storage_state(),
    )
    phone.set_default_timeout(TIMEOUT_MS)
    try:
        page = phone.new_page()
        open_chat(page, channel.url)
        shown = page.locator(".chat-messages li.chat-message")
        expect(shown).to_have_count(10)
        # A touch screen has no hover: every message shows its More menu.
        opacities = shown.locator("details.more > summary").evaluate_all(
            "ns => ns.map(n => getComputedStyle(n).opacity)"
        )
        assert opacities == ["1"] * 10
        layout = page.evaluate(LAYOUT)
        # Ten messages, each a who-and-when line and one line of text, in the height a phone
        # has below the site's header: no scrolling within the list either.
        assert layout["lines"] == [2] * 10, layout
        assert layout["span"] <= 844 - layout["header"], layout
        assert layout["listScroll"] <= layout["listHeight"], layout
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(Path(os.environ.get("PLAZA_SHOTS", "/tmp")) / "chat-phone.png"))
    finally:
        phone.close()


# Where the messages sit: the span from the first one's top to the last one's bottom, the
# header's height, how many line boxes each message has (its meta line plus its text's).
LAYOUT = """() => {
  const items = [...document.querySelectorAll('.chat-messages li.chat-message')];
  const list = document.querySelector('.chat-messages');
  const lines = n => Math.round(n.getBoundingClientRect().height
    / parseFloat(getComputedStyle(n).lineHeight));
  return {
    span: items.at(-1).getBoundingClientRect().bottom - items[0].getBoundingClientRect().top,
    header: document.querySelector('header.top').getBoundingClientRect().height,
    lines: items.map(n => lines(n.querySelector('.meta')) + lines(n.querySelector('.body'))),
    listScroll: list.scrollHeight,
    listHeight: list.clientHeight,
  };
}"""
