"""A discussion in real headless Chromium: two people who can open a document talk about it,
and a third who cannot never learns it exists.

The author signs in through the emulator's sign-in page, comments, replies, mentions the
reader through the autocomplete, likes and tags. The reader, in a second browser context,
finds the mention in their notifications and the whole thread behind it, replies and likes;
the author then sees those notifications. The outsider gets 404 on the document URL and never
sees its title on any page they can reach.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in_page

TAG = "due-diligence"
FIRST = "The Q3 numbers look off to me."
REPLY = "Checked again: page 4 is the culprit."
SAID = (FIRST, REPLY, "Agreed, I will redo page 4.")


@pytest.fixture(scope="module")
def cast(plaza_env: Any, people: dict[str, str], document: tuple[str, str]) -> dict[str, Any]:
    """Names the pages show: display names, oids and the document's title."""
    tenant = plaza_env.tenant
    drive_id, item_id = document
    found = {role: tenant.user(upn) for role, upn in people.items()}
    return {
        "title": tenant.item(drive_id, item_id).name,
        "name": {role: user.display_name for role, user in found.items()},
        "oid": {role: user.id for role, user in found.items()},
        "path": f"/documents/{drive_id}/{item_id}",
    }


def write_comment(page: Page, text: str) -> str:
    """Types a new comment and sends it; the new comment's id (the page reloads onto it)."""
    page.locator("#new-comment").fill(text)
    page.locator("#new-comment").locator("xpath=..").get_by_role("button", name="Comment").click()
    posted = page.locator("li.comment", has=page.locator(".body", has_text=text)).last
    expect(posted).to_be_visible()
    page.wait_for_load_state()  # the reloaded page's scripts have made the editors
    return posted.get_attribute("id").removeprefix("comment-")


def reply_to(page: Page, comment_id: str, text: str) -> None:
    thread = page.locator(f"#comment-{comment_id}")
    thread.locator("> .actions details.reply > summary").click()
    page.locator(f"#reply-{comment_id}").fill(text)
    thread.locator("> .actions details.reply").get_by_role("button", name="Reply").click()
    expect(thread.locator("ol.replies .body", has_text=text)).to_be_visible()
    page.wait_for_load_state()  # the reloaded page's scripts have made the editors


def mention_with_autocomplete(page: Page, person_name: str, text_after: str) -> None:
    """Types "@" and the start of the name, picks the suggestion, finishes and sends."""
    # The editor, not the textarea it replaces (Playwright waits on a hidden one for good).
    field = page.locator(".chip-editor#new-comment")
    field.click()
    page.keyboard.type("Please check the figures, @" + person_name.split()[0][:3])
    option = page.locator(".mention-suggestions li", has_text=person_name)
    expect(option).to_be_visible()
    option.click()
    page.keyboard.type(text_after)
    expect(field.locator(".chip")).to_have_text("@" + person_name)  # a chip, not markup
    expect(page.locator("#new-comment-markup")).to_have_value(
        re.compile(r"@\[" + re.escape(person_name) + r"\]\([0-9a-f-]+\) ")
    )
    field.locator("xpath=..").get_by_role("button", name="Comment").click()
    expect(page.locator("a.mention", has_text="@" + person_name)).to_be_visible()


def test_two_people_discuss_and_an_outsider_sees_nothing(
    live_site, browser_as, people: dict[str, str], cast: dict[str, Any]
) -> None:
    url = live_site.url + cast["path"]

    # -- the author ---------------------------------------------------------------------------
    author, author_watch = browser_as(live_site, people["author"])
    assert author.goto(url).status == 200
    expect(author.locator("h1")).to_contain_text(cast["title"])
    first = write_comment(author, FIRST)
    reply_to(author, first, REPLY)
    mention_with_autocomplete(author, cast["name"]["reader"], "before Friday.")
    author.locator("#likes").get_by_role("button", name="Like").click()
    expect(author.locator("#likes .like-count")).to_have_text("1 like")
    author.locator("#new-tag").fill(TAG)
    author.get_by_role("button", name="Add tag").click()
    expect(author.locator("#tags a.tag", has_text="#" + TAG)).to_be_visible()
    author.reload()
    expect(author.locator("#likes .likers")).to_contain_text(cast["name"]["author"])

    # -- the reader, in a second browser ------------------------------------------------------
    reader, reader_watch = browser_as(live_site, people["reader"])
    expect(reader.locator("header .notifications .badge")).to_have_text("1")
    reader.goto(live_site.url + "/notifications")
    notice = reader.locator("li.notification.unread")
    expect(notice).to_have_count(1)
    expect(notice.locator(".sentence")).to_have_text(
        f"{cast['name']['author']} mentioned you on {cast['title']} new"
    )
    notice.locator(".sentence a").click()
    reader.wait_for_url(re.compile(re.escape(url) + "#comment-"))
    threads = reader.locator("#discussion ol.threads")
    expect(threads.locator(".body", has_text=FIRST)).to_be_visible()
    expect(threads.locator(".body", has_text=REPLY)).to_be_visible()
    expect(reader.locator("#discussion")).to_contain_text("3 comments")
    expect(reader.locator("#tags a.tag", has_text="#" + TAG)).to_be_visible()
    reply_to(reader, first, SAID[2])
    reader.locator(f"#comment-{first} > .actions .like-form button").click()
    expect(reader.locator(f"#comment-{first} > .actions .like-count").first).to_have_text("1 like")

    # -- the author is told -------------------------------------------------------------------
    author.goto(live_site.url + "/notifications")
    sentences = author.locator("li.notification .sentence a")
    expect(sentences).to_have_text(
        [
            f"{cast['name']['reader']} liked your comment on {cast['title']}",
            f"{cast['name']['reader']} replied to you on {cast['title']}",
        ]
    )

    # -- the outsider -------------------------------------------------------------------------
    outsider, outsider_watch = browser_as(live_site, people["outsider"])
    for path in (cast["path"], f"/api/v1{cast['path']}", f"/api/v1{cast['path']}/comments"):
        response = outsider.goto(live_site.url + path)
        assert response.status == 404, path
    words = " ".join(re.findall(r"[A-Za-z]{4,}", cast["title"].rsplit(".", 1)[0])[:2])
    for path in (
        "/",
        "/notifications",
        "/search?q=" + quote(words),
        "/search?q=culprit",
        "/tags/" + TAG,
        "/people/" + cast["oid"]["author"],
        "/people/" + cast["oid"]["reader"],
        "/api/v1/search?q=" + quote(words),
        "/api/v1/notifications",
        f"/api/v1/people/{cast['oid']['author']}/documents",
        "/api/v1/tags/" + TAG,
    ):
        response = outsider.goto(live_site.url + path)
        assert response.status == 200, path
        content = outsider.content()
        assert cast["title"] not in content, path
        for said in SAID:
            assert said not in content, path
    expect(outsider.locator("body")).not_to_contain_text(cast["title"])

    assert author_watch.fired == reader_watch.fired == outsider_watch.fired == []


def test_the_one_reply_and_edit_form_moves_to_the_comment(
    live_site, browser_as, chromium, people: dict[str, str], cast: dict[str, Any]
) -> None:
    """Comments carry no forms of their own: plaza.js moves the shared reply or edit form
    into the comment opened; without script, "Reply" leads to a page showing that form."""
    url = live_site.url + cast["path"]
    writer = live_site.api(people["author"])
    api = f"{live_site.url}/api/v1{cast['path']}/comments"
    first, second = (
        writer.post(api, json={"body": body}).json()["id"]
        for body in ("Shared form **one**", "Shared form two")
    )
    author, watch = browser_as(live_site, people["author"])
    author.goto(url)
    mine = author.locator(f"#comment-{first}")
    mine.locator("> .actions details.more > summary").click()
    mine.locator("> .actions details.more").get_by_role("link", name="Edit").click()
    expect(author.locator(f"#edit-{first}")).to_have_text("Shared form **one**")
    author.locator(f"#edit-{first}").fill("Shared form *edited*")
    mine.locator("> .actions details.edit").get_by_role("button", name="Save").click()
    expect(mine.locator("> .body em")).to_have_text("edited")
    author.wait_for_load_state()  # the reloaded page's scripts share the reply form

    author.locator(f"#comment-{first} > .actions details.reply > summary").click()
    expect(author.locator(f"#reply-{first}")).to_be_visible()
    author.locator(f"#comment-{second} > .actions details.reply > summary").click()
    expect(author.locator(f"#reply-{second}")).to_be_visible()
    expect(author.locator(f"#comment-{first} > .actions details.reply")).not_to_have_attribute(
        "open", ""
    )
    expect(author.locator("textarea[id^='reply-']")).to_have_count(1)
    author.locator(f"#reply-{second}").fill("Answer to two")
    author.locator(f"#comment-{second} > .actions details.reply").get_by_role(
        "button", name="Reply"
    ).click()
    expect(author.locator(f"#comment-{second} ol.replies .body")).to_have_text("Answer to two")
    assert watch.fired == []

    context = chromium.new_context(ignore_https_errors=True, java_script_enabled=False)
    try:
        reader = context.new_page()
        sign_in_page(reader, live_site, people["reader"])
        reader.goto(url)
        thread = reader.locator(f"#comment-{first}")
        thread.locator("> .actions details.reply > summary").click()
        thread.locator("> .actions details.reply a").click()
        reader.locator(f"#reply-{first}").fill("Answered without script")
        reader.locator("#reply").get_by_role("button", name="Reply").click()
        expect(thread.locator("ol.replies .body")).to_have_text("Answered without script")
    finally:
        context.close()
