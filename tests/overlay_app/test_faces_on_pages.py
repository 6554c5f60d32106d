"""Faces where issue 19 puts them: beside a comment, a chat message, a notification, a person in
the people list and on the home page, each the person's one photo URL (photo or initials);
and the home page's chats with unread messages."""

from __future__ import annotations

import re

from tests.overlay_app.api_calls import answer, mention, posted, sent
from tests.overlay_app.app_rows import who


def face(person_id: str) -> str:
    return f'<img class="avatar" src="/people/{person_id}/photo" alt=""'


def page(app, sign_in, upn: str, path: str) -> str:
    client = app.test_client()
    sign_in(client, upn)
    found = client.get(path)
    assert found.status_code == 200, path
    return found.get_data(as_text=True)


def section(html: str, title_id: str) -> str:
    return html.split(f'id="{title_id}"')[1].split("</section>")[0]


def test_a_face_beside_comments_messages_notifications_and_people(
    app, api, sign_in, people, document
):
    author = api(people["author"])
    author_id, reader_id = who(app, people["author"])["id"], who(app, people["reader"])["id"]
    posted(author, document, f"{mention(who(app, people['reader']))} a look, please")
    room = answer(
        author.post(
            "/api/v1/rooms", json={"kind": "channel", "name": "faces", "members": [reader_id]}
        ),
        201,
    )
    sent(author, room["id"], "Hello with a face")
    shown = {  # home first: opening the chat room reads its messages
        "home": page(app, sign_in, people["reader"], "/"),
        "document": page(app, sign_in, people["reader"], "/documents/{}/{}".format(*document)),
        "chat room": page(app, sign_in, people["reader"], f"/chat/{room['id']}"),
        "notifications": page(app, sign_in, people["reader"], "/notifications"),
        "profile": page(app, sign_in, people["reader"], f"/people/{author_id}"),
    }
    assert {where: face(author_id) in html for where, html in shown.items()} == {
        where: True for where in shown
    }
    listed = page(
        app, sign_in, people["reader"], "/people?q=" + who(app, people["author"])["displayName"]
    )
    assert face(author_id) in listed
    # The home page lists the unread channel, with how many messages wait.
    chats = section(shown["home"], "chats-title")
    assert re.findall(
        r'<li><a href="(/chat/[^"]+)">([^<]+)</a> <span class="badge">([^<]+)<', chats
    ) == [(f"/chat/{room['id']}", "faces", "1 new")]
    # Opening the room (above) read its message: nothing waits any more.
    chats = section(page(app, sign_in, people["reader"], "/"), "chats-title")
    assert "No unread messages." in chats
