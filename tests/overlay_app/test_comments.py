"""Comments through HTTP: threads, body limits, edit and delete rules, idempotent retries,
archived documents and the queries' indexes. Exact values throughout; the session + CSRF page
forms are in test_comment_forms.py."""

from __future__ import annotations

from typing import Any

from overlay_app import db
from overlay_app.discussion import store as discussion
from tests.overlay_app.api_calls import (
    NOT_FOUND,
    assert_two_writes_a_minute,
    comments_path,
    post,
    posted,
)
from tests.overlay_app.app_rows import id_and_name, rows, title_of
from tests.postgres import sqlite_only

ARCHIVED = "this document was deleted in SharePoint; its discussion is archived"
MISSING = ("b!no-such-drive", "NO-SUCH-ITEM")


# -- helpers of this module (shared ones: app_rows.py, api_calls.py) -------------------------


def shape(node: dict[str, Any]) -> tuple:
    """(author name, body, [replies...]) of a comment tree."""
    author = node["author"]["displayName"] if node["author"] else None
    return (author, node["body"], [shape(reply) for reply in node["replies"]])


# -- threads -------------------------------------------------------------------------------


def test_replies_nest_three_deep_and_read_the_same_for_every_viewer(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    author_id, author_name = id_and_name(app, people["author"])
    reader_id, reader_name = id_and_name(app, people["reader"])
    root = posted(author, document, "Is **section 2** final?")
    reply = posted(reader, document, "Not yet", parent_id=root["id"])
    deeper = posted(author, document, "Then *wait*", parent_id=reply["id"])
    deepest = posted(reader, document, "Will do", parent_id=deeper["id"])
    second = posted(reader, document, "Another topic")

    assert root == {
        "id": root["id"],
        "documentId": {"driveId": document[0], "itemId": document[1]},
        "parentId": None,
        "author": {"id": author_id, "displayName": author_name},
        "bodyHtml": "<p>Is <strong>section 2</strong> final?</p>",
        "body": "Is **section 2** final?",
        "createdAt": root["createdAt"],
        "editedAt": None,
        "deleted": False,
        "likeCount": 0,
        "likedByMe": False,
        "replies": [],
    }
    assert root["createdAt"].endswith("Z") and len(root["createdAt"]) == 24
    listing = reader.get(comments_path(document)).get_json()
    assert listing["commentCount"] == 5
    assert [shape(node) for node in listing["comments"]] == [
        (author_name, "Is **section 2** final?", [
            (reader_name, "Not yet", [
                (author_name, "Then *wait*", [(reader_name, "Will do", [])])])]),
        (reader_name, "Another topic", []),
    ]  # fmt: skip
    thread = listing["comments"][0]
    assert thread["replies"][0]["parentId"] == root["id"]
    assert thread["replies"][0]["replies"][0]["id"] == deeper["id"]
    assert thread["replies"][0]["replies"][0]["replies"][0]["id"] == deepest["id"]
    assert thread["replies"][0]["replies"][0]["bodyHtml"] == "<p>Then <em>wait</em></p>"
    assert author.get(comments_path(document)).get_json() == listing
    one = author.get(f"/api/v1/comments/{reply['id']}").get_json()
    assert one == thread["replies"][0]
    assert second["parentId"] is None and reader_id != author_id
    assert rows(app, "SELECT count(*) FROM comments") == [(5,)]


def test_a_reply_must_name_a_live_comment_of_the_same_document(app, api, people, document):
    author = api(people["author"])
    answer = post(author, document, "Orphan", parent_id="no-such-comment")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["message"] == '"parent_id" is not a comment on this document.'
    root = posted(author, document, "Root")
    assert author.delete(f"/api/v1/comments/{root['id']}").status_code == 204
    answer = post(author, document, "Too late", parent_id=root["id"])
    assert (answer.status_code, answer.get_json()["error"]["message"]) == (
        409,
        "That comment was deleted, so it cannot be replied to.",
    )
    assert rows(app, "SELECT body FROM comments") == [("",)]


# -- body limits ---------------------------------------------------------------------------


def test_body_limits(app, api, people, document):
    author = api(people["author"])
    for body in ("", "   \n\t "):
        answer = post(author, document, body)
        assert answer.status_code == 400
        assert answer.get_json() == {
            "error": {"code": "badRequest", "message": "write something first"}
        }
    too_long = post(author, document, "x" * 10_001)
    assert too_long.status_code == 413
    assert too_long.get_json() == {
        "error": {
            "code": "payloadTooLarge",
            "message": (
                "A comment can be at most 10,000 characters; this one has 10,001. "
                "Shorten it or split it into replies."
            ),
        }
    }
    not_text = author.post(comments_path(document), json={"body": 42})
    assert (not_text.status_code, not_text.get_json()["error"]["message"]) == (
        400,
        '"body" must be text: write something first',
    )
    not_json = author.post(
        comments_path(document), data="body=hi", content_type="application/x-www-form-urlencoded"
    )
    assert not_json.status_code == 400
    assert rows(app, "SELECT count(*) FROM comments") == [(0,)]
    assert posted(author, document, "y" * 10_000)["body"] == "y" * 10_000


# -- who may see and change what -----------------------------------------------------------


def test_people_without_access_get_the_same_404_as_for_a_missing_document(
    app, api, people, document
):
    comment = posted(api(people["author"]), document, "Confidential figures inside")
    title = title_of(app, document)
    missing = api(people["outsider"]).get(comments_path(MISSING))
    assert (missing.status_code, missing.get_json()) == (404, NOT_FOUND)
    for upn in (people["outsider"], people["guest"]):
        caller = api(upn)
        answers = [
            caller.get(comments_path(document)),
            post(caller, document, "Let me in"),
            caller.get(f"/api/v1/comments/{comment['id']}"),
            caller.patch(f"/api/v1/comments/{comment['id']}", json={"body": "mine now"}),
            caller.delete(f"/api/v1/comments/{comment['id']}"),
            caller.get(
                "/api/v1/mentions/suggest",
                query_string={"drive_id": document[0], "item_id": document[1], "q": ""},
            ),
        ]
        for answer in answers:
            assert answer.status_code == 404
            assert answer.get_data() == missing.get_data()
            assert title not in answer.get_data(as_text=True)
            assert title not in str(answer.headers)
    assert rows(app, "SELECT body FROM comments") == [("Confidential figures inside",)]


def test_only_the_author_edits_and_deletes(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    comment = posted(author, document, "First draft")
    path = f"/api/v1/comments/{comment['id']}"

    refused = reader.patch(path, json={"body": "Hijacked"})
    assert (refused.status_code, refused.get_json()) == (
        403,
        {"error": {"code": "forbidden", "message": "You can only edit your own comments."}},
    )
    refused = reader.delete(path)
    assert (refused.status_code, refused.get_json()["error"]["message"]) == (
        403,
        "You can only delete your own comments.",
    )

    edited = author.patch(path, json={"body": "Second _draft_"})
    assert edited.status_code == 200
    body = edited.get_json()
    assert (body["id"], body["body"], body["bodyHtml"]) == (
        comment["id"],
        "Second _draft_",
        "<p>Second <em>draft</em></p>",
    )
    assert body["editedAt"] >= body["createdAt"] == comment["createdAt"]
    empty = author.patch(path, json={"body": " "})
    assert (empty.status_code, empty.get_json()["error"]["message"]) == (
        400,
        "write something first",
    )
    assert rows(app, "SELECT body, body_html FROM comments") == [
        ("Second _draft_", "<p>Second <em>draft</em></p>")
    ]


def test_deleted_comment_with_replies_shows_as_deleted_and_without_disappears(
    app, api, people, document
):
    author, reader = api(people["author"]), api(people["reader"])
    reader_id, reader_name = id_and_name(app, people["reader"])
    root = posted(author, document, "Root words")
    reply = posted(reader, document, "Reply words", parent_id=root["id"])
    lonely = posted(author, document, "Nobody answers this")

    assert author.delete(f"/api/v1/comments/{root['id']}").status_code == 204
    assert author.delete(f"/api/v1/comments/{lonely['id']}").status_code == 204
    listing = reader.get(comments_path(document)).get_json()
    assert listing["commentCount"] == 1
    assert len(listing["comments"]) == 1
    stub = listing["comments"][0]
    assert {k: stub[k] for k in ("id", "author", "body", "bodyHtml", "deleted", "likeCount")} == {
        "id": root["id"],
        "author": None,
        "body": "",
        "bodyHtml": "",
        "deleted": True,
        "likeCount": 0,
    }
    assert [(r["id"], r["author"], r["body"]) for r in stub["replies"]] == [
        (reply["id"], {"id": reader_id, "displayName": reader_name}, "Reply words")
    ]
    assert reader.get(f"/api/v1/comments/{lonely['id']}").status_code == 404
    again = author.delete(f"/api/v1/comments/{root['id']}")
    assert (again.status_code, again.get_json()["error"]["message"]) == (
        409,
        "That comment was deleted.",
    )
    # The last reply goes: the deleted root has nothing left to hold up.
    assert reader.delete(f"/api/v1/comments/{reply['id']}").status_code == 204
    assert reader.get(comments_path(document)).get_json() == {"commentCount": 0, "comments": []}
    assert (
        rows(app, "SELECT body, body_html, deleted_at IS NOT NULL FROM comments")
        == [("", "", 1)] * 3
    )


# -- idempotency ---------------------------------------------------------------------------


def test_idempotent_retries_answer_the_original_without_a_duplicate(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    first = post(author, document, "Exactly once", key="key-1")
    retry = post(author, document, "Exactly once", key="key-1")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert retry.headers["Location"] == f"/api/v1/comments/{first.get_json()['id']}"

    clash = post(author, document, "Something else", key="key-1")
    assert (clash.status_code, clash.get_json()) == (
        409,
        {
            "error": {
                "code": "conflict",
                "message": (
                    "This Idempotency-Key was already used for a different request; "
                    "use a new key for a new comment."
                ),
            }
        },
    )
    other_person = post(reader, document, "Exactly once", key="key-1")  # keys are per person
    assert other_person.status_code == 201
    assert other_person.get_json()["id"] != first.get_json()["id"]
    assert rows(app, "SELECT body FROM comments ORDER BY rowid") == [
        ("Exactly once",),
        ("Exactly once",),
    ]
    assert rows(
        app,
        "SELECT key, status FROM idempotency ORDER BY person_id = ?",
        [id_and_name(app, people["author"])[0]],
    ) == [("key-1", 201), ("key-1", 201)]
    assert post(author, document, "x", key="k" * 201).status_code == 400


def test_rate_limited_writes_leave_nothing_behind_and_retries_do_not_count(
    make_app, api, people, document
):
    app = make_app(writes_per_minute=2)
    author = api(people["author"], app)
    assert_two_writes_a_minute(lambda body, key=None: post(author, document, body, key=key))
    assert rows(app, "SELECT body FROM comments ORDER BY rowid") == [("one",), ("two",)]


# -- archived documents --------------------------------------------------------------------


def test_archived_document_keeps_its_discussion_read_only(
    make_app, fresh_plaza_env, api, people, document, resync
):
    app = make_app(env=fresh_plaza_env)
    author = api(people["author"], app)
    comment = posted(author, document, "Before the deletion")
    fresh_plaza_env.control("DELETE", "/items/{}/{}".format(*document))
    resync(app, people=False, documents=True)

    listing = author.get(comments_path(document))
    assert listing.status_code == 200
    assert [c["body"] for c in listing.get_json()["comments"]] == ["Before the deletion"]
    conflict = {"error": {"code": "conflict", "message": ARCHIVED}}
    path = f"/api/v1/comments/{comment['id']}"
    for answer in (
        post(author, document, "After"),
        post(author, document, "Reply after", parent_id=comment["id"]),
        author.patch(path, json={"body": "Changed"}),
        author.delete(path),
        author.put(f"{path}/like"),
        author.put("/api/v1/documents/{}/{}/like".format(*document)),
    ):
        assert (answer.status_code, answer.get_json()) == (409, conflict)
    assert rows(app, "SELECT body, deleted_at FROM comments") == [("Before the deletion", None)]


# -- query plans ---------------------------------------------------------------------------


@sqlite_only("its query plans")
def test_the_document_page_queries_use_their_indexes(app):
    params = {"drive_id": "b!d", "item_id": "i"}
    with app.app_context():
        plans = [
            [row[3] for row in db.social().execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            for sql in (discussion.COMMENTS_SQL, discussion.COMMENT_LIKES_SQL)
        ]
    assert plans[0] == [
        "SEARCH comments USING INDEX comments_by_document (drive_id=? AND item_id=?)"
    ]
    assert plans[1][:2] == [
        "SEARCH c USING INDEX comments_by_document (drive_id=? AND item_id=?)",
        "SEARCH l USING INDEX sqlite_autoindex_comment_likes_1 (comment_id=?)",
    ]
