"""Likes on documents and comments through HTTP: idempotent PUT/DELETE with counts, who liked,
the like notification, refusals, and the page forms. Exact values throughout."""

from __future__ import annotations

from typing import Any

from tests.overlay_app.api_calls import NOT_FOUND, posted
from tests.overlay_app.app_rows import rows, who

# -- helpers of this module (shared ones: app_rows.py, api_calls.py) -------------------------


def document_path(document: tuple[str, str]) -> str:
    return "/api/v1/documents/{}/{}".format(*document)


def answer_of(response) -> tuple[int, Any]:
    return response.status_code, response.get_json()


# -- documents -----------------------------------------------------------------------------


def test_document_likes_are_idempotent_and_list_who_liked(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    like = f"{document_path(document)}/like"
    assert answer_of(author.put(like)) == (200, {"likeCount": 1, "likedByMe": True})
    assert answer_of(author.put(like)) == (200, {"likeCount": 1, "likedByMe": True})
    assert answer_of(reader.put(like)) == (200, {"likeCount": 2, "likedByMe": True})
    assert answer_of(reader.get(f"{document_path(document)}/likes")) == (
        200,
        {
            "likeCount": 2,
            "likedByMe": True,
            "people": [who(app, people["author"]), who(app, people["reader"])],
        },
    )
    assert answer_of(author.delete(like)) == (200, {"likeCount": 1, "likedByMe": False})
    assert answer_of(author.delete(like)) == (200, {"likeCount": 1, "likedByMe": False})
    assert answer_of(author.get(f"{document_path(document)}/likes")) == (
        200,
        {"likeCount": 1, "likedByMe": False, "people": [who(app, people["reader"])]},
    )
    assert rows(app, "SELECT person_id FROM document_likes") == [
        (who(app, people["reader"])["id"],)
    ]
    assert rows(app, "SELECT count(*) FROM notifications") == [(0,)]  # documents: no one to tell


def test_people_without_access_can_neither_like_nor_see_likers(app, api, people, document):
    api(people["author"]).put(f"{document_path(document)}/like")
    comment = posted(api(people["author"]), document, "Liked by many")
    api(people["reader"]).put(f"/api/v1/comments/{comment['id']}/like")
    for upn in (people["outsider"], people["guest"]):
        caller = api(upn)
        for response in (
            caller.put(f"{document_path(document)}/like"),
            caller.delete(f"{document_path(document)}/like"),
            caller.get(f"{document_path(document)}/likes"),
            caller.put(f"/api/v1/comments/{comment['id']}/like"),
            caller.delete(f"/api/v1/comments/{comment['id']}/like"),
            caller.get(f"/api/v1/comments/{comment['id']}/likes"),
            caller.get("/api/v1/comments/no-such-comment/likes"),
        ):
            assert answer_of(response) == (404, NOT_FOUND)
    assert rows(app, "SELECT count(*) FROM document_likes") == [(1,)]
    assert rows(app, "SELECT count(*) FROM comment_likes") == [(1,)]


# -- comments ------------------------------------------------------------------------------


def test_comment_likes_count_list_and_notify_the_author_once(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    comment = posted(author, document, "Worth a like")
    like = f"/api/v1/comments/{comment['id']}/like"
    author_id, reader_id = who(app, people["author"])["id"], who(app, people["reader"])["id"]

    assert answer_of(author.put(like)) == (200, {"likeCount": 1, "likedByMe": True})  # own: fine
    assert answer_of(reader.put(like)) == (200, {"likeCount": 2, "likedByMe": True})
    assert answer_of(reader.put(like)) == (200, {"likeCount": 2, "likedByMe": True})
    assert answer_of(reader.get(f"/api/v1/comments/{comment['id']}/likes")) == (
        200,
        {
            "likeCount": 2,
            "likedByMe": True,
            "people": [who(app, people["author"]), who(app, people["reader"])],
        },
    )
    listed = reader.get(f"{document_path(document)}/comments").get_json()["comments"][0]
    assert (listed["likeCount"], listed["likedByMe"]) == (2, True)
    # One notification, to the author, from the reader (none for liking one's own comment).
    assert rows(
        app, "SELECT person_id, kind, actor_id, comment_id, read_at FROM notifications"
    ) == [(author_id, "like", reader_id, comment["id"], None)]

    assert answer_of(reader.delete(like)) == (200, {"likeCount": 1, "likedByMe": False})
    assert rows(app, "SELECT count(*) FROM notifications") == [(0,)]  # taken back with the like
    assert answer_of(reader.put(like)) == (200, {"likeCount": 2, "likedByMe": True})
    assert rows(app, "SELECT count(*) FROM notifications") == [(1,)]


def test_a_deleted_comment_cannot_be_liked_and_loses_its_likes(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    comment = posted(author, document, "Soon gone")
    reader.put(f"/api/v1/comments/{comment['id']}/like")
    assert author.delete(f"/api/v1/comments/{comment['id']}").status_code == 204
    assert answer_of(reader.put(f"/api/v1/comments/{comment['id']}/like")) == (
        409,
        {"error": {"code": "conflict", "message": "That comment was deleted."}},
    )
    assert answer_of(reader.get(f"/api/v1/comments/{comment['id']}/likes")) == (404, NOT_FOUND)
    assert rows(app, "SELECT count(*) FROM comment_likes") == [(0,)]
    assert rows(app, "SELECT count(*) FROM notifications") == [(0,)]


# -- page forms ----------------------------------------------------------------------------


def test_like_forms_toggle_and_redirect_back(
    app, client, sign_in, csrf_token, api, people, document
):
    comment = posted(api(people["author"]), document, "Like me on the page")
    sign_in(client, people["reader"])
    token = csrf_token(client)
    page = "/documents/{}/{}".format(*document)

    assert client.post(f"{page}/like", data={"liked": "1"}).status_code == 400  # no CSRF token
    liked = client.post(f"{page}/like", data={"csrf_token": token, "liked": "1"})
    assert (liked.status_code, liked.headers["Location"]) == (303, f"{page}#likes")
    liked = client.post(f"/comments/{comment['id']}/like", data={"csrf_token": token, "liked": "1"})
    assert (liked.status_code, liked.headers["Location"]) == (
        303,
        f"{page}#comment-{comment['id']}",
    )
    reader_id = who(app, people["reader"])["id"]
    assert rows(app, "SELECT person_id FROM document_likes") == [(reader_id,)]
    assert rows(app, "SELECT comment_id, person_id FROM comment_likes") == [
        (comment["id"], reader_id)
    ]

    html = client.get(page).get_data(as_text=True)
    assert (
        f'<form method="post" action="{page}/like" class="like-form inline" '
        f'data-api="/api{page.replace("/documents", "/v1/documents")}/like">'
    ) in html
    assert '<input type="hidden" name="liked" value="0">' in html  # the next click unlikes
    assert '<span class="like-count">1 like</span>' in html
    name = who(app, people["reader"])["displayName"]
    assert f'<a href="/people/{reader_id}">{name}</a>' in html

    unliked = client.post(f"{page}/like", data={"csrf_token": token, "liked": "0"})
    assert unliked.status_code == 303
    client.post(f"/comments/{comment['id']}/like", data={"csrf_token": token, "liked": "0"})
    assert rows(app, "SELECT count(*) FROM document_likes") == [(0,)]
    assert rows(app, "SELECT count(*) FROM comment_likes") == [(0,)]
