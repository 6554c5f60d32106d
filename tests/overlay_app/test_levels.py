"""Notification levels and delivery choices decide which notifications are created: threads
one wrote in (participating, the default), watching a document, folder, tag or channel,
muting (a mention still comes through), the most specific level winning, and turning a kind
of event off in Plaza."""

from __future__ import annotations

from tests.overlay_app.api_calls import answer, mention, posted, sent
from tests.overlay_app.app_rows import who


def kinds(api) -> list[str]:
    return [n["kind"] for n in answer(api.get("/api/v1/notifications"))["notifications"]]


def set_level(api, kind: str, target: str, level: str) -> None:
    answer(api.put("/api/v1/levels", json={"kind": kind, "target": target, "level": level}))


def third_reader(env, document, people) -> str:
    """Another member who can open the document (UPN)."""
    tenant, taken = env.tenant, set(people.values())
    for user in sorted(tenant.users.values(), key=lambda u: u.user_principal_name):
        if (
            user.user_principal_name not in taken
            and user.account_enabled
            and user.user_type == "Member"
            and tenant.can_open(user.id, *document)
        ):
            return user.user_principal_name
    raise AssertionError("nobody else can open the document")


def test_participants_of_a_thread_hear_of_new_replies(app, api, people, document, plaza_env):
    third = third_reader(plaza_env, document, people)
    author, reader, other = api(people["author"]), api(people["reader"]), api(third)
    question = posted(author, document, "Opening question")
    posted(reader, document, "Reader's answer", parent_id=question["id"])
    posted(other, document, "A third view", parent_id=question["id"])
    posted(author, document, "Unrelated top-level remark")
    assert kinds(author) == ["reply", "reply"]
    assert kinds(reader) == ["thread"]  # the third view, in a thread the reader wrote in
    assert kinds(other) == []


def test_watching_a_folder_or_tag_and_the_most_specific_level_wins(
    app, api, people, document, plaza_env
):
    author, reader = api(people["author"]), api(people["reader"])
    folder = plaza_env.tenant.item(*document).parent_id
    key = "{}/{}".format(*document)
    set_level(reader, "folder", f"{document[0]}/{folder}", "watching")
    posted(author, document, "One")
    assert kinds(reader) == ["watched"]
    set_level(reader, "document", key, "muted")  # the document's own level wins
    posted(author, document, "Two")
    assert kinds(reader) == ["watched"]
    posted(author, document, f"{mention(who(app, people['reader']))} three")  # muted: yet called
    assert kinds(reader) == ["mention", "watched"]
    set_level(reader, "document", key, "default")
    set_level(reader, "folder", f"{document[0]}/{folder}", "default")
    answer(author.post(f"/api/v1/documents/{key}/tags", json={"tag": "budget"}), 201)
    set_level(reader, "tag", "budget", "watching")
    posted(author, document, "Four")
    assert kinds(reader) == ["watched", "mention", "watched"]
    set_level(reader, "tag", "budget", "muted")
    posted(author, document, "Five")
    assert len(kinds(reader)) == 3


def test_watching_a_channel_and_following_it_in_the_feed(app, api, people):
    author, reader = api(people["author"]), api(people["reader"])
    room = answer(author.post("/api/v1/rooms", json={"kind": "channel", "name": "deals"}), 201)
    answer(reader.put("/api/v1/follows", json={"kind": "channel", "target": room["id"]}))
    sent(author, room["id"], "Before watching")
    assert kinds(reader) == []
    set_level(reader, "channel", room["id"], "watching")
    sent(author, room["id"], "While watching")
    assert kinds(reader) == ["watched"]
    [entry] = answer(reader.get("/api/v1/feed"))["entries"]
    assert (entry["kind"], entry["title"], entry["excerpt"], entry["why"][0]) == (
        "channel", "#deals", "While watching", "You follow this channel"
    )  # fmt: skip
    # The author sits on the reader's team in this firm: the feed says so too.
    assert entry["why"][1:] == [
        f"{who(app, people['author'])['displayName']} on your team took part"
    ]


def test_a_kind_of_event_turned_off_in_plaza_creates_no_notification(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    off = {"events": {"like": {"in_app": False}}}
    settings = answer(author.put("/api/v1/settings/notifications", json=off))
    assert settings["events"]["like"] == {"in_app": False, "email": False}
    assert settings["events"]["mention"] == {"in_app": True, "email": True}
    comment = posted(author, document, "Like me")
    assert reader.put(f"/api/v1/comments/{comment['id']}/like").status_code == 200
    assert kinds(author) == []
    bad = author.put("/api/v1/settings/notifications", json={"events": {"like": {"fax": True}}})
    assert answer(bad, 400)["error"]["code"] == "badRequest"
