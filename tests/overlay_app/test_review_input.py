"""Odd input found by the security review: each answered 4xx with a clear message (JSON under
/api, a page elsewhere), never a 500, and nothing written.

- JSON may spell a lone surrogate ("\\ud800"), which is no character: no UTF-8 text, SQLite's
  included, can hold it.
- JSON nested deeper than Python's parser can recurse.
- Digits that are not ASCII: "²" passes str.isdigit() but int() refuses it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.overlay_app.api_calls import answer, comments_path, document_room, post
from tests.overlay_app.app_rows import rows

NOT_TEXT = (
    'The JSON body holds a "\\ud800"-style escape that is no character (a lone surrogate):'
    " send text."
)
TOO_DEEP = "The JSON body nests too deeply."
LIMIT_RULE = "limit must be a whole number from 1 to 200."
CHOOSE = "Choose a notification to mark as read."


def bad_input(message: str) -> dict[str, Any]:
    return {"error": {"code": "badRequest", "message": message}}


def post_raw(api, path: str, text: str):
    """POSTs `text` as it is, as an application/json body."""
    return api.call("POST", path, data=text, headers={"Content-Type": "application/json"})


# -- JSON bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"body": "half a pair \\ud800"}',
        '{"body": "fine", "parent_id": "\\udfff"}',
        '{"body": "fine", "\\ud83d": 1}',  # in a key, too
    ],
)
def test_a_comment_with_a_lone_surrogate_is_refused_and_nothing_is_written(
    app, api, people, document, body
):
    author = api(people["author"])
    assert answer(post_raw(author, comments_path(document), body), 400) == bad_input(NOT_TEXT)
    assert rows(app, "SELECT count(*) FROM comments") == [(0,)]


def test_a_chat_message_or_channel_with_a_lone_surrogate_is_refused(app, api, people, document):
    author = api(people["author"])
    room = document_room(author, document)["id"]
    messages = f"/api/v1/rooms/{room}/messages"
    for path, text in [
        (messages, '{"body": "\\ud800"}'),
        (messages, '{"body": "hello", "client_key": "\\ud800"}'),
        ("/api/v1/rooms", '{"kind": "channel", "name": "news \\udc00"}'),
    ]:
        assert answer(post_raw(author, path, text), 400) == bad_input(NOT_TEXT), path
    assert rows(app, "SELECT count(*) FROM messages") == [(0,)]
    assert rows(app, "SELECT kind FROM rooms") == [("document",)]


def test_surrogate_pairs_are_ordinary_text(app, api, people, document):
    """A pair spelled in escapes is one character (here an emoji), and welcome."""
    author = api(people["author"])
    created = answer(
        post_raw(author, comments_path(document), '{"body": "ok \\ud83d\\ude00"}'), 201
    )
    assert created["body"] == "ok \U0001f600"


@pytest.mark.parametrize("text", ["[" * 100_000, '{"body": ' + "[" * 50_000 + "]" * 50_000 + "}"])
def test_json_nested_too_deeply_is_refused(app, api, people, document, text):
    author = api(people["author"])
    assert answer(post_raw(author, comments_path(document), text), 400) == bad_input(TOO_DEEP)
    assert rows(app, "SELECT count(*) FROM comments") == [(0,)]


def test_a_signed_in_browser_gets_the_same_answer(app, api, people, document, sign_in):
    browser = app.test_client()
    sign_in(browser, people["author"])
    refused = post_raw(api(browser), comments_path(document), '{"body": "\\ud800"}')
    assert answer(refused, 400) == bad_input(NOT_TEXT)


# -- numbers in the query and in forms ---------------------------------------------------------


@pytest.mark.parametrize("limit", ["²", "٣", "1²"])
def test_a_notification_limit_in_other_digits_is_refused(api, people, limit):
    reader = api(people["reader"])
    refused = reader.get("/api/v1/notifications", query_string={"limit": limit})
    assert answer(refused, 400) == bad_input(LIMIT_RULE)
    assert answer(reader.get("/api/v1/notifications?limit=3")) == {
        "unreadCount": 0,
        "notifications": [],
    }


def test_marking_a_notification_read_with_other_digits_is_refused(app, people, sign_in, csrf_token):
    browser = app.test_client()
    sign_in(browser, people["reader"])
    refused = browser.post(
        "/notifications/read", data={"id": "²", "csrf_token": csrf_token(browser)}
    )
    assert refused.status_code == 400
    assert refused.mimetype == "text/html"
    assert CHOOSE in refused.get_data(as_text=True)


def test_an_empty_chat_form_on_a_document_opens_no_room(app, people, document, sign_in, csrf_token):
    reader = app.test_client()
    sign_in(reader, people["reader"])
    drive_id, item_id = document
    sent = reader.post(
        f"/documents/{drive_id}/{item_id}/chat",
        data={"body": "   ", "csrf_token": csrf_token(reader)},
    )
    assert (sent.status_code, sent.location) == (303, f"/documents/{drive_id}/{item_id}#chat")
    page = reader.get(sent.location).get_data(as_text=True)
    assert "write something first" in page
    assert rows(app, "SELECT count(*) FROM rooms") == [(0,)]
    assert rows(app, "SELECT count(*) FROM events") == [(0,)]


def test_a_retried_post_of_a_deleted_comment_answers_without_its_words(app, api, people, document):
    author = api(people["author"])
    first = answer(post(author, document, "Secret draft terms", key="retry-1"), 201)
    assert author.delete(f"/api/v1/comments/{first['id']}").status_code == 204
    again = answer(post(author, document, "Secret draft terms", key="retry-1"), 201)
    assert again == {**first, "body": "", "bodyHtml": "", "deleted": True}
    stored = rows(app, "SELECT response FROM idempotency WHERE key = 'retry-1'")
    assert [r for (r,) in stored if "Secret" in r] == []
