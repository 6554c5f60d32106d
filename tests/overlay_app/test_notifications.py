"""Notifications through HTTP: who gets told about mentions, replies and likes (never oneself),
read and unread, the page, and hiding everything about a document once access is revoked."""

from __future__ import annotations

from typing import Any

from flask import Flask

from overlay_app import db
from overlay_app.notifications import store as notifications
from tests.overlay_app import api_calls
from tests.overlay_app.api_calls import comments_path, posted
from tests.overlay_app.app_rows import rows, title_of, who
from tests.postgres import sqlite_only

# -- helpers of this module (shared ones: app_rows.py, api_calls.py) -------------------------


def mention(app: Flask, upn: str) -> str:
    return api_calls.mention(who(app, upn))


def inbox(api) -> dict[str, Any]:
    answer = api.get("/api/v1/notifications")
    assert answer.status_code == 200
    return answer.get_json()


def summary(listing: dict[str, Any]) -> list[tuple]:
    return [
        (n["kind"], n["actor"]["displayName"], n["commentId"], n["excerpt"], n["read"])
        for n in listing["notifications"]
    ]


# -- who is told ---------------------------------------------------------------------------


def test_mentions_replies_and_likes_reach_the_right_people_and_never_oneself(
    app, api, people, document
):
    author, reader = api(people["author"]), api(people["reader"])
    a, r = who(app, people["author"]), who(app, people["reader"])
    title = title_of(app, document)

    question = posted(author, document, f"{mention(app, people['reader'])} can you check **this**?")
    own_reply = posted(
        author, document, f"Also me: {mention(app, people['author'])}", parent_id=question["id"]
    )
    answer = posted(reader, document, "Checked", parent_id=question["id"])
    both = posted(
        reader, document, f"{mention(app, people['author'])} see above", parent_id=question["id"]
    )  # a reply that mentions: one notification
    assert reader.put(f"/api/v1/comments/{question['id']}/like").status_code == 200
    assert author.put(f"/api/v1/comments/{question['id']}/like").status_code == 200  # own

    author_inbox = inbox(author)
    assert author_inbox["unreadCount"] == 3
    assert summary(author_inbox) == [
        (
            "like",
            r["displayName"],
            question["id"],
            f"@{r['displayName']} can you check this?",
            False,
        ),
        ("mention", r["displayName"], both["id"], f"@{a['displayName']} see above", False),
        ("reply", r["displayName"], answer["id"], "Checked", False),
    ]
    first = author_inbox["notifications"][0]
    assert first == {
        "id": first["id"],
        "kind": "like",
        "read": False,
        "createdAt": first["createdAt"],
        "actor": r,
        "document": {"driveId": document[0], "itemId": document[1], "name": title},
        "commentId": question["id"],
        "excerpt": f"@{r['displayName']} can you check this?",
        "url": "/documents/{}/{}#comment-{}".format(*document, question["id"]),
    }
    assert summary(inbox(reader)) == [
        (
            "mention",
            a["displayName"],
            question["id"],
            f"@{r['displayName']} can you check this?",
            False,
        )
    ]
    assert own_reply["id"] not in {n["commentId"] for n in author_inbox["notifications"]}
    assert rows(app, "SELECT count(*) FROM notifications WHERE person_id = actor_id") == [(0,)]


def test_edits_notify_newly_mentioned_people_and_withdraw_the_rest(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    comment = posted(author, document, "No one yet")
    path = f"/api/v1/comments/{comment['id']}"
    assert (
        author.patch(path, json={"body": f"Now {mention(app, people['reader'])}"}).status_code
        == 200
    )
    assert [n["kind"] for n in inbox(reader)["notifications"]] == ["mention"]
    assert (
        author.patch(path, json={"body": f"Still {mention(app, people['reader'])}"}).status_code
        == 200
    )
    assert len(inbox(reader)["notifications"]) == 1  # not told twice
    assert author.patch(path, json={"body": "Never mind"}).status_code == 200
    assert inbox(reader) == {"unreadCount": 0, "notifications": []}
    assert rows(app, "SELECT count(*) FROM mentions") == [(0,)]


def test_deleting_a_comment_withdraws_what_it_caused(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    comment = posted(author, document, f"Hi {mention(app, people['reader'])}")
    reply = posted(reader, document, "Hello", parent_id=comment["id"])
    assert inbox(author)["unreadCount"] == 1
    assert reader.delete(f"/api/v1/comments/{reply['id']}").status_code == 204
    assert author.delete(f"/api/v1/comments/{comment['id']}").status_code == 204
    assert inbox(author) == {"unreadCount": 0, "notifications": []}
    assert inbox(reader) == {"unreadCount": 0, "notifications": []}


# -- read and unread -----------------------------------------------------------------------


def test_marking_read_one_by_one_or_all_at_once(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    for number in range(3):
        posted(author, document, f"{mention(app, people['reader'])} point {number}")
    ids = [n["id"] for n in inbox(reader)["notifications"]]
    newest_first = rows(app, "SELECT public_id FROM notifications ORDER BY id DESC")
    assert len(ids) == 3 and ids == [public_id for (public_id,) in newest_first]

    marked = reader.post("/api/v1/notifications/read", json={"ids": [ids[1]]})
    assert (marked.status_code, marked.get_json()) == (200, {"unreadCount": 2})
    assert [n["read"] for n in inbox(reader)["notifications"]] == [False, True, False]
    # Someone else's notification ids change nothing.
    assert author.post("/api/v1/notifications/read", json={"ids": ids}).get_json() == {
        "unreadCount": 0
    }
    assert inbox(reader)["unreadCount"] == 2
    unread_only = reader.get("/api/v1/notifications", query_string={"unread": "true"}).get_json()
    assert [n["id"] for n in unread_only["notifications"]] == [ids[0], ids[2]]
    assert (
        reader.get("/api/v1/notifications", query_string={"limit": "1"}).get_json()[
            "notifications"
        ][0]["id"]
        == ids[0]
    )

    assert reader.post("/api/v1/notifications/read", json={"all": True}).get_json() == {
        "unreadCount": 0
    }
    assert [n["read"] for n in inbox(reader)["notifications"]] == [True, True, True]
    for payload in ({"ids": "1"}, {"ids": ["x"]}, {"all": "yes"}, [1, 2], {"ids": [1] * 501}):
        answer = reader.post("/api/v1/notifications/read", json=payload)
        assert answer.status_code == 400, payload
    assert reader.get("/api/v1/notifications", query_string={"limit": "0"}).status_code == 400


def test_the_page_lists_notifications_and_marks_them_read(
    app, client, sign_in, csrf_token, api, people, document
):
    author = api(people["author"])
    a = who(app, people["author"])
    title = title_of(app, document)
    comment = posted(author, document, f"{mention(app, people['reader'])} have a look")
    assert client.get("/notifications").status_code in (302, 401)  # signed out
    sign_in(client, people["reader"])
    token = csrf_token(client)

    page = client.get("/notifications").get_data(as_text=True)
    [(notification_id,)] = rows(app, "SELECT public_id FROM notifications")
    url = "/documents/{}/{}#comment-{}".format(*document, comment["id"])
    assert (
        f'<p class="sentence"><a href="{url}">{a["displayName"]} mentioned you on {title}'
        '</a> <span class="badge">new</span></p>'
    ) in page
    assert 'Notifications <span class="badge">1</span>' in page  # the header's unread_count()
    assert "Mark all 1 as read" in page

    refused = client.post("/notifications/read", data={"id": str(notification_id)})
    assert refused.status_code == 400  # no CSRF token
    done = client.post(
        "/notifications/read", data={"csrf_token": token, "id": str(notification_id)}
    )
    assert (done.status_code, done.headers["Location"]) == (303, "/notifications")
    page = client.get("/notifications").get_data(as_text=True)
    assert 'class="card notification read"' in page
    assert '<span class="badge">' not in page
    posted(author, document, f"{mention(app, people['reader'])} and again")
    done = client.post("/notifications/read", data={"csrf_token": token, "all": "1"})
    assert done.status_code == 303
    assert rows(app, "SELECT count(*) FROM notifications WHERE read_at IS NULL") == [(0,)]


# -- access --------------------------------------------------------------------------------


def test_notifications_about_a_document_one_can_no_longer_open_are_hidden_everywhere(
    make_app, fresh_plaza_env, sign_in, api, people, document, resync
):
    app = make_app(env=fresh_plaza_env)
    client = app.test_client()
    author, reader = api(people["author"], app), api(people["reader"], app)
    title = title_of(app, document)
    comment = posted(author, document, f"{mention(app, people['reader'])} secret plans")
    posted(reader, document, "Reply before revocation", parent_id=comment["id"])
    assert inbox(reader)["unreadCount"] == 1

    fresh_plaza_env.revoke_everyone_but(*document, people["author"], role="read")
    resync(app, people=False, documents=True)

    assert inbox(reader) == {"unreadCount": 0, "notifications": []}
    assert reader.get("/api/v1/notifications", query_string={"unread": "1"}).get_json() == {
        "unreadCount": 0,
        "notifications": [],
    }
    sign_in(client, people["reader"])
    page = client.get("/notifications").get_data(as_text=True)
    assert title not in page and "secret plans" not in page
    assert '<span class="badge">' not in page
    assert "Nothing yet." in page
    # The rows stay (access may come back); the author still sees the reply.
    assert rows(app, "SELECT count(*) FROM notifications") == [(2,)]
    assert [n["kind"] for n in inbox(author)["notifications"]] == ["reply"]
    # And the reader can no longer be mentioned there.
    refused = author.post(
        comments_path(document), json={"body": f"{mention(app, people['reader'])} still there?"}
    )
    name = who(app, people["reader"])["displayName"]
    assert refused.get_json()["error"]["message"] == (
        f"{name} cannot open this document, so they cannot be mentioned"
    )


@sqlite_only("its query plans")
def test_the_notification_queries_use_their_index(app):
    with app.app_context():
        newest, unread = (
            [row[3] for row in db.social().execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            for sql, params in (
                (
                    notifications.NEWEST_SQL,
                    {"person": "p", "before": 9, "unread_only": 1, "batch": 5},
                ),
                (notifications.UNREAD_BY_DOCUMENT_SQL, {"person": "p"}),
            )
        )
    assert newest == [
        "SEARCH n USING INDEX notifications_by_person (person_id=? AND id<?)",
        "SEARCH m USING INTEGER PRIMARY KEY (rowid=?) LEFT-JOIN",  # a chat mention's message id
    ]
    assert unread[0] == "SEARCH notifications USING INDEX notifications_by_person (person_id=?)"
