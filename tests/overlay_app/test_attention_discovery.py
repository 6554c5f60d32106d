"""Discovery is not access in the feed and in watching: a document the reader reaches only
through an organisation-wide link (the tenant of test_discovery.py, whose fixtures this
module reuses) is neither in their feed nor watched for them, until they interact with it."""

from __future__ import annotations

from tests.overlay_app.api_calls import answer
from tests.overlay_app.test_discovery import TAG, discussed, linked  # noqa: F401 (fixtures)


def feed_keys(caller) -> list[tuple[str, str]]:
    entries = answer(caller.get("/api/v1/feed"))["entries"]
    return [(e["document"]["driveId"], e["document"]["itemId"]) for e in entries]


def test_the_feed_and_watching_leave_a_link_only_document_out(linked, discussed):  # noqa: F811
    _, callers = discussed
    reader, author = callers["reader"], callers["author"]
    answer(reader.put("/api/v1/follows", json={"kind": "tag", "target": TAG}))
    answer(reader.put("/api/v1/follows", json={"kind": "person", "target": linked.oid["author"]}))
    answer(reader.put("/api/v1/levels", json={"kind": "tag", "target": TAG, "level": "watching"}))
    assert feed_keys(reader) == [linked.other]
    for key in (linked.linked, linked.other):
        path = "/api/v1/documents/{}/{}/comments".format(*key)
        assert author.post(path, json={"body": "more"}).status_code == 201
    notified = answer(reader.get("/api/v1/notifications"))["notifications"]
    assert [(n["kind"], n["document"]["itemId"]) for n in notified] == [
        ("watched", linked.other[1])
    ]
    # Once the reader takes part, the linked document is theirs to be told about.
    path = "/api/v1/documents/{}/{}/comments".format(*linked.linked)
    assert reader.post(path, json={"body": "I read it"}).status_code == 201
    assert feed_keys(reader) == [linked.linked, linked.other]
