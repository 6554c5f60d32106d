"""Chat in real headless Chromium: two people, two browser contexts, live rooms.

- The author and the reader (both can open `document`) talk live on the document's chat panel
  and in a channel the author creates and the reader joins; each message shows once, within
  a second or so, over ONE event stream per tab; unread badges count on the /chat list.
- Offline: in test_chat_offline.py.
- Revocation: the reader loses the document in the emulator, a sync runs, and the room leaves
  the reader's open page (room.removed on the live stream), their room list and the API.
- XSS: the payload corpus as messages, a channel name and description, rendered live and from
  the server: nothing runs (no plazaXss call, no dialog, no CSP report, no risky markup).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.browser.chat_page import (
    LIVE_MS,
    event_streams,
    messages,
    open_chat,
    room_id_of,
    room_messages,
    send,
    shows_once,
    stream_open,
)
from tests.browser.conftest import TIMEOUT_MS, overlay, start_live_site
from tests.overlay_app.test_xss import DOM_RISKS, PAYLOADS

fresh_plaza_env = overlay.fresh_plaza_env  # a tenant of its own, for the revocation test


def without_nonce(page_text: str) -> str:
    return re.sub(r'nonce="[^"]*"', "", page_text)


def create_channel(page: Page, site: Any, name: str, description: str = "") -> str:
    """Creates an open channel through the /chat page's form; its room id."""
    open_chat(page, site.url + "/chat")
    page.locator("details.new-channel > summary").click()
    form = page.locator("details.new-channel form")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=description]").fill(description)
    with page.expect_navigation():
        form.get_by_role("button", name="Create channel").click()
    stream_open(page)
    return room_id_of(page)


def join_channel(page: Page, site: Any, room_id: str) -> None:
    open_chat(page, site.url + "/chat")
    join = page.locator(f"form[action='/chat/{room_id}/join']")
    entry = page.locator("ul.chat-channels li", has=join)
    with page.expect_navigation():
        entry.get_by_role("button", name="Join").click()
    stream_open(page)
    assert room_id_of(page) == room_id


# -- live, both ways ---------------------------------------------------------------------------


def test_two_people_chat_live_about_a_document_and_in_a_channel(
    live_site, browser_as, people: dict[str, str], cast: dict[str, Any]
) -> None:
    author, author_watch = browser_as(live_site, people["author"])
    reader, reader_watch = browser_as(live_site, people["reader"])
    author_streams, reader_streams = event_streams(author), event_streams(reader)

    # -- the document's chat panel ------------------------------------------------------------
    open_chat(author, live_site.url + cast["path"])
    open_chat(reader, live_site.url + cast["path"])
    send(author, "Is page 4 of this final?")
    shows_once(author, "Is page 4 of this final?")
    shows_once(reader, "Is page 4 of this final?")
    expect(messages(reader, "Is page 4").locator(".author")).to_have_text(cast["name"]["author"])
    send(reader, "Not yet, **tomorrow**.")
    shows_once(author, "Not yet, tomorrow.")
    expect(messages(author, "Not yet").locator(".body strong")).to_have_text("tomorrow")
    assert len(author_streams) == 1 and len(reader_streams) == 1
    document_room = room_id_of(author)
    said = messages(author, "Is page 4").get_attribute("data-message-id")

    # -- a channel: created by the author, joined by the reader --------------------------------
    channel = create_channel(author, live_site, f"deal-team-{int(time.time() * 1000)}", "Q3 deal")
    join_channel(reader, live_site, channel)
    send(author, "Welcome to the deal team")
    shows_once(reader, "Welcome to the deal team")
    send(reader, "Thanks, glad to be here")
    shows_once(author, "Thanks, glad to be here")

    # -- unread badges on the reader's room list ----------------------------------------------
    open_chat(reader, live_site.url + "/chat")
    badge = reader.locator(f'.chat-rooms li[data-room-id="{channel}"] .unread')
    expect(badge).to_be_hidden()
    send(author, "One for your list")
    send(author, "And another")
    expect(badge).to_have_text("2", timeout=LIVE_MS)
    reader.locator(f'.chat-rooms li[data-room-id="{channel}"] a').click()
    shows_once(reader, "And another")
    open_chat(reader, live_site.url + "/chat")
    expect(reader.locator(f'.chat-rooms li[data-room-id="{channel}"] .unread')).to_be_hidden()

    # Someone who cannot open the document finds its room missing, exactly like a made-up one.
    outsider, _ = browser_as(live_site, people["outsider"])
    missing = outsider.goto(f"{live_site.url}/chat/00000000-0000-0000-0000-000000000000")
    assert missing.status == 404
    missing_page = without_nonce(missing.text())
    hidden = outsider.goto(f"{live_site.url}/chat/{document_room}")
    assert hidden.status == 404 and without_nonce(hidden.text()) == missing_page
    assert cast["title"] not in outsider.content()
    # ... and every form post about it answers 404 too, writing nothing.
    token = outsider.locator('meta[name="csrf-token"]').get_attribute("content")
    for path in (
        f"/chat/{document_room}/messages",
        cast["path"] + "/chat",
        f"/chat/messages/{said}/edit",
        f"/chat/messages/{said}/delete",
        f"/chat/{document_room}/join",
        f"/chat/{document_room}/leave",
    ):
        answer = outsider.request.post(
            live_site.url + path, form={"csrf_token": token, "body": "let me in"}, max_redirects=0
        )
        assert answer.status == 404, path
        assert cast["title"] not in answer.text()
    said_there = [m["body"] for m in room_messages(live_site, people["author"], document_room)]
    assert "let me in" not in said_there and "Is page 4 of this final?" in said_there

    rows = room_messages(live_site, people["author"], channel)
    assert [m["body"] for m in rows] == [
        "Welcome to the deal team",
        "Thanks, glad to be here",
        "One for your list",
        "And another",
    ]
    assert author_watch.fired == [] and reader_watch.fired == []


# -- revocation ------------------------------------------------------------------------------


def control(env: Any, method: str, path: str, body: Any = None) -> None:
    """The emulator's control API (what an administrator would change in SharePoint)."""
    with env.handle.session() as session:
        answer = session.request(method, f"{env.handle.base_url}/_emulator{path}", json=body)
    assert answer.status_code in (200, 201, 204), answer.text


def test_losing_the_document_in_sharepoint_removes_its_room_live(
    fresh_plaza_env: Any,
    tmp_path: Path,
    browser_as,
    people: dict[str, str],
    document: tuple[str, str],
) -> None:
    # The live check is off: what removes the room is the sync, seen by the event pump.
    site = start_live_site(fresh_plaza_env, tmp_path / "revoked", live_check_seconds=0)
    path = f"/documents/{document[0]}/{document[1]}"
    title = fresh_plaza_env.tenant.item(*document).name
    author, _ = browser_as(site, people["author"])
    reader, reader_watch = browser_as(site, people["reader"])
    listing = reader.context.new_page()
    try:
        open_chat(author, site.url + path)
        open_chat(reader, site.url + path)
        room_id = room_id_of(reader)
        send(author, "Before the change")
        shows_once(reader, "Before the change")
        open_chat(listing, site.url + "/chat")
        entry = listing.locator(f'.chat-rooms li[data-room-id="{room_id}"]')
        expect(entry).to_have_count(1)

        author_id = fresh_plaza_env.tenant.user(people["author"]).id
        only_author = [{"principal": {"kind": "user", "id": author_id}, "roles": ["write"]}]
        control(fresh_plaza_env, "POST", f"/items/{document[0]}/{document[1]}/permissions/break",
                {"grants": only_author})  # fmt: skip
        site.resync(people=True, documents=True)

        gone = reader.locator(".chat-room.removed .chat-removed")
        expect(gone).to_have_text("You no longer have access to this conversation.", timeout=10_000)
        expect(reader.locator(".chat-messages li.chat-message")).to_have_count(0)
        expect(reader.locator(".chat-composer")).to_have_count(0)
        expect(entry).to_have_count(0, timeout=10_000)

        send(author, "After the change")
        shows_once(author, "After the change")
        reader.wait_for_timeout(1_000)
        assert "After the change" not in reader.content()
        assert "After the change" not in listing.content()

        assert reader.goto(f"{site.url}/chat/{room_id}").status == 404
        assert reader.goto(site.url + path).status == 404
        open_chat(reader, site.url + "/chat")
        expect(reader.locator(f'.chat-rooms li[data-room-id="{room_id}"]')).to_have_count(0)
        assert title not in reader.content()
        api = site.api(people["reader"])
        assert api.get(f"{site.url}/api/v1/rooms/{room_id}").status_code == 404
        assert reader_watch.fired == []
    finally:
        for page in (author, reader, listing):
            page.close()
        site.stop()


# -- XSS -----------------------------------------------------------------------------------------


def audit(page: Page, watch: Any) -> list[str]:
    """Risky markup on the page and script that ran on it."""
    found = [f"{page.url}: {risk}" for risk in page.evaluate(DOM_RISKS)]
    found += watch.fired
    watch.fired.clear()
    return found


def test_xss_payloads_in_messages_and_channels_run_nothing(
    live_site, browser_as, people: dict[str, str]
) -> None:
    author, author_watch = browser_as(live_site, people["author"])
    reader, reader_watch = browser_as(live_site, people["reader"])
    writer = live_site.api(people["author"])
    name = f'<img src=x onerror=plazaXss("name")>{int(time.time() * 1000)}'
    created = writer.post(f"{live_site.url}/api/v1/rooms", json={
        "kind": "channel", "name": name, "description": "<script>plazaXss('about')</script>",
    })  # fmt: skip
    assert created.status_code == 201, created.text
    channel = created.json()["id"]

    # The reader's room list learns of the channel live when they join from another tab.
    open_chat(reader, live_site.url + "/chat")
    joined = live_site.api(people["reader"]).post(
        f"{live_site.url}/api/v1/rooms/{channel}/members",
        json={"person_id": live_site.env.tenant.user(people["reader"]).id},
    )
    assert joined.status_code == 200, joined.text
    expect(reader.locator(f'.chat-rooms li[data-room-id="{channel}"] a')).to_have_text(
        "#" + name, timeout=LIVE_MS
    )
    problems = audit(reader, reader_watch)

    open_chat(author, f"{live_site.url}/chat/{channel}")
    open_chat(reader, f"{live_site.url}/chat/{channel}")
    typed = PAYLOADS[:2] + [p for p in PAYLOADS if "onerror" in p][:4]
    for payload in typed:  # typed, so the copy waiting for the server's answer shows them too
        send(author, payload.replace("\n", " "))
    bodies = [f"{payload} xsscanary{n}" for n, payload in enumerate(PAYLOADS)]
    sent = [writer.post(f"{live_site.url}/api/v1/rooms/{channel}/messages", json={"body": b})
            for b in bodies]  # fmt: skip
    # Payloads that look like a mention of nobody are refused, naming them; the rest are sent.
    refused = [a.json()["error"]["message"] for a in sent if a.status_code == 400]
    assert all(m.endswith("so they cannot be mentioned") for m in refused), refused
    delivered = [n for n, answer in enumerate(sent) if answer.status_code == 201]
    assert len(delivered) >= 100 and len(delivered) + len(refused) == len(sent)
    edited = writer.patch(
        f"{live_site.url}/api/v1/messages/{sent[delivered[0]].json()['id']}",
        json={"body": "<iframe src=javascript:plazaXss('edit')></iframe> xssedited"},
    )
    assert edited.status_code == 200, edited.text
    last = f"xsscanary{delivered[-1]}"
    expect(messages(reader, last)).to_have_count(1, timeout=10_000)
    expect(messages(reader, "xssedited").locator(".edited")).to_be_visible(timeout=LIVE_MS)
    expect(messages(author, last)).to_have_count(1, timeout=10_000)
    problems += audit(reader, reader_watch) + audit(author, author_watch)

    # Rendered by the server: every page of the history, and the /chat list.
    url: str | None = f"{live_site.url}/chat/{channel}"
    pages = 0
    while url:
        assert reader.goto(url).status == 200
        pages += 1
        problems += audit(reader, reader_watch)
        older = reader.locator("p.older a")
        url = live_site.url + older.get_attribute("href") if older.count() else None
    assert pages >= 3
    reader.goto(live_site.url + "/chat")
    problems += audit(reader, reader_watch)
    assert problems == []


# -- without JavaScript ------------------------------------------------------------------------


def test_chat_works_without_javascript(
    live_site, chromium: Browser, browser_as, people: dict[str, str], cast: dict[str, Any]
) -> None:
    """Forms post to the page URLs and come back (PRG); nothing needs the script."""
    signed_in, _ = browser_as(live_site, people["author"])  # sign-in itself may use script
    context = chromium.new_context(
        java_script_enabled=False, storage_state=signed_in.context.storage_state()
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        assert page.goto(live_site.url + cast["path"]).status == 200
        panel = page.locator("#chat")
        panel.locator(".chat-composer textarea").fill("Sent with a plain form")
        with page.expect_navigation():
            panel.get_by_role("button", name="Send").click()
        expect(messages(page, "Sent with a plain form")).to_have_count(1)

        with page.expect_navigation():
            panel.get_by_role("link", name="open in Chat").click()
        mine = messages(page, "Sent with a plain form")
        mine.locator("details.more > summary").click()  # Edit and Delete are in the More menu
        mine.locator("details.edit > summary").click()
        mine.locator("form.message-edit textarea").fill("Sent with a plain form, then edited")
        with page.expect_navigation():
            mine.get_by_role("button", name="Save").click()
        edited = messages(page, "then edited")
        expect(edited.locator(".edited")).to_be_visible()

        nobody = "Ask @[Nobody](00000000-0000-0000-0000-000000000000) first"
        page.locator(".chat-composer textarea").fill(nobody)
        with page.expect_navigation():
            page.locator(".chat-composer").get_by_role("button", name="Send").click()
        expect(page.locator(".flash.error")).to_have_text(
            "Nobody is not in the directory, so they cannot be mentioned"
        )
        page.locator(".chat-composer textarea").fill("To be deleted")
        with page.expect_navigation():
            page.locator(".chat-composer").get_by_role("button", name="Send").click()
        doomed = messages(page, "To be deleted")
        doomed.locator("details.more > summary").click()
        with page.expect_navigation():
            doomed.get_by_role("button", name="Delete").click()
        expect(page.locator(".chat-message.deleted .body").last).to_have_text("message deleted")

        page.goto(live_site.url + "/chat")
        page.locator("#direct-with").fill(people["reader"])
        with page.expect_navigation():
            page.get_by_role("button", name="Start").click()
        expect(page.locator("h1")).to_have_text(f"Direct {cast['name']['reader']}")
        page.locator(".chat-composer textarea").fill("Just between us")
        with page.expect_navigation():
            page.locator(".chat-composer").get_by_role("button", name="Send").click()
        expect(messages(page, "Just between us")).to_have_count(1)
    finally:
        context.close()
