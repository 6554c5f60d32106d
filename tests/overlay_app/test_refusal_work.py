"""A hidden id and a missing one cost the same work, so no timing tells them apart.

Structural, never timed: every SQL statement a request runs on its stores is recorded
(tests/overlay_app/statement_trace.py, literals blanked), and a request for something hidden
from the caller must run exactly the statements of the same request for an id that does not
exist: comment by id, a room's messages, chat search within a room, a tag's page.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.overlay_app.conftest import Api
from tests.overlay_app.statement_trace import Statements

TAG = "hidden-work"


@pytest.fixture
def hidden(app: Flask, api, people: dict[str, str], document: tuple[str, str]):
    """Ids the outsider may not see: a comment, the document's room, a tag on the document;
    and the statement recorder (installed before the app's first request)."""
    statements = Statements(app)
    author: Api = api(people["author"])
    base = "/api/v1/documents/{}/{}".format(*document)
    comment = author.post(base + "/comments", json={"body": "hidden work"})
    assert comment.status_code == 201, comment.get_json()
    assert author.post(base + "/tags", json={"tag": TAG}).status_code == 201
    room = author.post(base + "/room")
    assert room.status_code == 201, room.get_json()
    ids = {"comment": comment.get_json()["id"], "room": room.get_json()["id"], "tag": TAG}
    return ids, statements


CASES = {
    "comment": "/api/v1/comments/{}",
    "room messages": "/api/v1/rooms/{}/messages",
    "chat search": "/api/v1/chat/search?q=work&room_id={}",
    "tag page": "/api/v1/tags/{}",
}
KINDS = {"comment": "comment", "room messages": "room", "chat search": "room", "tag page": "tag"}
EXPECTED = {"comment": 404, "room messages": 404, "chat search": 404, "tag page": 200}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hidden_id_runs_the_statements_of_a_missing_one(
    hidden, api, people: dict[str, str], case: str
) -> None:
    ids, statements = hidden
    outsider: Api = api(people["outsider"])
    url = CASES[case]
    answers = {}

    def get(target: str) -> Callable[[], None]:
        def call() -> None:
            answers[target] = outsider.get(url.format(target)).status_code

        return call

    hidden_id = ids[KINDS[case]]
    for warm in (hidden_id, "no-such-id"):  # tokens and keys fetched, caches filled
        get(warm)()
    of_hidden = statements.of(get(hidden_id))
    of_missing = statements.of(get("no-such-id"))
    assert answers == dict.fromkeys([hidden_id, "no-such-id"], EXPECTED[case])
    assert of_hidden == of_missing
    assert len(of_hidden) >= 3  # the lookups ran (not an empty trace)
