"""Comments written from the pages with a session: the document page's forms need the CSRF
token and redirect back to the comment, JSON calls with a session cookie need the CSRF header,
and form writes by people who cannot open the document are 404 without its title. Exact values
throughout; the comments API itself is in test_comments.py."""

from __future__ import annotations

from tests.overlay_app.api_calls import comments_path, post, posted
from tests.overlay_app.app_rows import rows, title_of


def test_page_forms_write_with_csrf_and_redirect_back(
    app, client, sign_in, csrf_token, people, document
):
    sign_in(client, people["author"])
    token = csrf_token(client)
    page = "/documents/{}/{}".format(*document)

    refused = client.post(f"{page}/comments", data={"body": "no token"})
    assert refused.status_code == 400
    assert rows(app, "SELECT count(*) FROM comments") == [(0,)]

    made = client.post(
        f"{page}/comments",
        data={"csrf_token": token, "body": "From the form", "idempotency_key": "form-key-1"},
    )
    [(comment_id,)] = rows(app, "SELECT id FROM comments")
    assert (made.status_code, made.headers["Location"]) == (303, f"{page}#comment-{comment_id}")
    again = client.post(
        f"{page}/comments",
        data={"csrf_token": token, "body": "From the form", "idempotency_key": "form-key-1"},
    )
    assert again.headers["Location"] == f"{page}#comment-{comment_id}"
    replied = client.post(
        f"{page}/comments", data={"csrf_token": token, "body": "A reply", "parent_id": comment_id}
    )
    assert replied.status_code == 303
    edited = client.post(
        f"/comments/{comment_id}/edit", data={"csrf_token": token, "body": "Edited on the page"}
    )
    assert (edited.status_code, edited.headers["Location"]) == (303, f"{page}#comment-{comment_id}")
    deleted = client.post(f"/comments/{comment_id}/delete", data={"csrf_token": token})
    assert (deleted.status_code, deleted.headers["Location"]) == (303, f"{page}#discussion")
    assert rows(
        app, "SELECT parent_id, body, deleted_at IS NOT NULL FROM comments ORDER BY rowid"
    ) == [(None, "", 1), (comment_id, "A reply", 0)]

    empty = client.post(f"{page}/comments", data={"csrf_token": token, "body": ""})
    assert (empty.status_code, empty.headers["Location"]) == (303, f"{page}#discussion")
    shown = client.get("/notifications").get_data(as_text=True)  # the next page shows why
    assert '<p class="flash error" role="status">write something first</p>' in shown
    assert rows(app, "SELECT count(*) FROM comments") == [(2,)]


def test_session_json_calls_need_the_csrf_header(app, client, sign_in, api, people, document):
    sign_in(client, people["author"])
    without = client.post(comments_path(document), json={"body": "no header"})
    assert without.status_code == 400
    with_header = post(api(client), document, "with header")
    assert with_header.status_code == 201
    assert rows(app, "SELECT body FROM comments") == [("with header",)]


def test_form_writes_by_people_without_access_are_404(
    app, client, sign_in, csrf_token, people, document, api
):
    comment = posted(api(people["author"]), document, "Private")
    sign_in(client, people["outsider"])
    token = csrf_token(client)
    page = "/documents/{}/{}".format(*document)
    title = title_of(app, document)
    for path in (
        f"{page}/comments",
        f"/comments/{comment['id']}/edit",
        f"/comments/{comment['id']}/delete",
    ):
        answer = client.post(path, data={"csrf_token": token, "body": "x"})
        assert answer.status_code == 404
        assert title not in answer.get_data(as_text=True)
    assert rows(app, "SELECT body FROM comments") == [("Private",)]
