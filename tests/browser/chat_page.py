"""Steps and checks on a chat page in the browser, shared by the chat test modules.

A page here is a signed-in person's tab (conftest's `browser_as`); "live" means what the
event stream delivers, which the issue wants within a second (LIVE_MS leaves slack for a
loaded 2-core machine).
"""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Page, expect

LIVE_MS = 3_000
OUTBOX_KEY = "plaza.chat.outbox.v1"  # chat_stream.js keeps unsent messages under this key
# Message ids are random (uuid4): they tell nothing of other rooms' messages.
MESSAGE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
ROOM_ID = re.compile(r"^[0-9a-f-]{8,}$")


def stream_open(page: Page) -> None:
    """Waits until the page's event stream is connected."""
    expect(page.locator("#chat-config")).to_have_attribute("data-stream", "open")


def open_chat(page: Page, url: str) -> None:
    assert page.goto(url).status == 200
    stream_open(page)


def send(page: Page, text: str) -> None:
    """Types a message in the page's composer and sends it with Enter."""
    field = page.locator(".chat-composer textarea[name=body]")
    field.fill(text)
    field.press("Enter")
    expect(field).to_have_value("")


def messages(page: Page, text: str):
    return page.locator(".chat-messages li.chat-message", has_text=text)


def shows_once(page: Page, text: str, timeout: int = LIVE_MS) -> None:
    """The message is on the page exactly once, delivered (not waiting in the outbox)."""
    expect(messages(page, text)).to_have_count(1, timeout=timeout)
    expect(messages(page, text)).not_to_have_class("pending", timeout=timeout)
    expect(messages(page, text)).to_have_attribute("data-message-id", MESSAGE_ID)


def event_streams(page: Page) -> list[str]:
    """Records the page's requests to the event stream from now on."""
    opened: list[str] = []
    page.on("request", lambda r: opened.append(r.url) if "/api/v1/events" in r.url else None)
    return opened


def outbox(page: Page) -> list[dict[str, Any]]:
    return json.loads(page.evaluate(f"window.localStorage.getItem('{OUTBOX_KEY}') || '[]'"))


def room_messages(site: Any, upn: str, room_id: str) -> list[dict[str, Any]]:
    """The room's messages as the API answers them to `upn`, oldest first."""
    answer = site.api(upn).get(f"{site.url}/api/v1/rooms/{room_id}/messages?limit=100")
    assert answer.status_code == 200, answer.text
    return answer.json()["messages"]


def room_id_of(page: Page) -> str:
    room = page.locator(".chat-room[data-room-id]").first
    expect(room).to_have_attribute("data-room-id", ROOM_ID)
    value = room.get_attribute("data-room-id")
    assert value
    return value
