"""Chat in real headless Chromium when the connection drops (see test_chat.py for the rest).

- A message sent while the receiver's browser is offline arrives once when it is back, over
  the resumed event stream.
- A message typed while the SENDER is offline waits in the outbox (localStorage), also across
  a reload, and is delivered once when the connection returns.
- A POST whose answer is lost is retried with the same client key and still makes one message.
"""

from __future__ import annotations

import json
import time
from typing import Any, NamedTuple

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.chat_page import (
    event_streams,
    messages,
    open_chat,
    outbox,
    room_id_of,
    room_messages,
    send,
    shows_once,
    stream_open,
)
from tests.browser.conftest import ScriptWatch


class Talk(NamedTuple):
    """The author and the reader, each on the document's page with its chat open."""

    author: Page
    author_watch: ScriptWatch
    reader: Page
    reader_watch: ScriptWatch


@pytest.fixture
def talk(live_site, browser_as, people: dict[str, str], cast: dict[str, Any]) -> Talk:
    author, author_watch = browser_as(live_site, people["author"])
    reader, reader_watch = browser_as(live_site, people["reader"])
    open_chat(author, live_site.url + cast["path"])
    open_chat(reader, live_site.url + cast["path"])
    return Talk(author, author_watch, reader, reader_watch)


def test_a_message_sent_while_the_receiver_is_offline_arrives_once(talk: Talk) -> None:
    author, reader = talk.author, talk.reader
    streams = event_streams(reader)

    reader.context.set_offline(True)
    expect(reader.locator("#chat-config")).not_to_have_attribute("data-stream", "open")
    send(author, "Sent while you were away")
    shows_once(author, "Sent while you were away")
    reader.wait_for_timeout(1_000)
    expect(messages(reader, "Sent while you were away")).to_have_count(0)

    reader.context.set_offline(False)
    shows_once(reader, "Sent while you were away", timeout=10_000)
    stream_open(reader)
    assert len(streams) == 1 and "after=" in streams[0]  # resumed where it left off
    send(author, "And one after")
    shows_once(reader, "And one after")
    shows_once(reader, "Sent while you were away")
    assert talk.reader_watch.fired == []


def test_a_message_typed_while_the_sender_is_offline_is_delivered_once_when_back(
    talk: Talk, live_site, people: dict[str, str], cast: dict[str, Any]
) -> None:
    author, reader = talk.author, talk.reader
    room_id = room_id_of(author)
    text = "Typed on the train"

    author.context.set_offline(True)
    send(author, text)
    waiting = messages(author, text)
    expect(waiting).to_have_class("chat-message pending")
    expect(waiting.locator(".state")).to_have_text("waiting for the connection…")
    assert [(i["roomId"], i["body"]) for i in outbox(author)] == [(room_id, text)]
    key = outbox(author)[0]["clientKey"]

    # Back online, but the sends fail: the message stays in the outbox, also across a reload.
    refused: list[str] = []
    author.route("**/api/v1/rooms/*/messages", lambda route: fail_posts(route, refused))
    author.context.set_offline(False)
    wait_until(author, lambda: len(refused) >= 1)
    open_chat(author, live_site.url + cast["path"])
    expect(messages(author, text)).to_have_class("chat-message pending")
    assert [i["clientKey"] for i in outbox(author)] == [key]
    expect(messages(reader, text)).to_have_count(0)

    author.unroute("**/api/v1/rooms/*/messages")
    shows_once(author, text, timeout=10_000)
    shows_once(reader, text)
    wait_until(author, lambda: outbox(author) == [])
    sent = [m for m in room_messages(live_site, people["author"], room_id) if m["body"] == text]
    assert [m["clientKey"] for m in sent] == [key]
    assert talk.author_watch.fired == []


def test_a_send_whose_answer_is_lost_is_retried_and_makes_one_message(
    talk: Talk, live_site, people: dict[str, str]
) -> None:
    author, reader = talk.author, talk.reader
    room_id = room_id_of(author)
    text = "Did this go through?"

    # The author's stream is down, so only the POST's answer can confirm the message.
    author.route("**/api/v1/events*", lambda route: route.abort())
    author.context.set_offline(True)
    author.context.set_offline(False)
    expect(author.locator("#chat-config")).to_have_attribute("data-stream", "down")

    # The first two attempts reach the server, which commits; their answers are lost.
    keys: list[str] = []
    author.route("**/api/v1/rooms/*/messages", lambda route: lose_answers(route, keys, 2))
    send(author, text)
    shows_once(reader, text)
    shows_once(author, text, timeout=10_000)
    assert len(keys) == 3 and len(set(keys)) == 1
    sent = [m for m in room_messages(live_site, people["author"], room_id) if m["body"] == text]
    assert [m["clientKey"] for m in sent] == keys[:1]
    wait_until(author, lambda: outbox(author) == [])


def fail_posts(route: Route, refused: list[str]) -> None:
    if route.request.method != "POST":
        route.continue_()
        return
    refused.append(route.request.url)
    route.abort("internetdisconnected")


def lose_answers(route: Route, keys: list[str], how_many: int) -> None:
    """Sends the POST on to the server, then drops its answer (`how_many` times)."""
    if route.request.method != "POST":
        route.continue_()
        return
    keys.append(json.loads(route.request.post_data or "{}").get("client_key"))
    if len(keys) > how_many:
        route.continue_()
        return
    answer = route.fetch()
    assert answer.status == 201, answer.text()
    route.abort("connectionreset")


def wait_until(page: Page, condition, seconds: float = 10.0) -> None:
    """Polls `condition`, letting Playwright dispatch events (routes) in between."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)
