"""What every page owes a reader regardless of feature, in real headless Chromium: a skip
link reached by the first Tab, replies under a deleted comment that read like any other
reply, and mentions told apart from the sentence by more than colour."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import expect


def test_first_tab_reaches_a_skip_link_to_the_content(
    live_site, browser_as, people: dict[str, str], document: tuple[str, str]
) -> None:
    page, watch = browser_as(live_site, people["reader"])
    page.goto(live_site.url + "/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to content")
    skip.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert watch.fired == []


def test_a_reply_under_a_deleted_comment_is_not_greyed(
    live_site, browser_as, people: dict[str, str], document: tuple[str, str]
) -> None:
    drive_id, item_id = document
    api = f"{live_site.url}/api/v1/documents/{drive_id}/{item_id}/comments"
    author, reader = live_site.api(people["author"]), live_site.api(people["reader"])
    parent = author.post(api, json={"body": "To be deleted"}).json()["id"]
    reply = reader.post(api, json={"body": "A reply that stays", "parent_id": parent})
    assert reply.status_code == 201
    assert author.delete(f"{live_site.url}/api/v1/comments/{parent}").status_code == 204

    page, _ = browser_as(live_site, people["reader"])
    page.goto(f"{live_site.url}/documents/{drive_id}/{item_id}")
    thread = page.locator(f"#comment-{parent}")
    styles = "e => [getComputedStyle(e).fontStyle, getComputedStyle(e).color]"
    deleted: Any = thread.locator("> .body").evaluate(styles)
    reply: Any = thread.locator("ol.replies .body", has_text="A reply that stays").evaluate(styles)
    assert deleted[0] == "italic"
    assert reply[0] == "normal"
    assert reply[1] != deleted[1]


def test_a_mention_is_underlined(
    live_site, browser_as, plaza_env: Any, people: dict[str, str], document: tuple[str, str]
) -> None:
    drive_id, item_id = document
    reader = plaza_env.tenant.user(people["reader"])
    api = f"{live_site.url}/api/v1/documents/{drive_id}/{item_id}/comments"
    body = f"Over to you @[{reader.display_name}]({reader.id}) now"
    assert live_site.api(people["author"]).post(api, json={"body": body}).status_code == 201

    page, _ = browser_as(live_site, people["author"])
    page.goto(f"{live_site.url}/documents/{drive_id}/{item_id}")
    mention = page.locator("a.mention", has_text="@" + reader.display_name).last
    line = mention.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert line == "underline"


def test_a_hidden_document_and_a_missing_one_show_the_same_helpful_404(
    live_site, browser_as, people: dict[str, str], document: tuple[str, str]
) -> None:
    drive_id, item_id = document
    page, _ = browser_as(live_site, people["outsider"])
    texts = []
    for path in (f"/documents/{drive_id}/{item_id}", f"/documents/{drive_id}/no-such-item"):
        answer = page.goto(live_site.url + path)
        assert answer is not None and answer.status == 404
        texts.append(page.locator("main").inner_text())
    assert texts[0] == texts[1]
    assert "It may not exist, or you may not have access to it in SharePoint." in texts[0]
    page.get_by_label("Search for it instead").fill("budget")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(live_site.url + "/search?q=budget")


def test_times_say_how_long_ago_with_the_exact_time_at_hand(
    live_site, browser_as, people: dict[str, str], document: tuple[str, str]
) -> None:
    drive_id, item_id = document
    api = f"{live_site.url}/api/v1/documents/{drive_id}/{item_id}/comments"
    made = live_site.api(people["author"]).post(api, json={"body": "Timed words"}).json()
    page, watch = browser_as(live_site, people["reader"])
    page.goto(f"{live_site.url}/documents/{drive_id}/{item_id}")
    time = page.locator(f"#comment-{made['id']} > .meta time")
    expect(time).to_have_text("just now")
    stamp = datetime.fromisoformat(made["createdAt"].replace("Z", "+00:00")).astimezone(UTC)
    expect(time).to_have_attribute("title", f"{stamp.day} {stamp:%b %Y, %H:%M} UTC")
    page.locator(f"#comment-{made['id']} > .meta a.permalink").focus()
    after = time.evaluate("e => getComputedStyle(e, '::after').content")
    assert after == f'" · {stamp.day} {stamp:%b %Y, %H:%M} UTC"'
    assert watch.fired == []


def test_no_page_scrolls_sideways_on_a_phone(
    live_site, browser_as, plaza_env: Any, people: dict[str, str], document: tuple[str, str]
) -> None:
    drive_id, item_id = document
    reader = plaza_env.tenant.user(people["reader"])
    page, watch = browser_as(live_site, people["author"])
    page.set_viewport_size({"width": 390, "height": 800})
    paths = [
        "/",
        f"/documents/{drive_id}/{item_id}",
        "/people",
        f"/people/{reader.id}",
        "/notifications",
        "/chat",
        "/search?q=report",
    ]
    wide = []
    for path in paths:
        page.goto(live_site.url + path)
        sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if sizes[0] > sizes[1]:
            wide.append((path, sizes))
    assert wide == []
    assert watch.fired == []


def test_a_comments_actions_take_one_row(
    live_site, browser_as, people: dict[str, str], document: tuple[str, str]
) -> None:
    drive_id, item_id = document
    api = f"{live_site.url}/api/v1/documents/{drive_id}/{item_id}/comments"
    made = live_site.api(people["author"]).post(api, json={"body": "One row"}).json()
    page, _ = browser_as(live_site, people["author"])
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_site.url}/documents/{drive_id}/{item_id}")
    actions = page.locator(f"#comment-{made['id']} > .actions > *")
    tops = actions.evaluate_all(
        "ns => ns.filter(n => n.getClientRects().length)"
        ".map(n => Math.round(n.getBoundingClientRect().top))"
    )
    assert len(tops) == 4 and len(set(tops)) == 1, tops  # like, count, reply, more


def test_who_liked_a_comment_opens_from_the_keyboard(
    live_site, browser_as, plaza_env: Any, people: dict[str, str], document: tuple[str, str]
) -> None:
    drive_id, item_id = document
    api = f"{live_site.url}/api/v1/documents/{drive_id}/{item_id}/comments"
    made = live_site.api(people["author"]).post(api, json={"body": "Like me"}).json()
    liked = live_site.api(people["reader"]).put(
        f"{live_site.url}/api/v1/comments/{made['id']}/like"
    )
    assert liked.status_code == 200
    page, _ = browser_as(live_site, people["author"])
    page.goto(f"{live_site.url}/documents/{drive_id}/{item_id}")
    likers = page.locator(f"#comment-{made['id']} > .actions details.likers")
    likers.locator("summary").focus()
    page.keyboard.press("Enter")
    reader = plaza_env.tenant.user(people["reader"])
    expect(likers.get_by_role("link", name=reader.display_name)).to_be_visible()
    expect(likers.locator(".like-count")).to_have_text("1 like")
