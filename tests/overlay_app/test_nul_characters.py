"""NUL characters (U+0000) in any text a request carries are refused with one 400, on both
engines: PostgreSQL's text cannot hold them (a write would fail with a 500), so SQLite refuses
them too and a deployment answers the same whichever it runs on. Nothing is written.

JSON bodies are checked where they are parsed (errors.RequestJSON); the path, the query, the
headers and form fields before any hook or view (errors.refuse_nul_fields)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.overlay_app.api_calls import answer, comments_path, posted
from tests.overlay_app.app_rows import rows

NUL_TEXT = "NUL characters (U+0000) are not allowed in text: remove them."
REFUSED = {"error": {"code": "badRequest", "message": NUL_TEXT}}


def post_raw(api, path: str, text: str):
    """POSTs `text` as it is, as an application/json body."""
    return api.call("POST", path, data=text, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [
        '{"reason": "\\u0000spam"}',
        '{"reason": "fine", "\\u0000": 1}',  # in a key, too
        '{"reason": ["nested", {"deeper": "a\\u0000b"}]}',
    ],
)
def test_a_report_holding_a_nul_is_refused_and_nothing_is_stored(
    app, api, people, document, body: str
) -> None:
    author, reader = api(people["author"]), api(people["reader"])
    comment = posted(author, document, "A comment to report")
    refused = post_raw(reader, f"/api/v1/comments/{comment['id']}/report", body)
    assert answer(refused, 400) == REFUSED
    assert refused.get_data(as_text=True).count("\n") == 1  # one line of JSON
    assert rows(app, "SELECT count(*) FROM reports") == [(0,)]


def test_a_comment_or_chat_message_holding_a_nul_is_refused(app, api, people, document) -> None:
    author = api(people["author"])
    assert answer(author.post(comments_path(document), json={"body": "a\x00b"}), 400) == REFUSED
    room = answer(author.post("/api/v1/documents/{}/{}/room".format(*document)), 201)["id"]
    sent = author.post(f"/api/v1/rooms/{room}/messages", json={"body": "hi", "client_key": "\x00"})
    assert answer(sent, 400) == REFUSED
    assert rows(app, "SELECT count(*) FROM comments") == [(0,)]
    assert rows(app, "SELECT count(*) FROM messages") == [(0,)]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/search?q=a%00b",
        "/api/v1/notifications?limit=%00",
        "/api/v1/comments/%00",  # in the path
    ],
)
def test_a_nul_in_the_query_or_the_path_is_refused(api, people, path: str) -> None:
    assert answer(api(people["reader"]).get(path), 400) == REFUSED


def test_a_nul_in_an_idempotency_key_is_refused(app, api, people, document) -> None:
    refused = api(people["author"]).post(
        comments_path(document), json={"body": "hello"}, headers={"Idempotency-Key": "k\x00"}
    )
    assert answer(refused, 400) == REFUSED
    assert rows(app, "SELECT count(*) FROM comments") == [(0,)]
    assert rows(app, "SELECT count(*) FROM idempotency") == [(0,)]


def test_other_control_characters_are_still_text(app, api, people, document) -> None:
    created = posted(api(people["author"]), document, "tab\there, bell\x07 too")
    assert created["body"] == "tab\there, bell\x07 too"
    assert rows(app, "SELECT count(*) FROM comments") == [(1,)]


def form_post(browser, path: str, data: dict[str, Any], csrf: str | None):
    return browser.post(path, data={**data, "csrf_token": csrf})


def test_a_form_holding_a_nul_is_refused_and_nothing_is_stored(
    app, api, people, document, sign_in, csrf_token
) -> None:
    browser = app.test_client()
    sign_in(browser, people["author"])
    token = csrf_token(browser)
    drive_id, item_id = document
    refused = form_post(
        browser, f"/documents/{drive_id}/{item_id}/comments", {"body": "a\x00b"}, token
    )
    assert refused.status_code == 400
    assert refused.mimetype == "text/html"
    assert NUL_TEXT in refused.get_data(as_text=True)
    comment = posted(api(people["reader"]), document, "A comment to report")
    reported = form_post(browser, f"/comments/{comment['id']}/report", {"reason": "\x00"}, token)
    assert reported.status_code == 400
    assert rows(app, "SELECT count(*) FROM comments") == [(1,)]
    assert rows(app, "SELECT count(*) FROM reports") == [(0,)]
