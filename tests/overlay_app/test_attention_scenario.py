"""Issue 15's promise as one scenario, through HTTP and a real SMTP server: a person follows a
tag and a colleague, sees what happened in their feed, mutes a channel, watches the tag with
watched events by email only, and of twenty comments gets no in-app notification and one
digest mail (one entry for the conversation) instead of twenty notifications."""

from __future__ import annotations

from tests.overlay_app.api_calls import answer, posted, sent
from tests.overlay_app.app_rows import title_of, who
from tests.overlay_app.test_mail import mailbox, run, text_of

__all__ = ["mailbox"]  # the fixture, used by name

TAG = "scenario-tag"


def test_follow_a_tag_and_a_colleague_mute_a_channel_and_get_one_digest(
    make_app, mailbox, api, people, document
):
    app = make_app(smtp_host="127.0.0.1", smtp_port=mailbox.port, writes_per_minute=100)
    author, reader = api(people["author"], app), api(people["reader"], app)
    tags = "/api/v1/documents/{}/{}/tags".format(*document)
    answer(author.post(tags, json={"tag": TAG}), 201)
    room = answer(author.post("/api/v1/rooms", json={"kind": "channel", "name": "chatter"}), 201)
    # The person follows the tag and the colleague, mutes the channel, and takes what they
    # watch by email only (the daily digest).
    for kind, target in (("tag", TAG), ("person", who(app, people["author"])["id"])):
        answer(reader.put("/api/v1/follows", json={"kind": kind, "target": target}))
    for kind, target, level in (("tag", TAG, "watching"), ("channel", room["id"], "muted")):
        body = {"kind": kind, "target": target, "level": level}
        answer(reader.put("/api/v1/levels", json=body))
    by_email = {"events": {"watched": {"in_app": False, "email": True}}, "digest": "daily"}
    answer(reader.put("/api/v1/settings/notifications", json=by_email))

    for n in range(20):
        posted(author, document, f"Scenario remark {n + 1}")
    for n in range(3):
        sent(author, room["id"], f"Channel chatter {n + 1}")

    # The feed: one entry per conversation, newest first; the muted channel is not there,
    # although the colleague followed wrote in it (what one mutes leaves the feed too).
    entries = answer(reader.get("/api/v1/feed"))["entries"]
    assert [(e["title"], e["excerpt"]) for e in entries] == [
        (title_of(app, document), "Scenario remark 20"),
    ]
    author_name = who(app, people["author"])["displayName"]
    assert f"Tagged #{TAG}, which you follow" in entries[0]["why"]
    assert f"{author_name}, whom you follow, took part" in entries[0]["why"]
    assert answer(reader.get("/api/v1/notifications"))["notifications"] == []
    assert run(app, minutes=60).composed == 0  # the daily digest is not due yet
    report = run(app, minutes=24 * 60 + 1)
    assert (report.composed, report.sent) == (1, 1)
    [mail] = mailbox.mails
    assert mail["Subject"] == "Plaza digest: activity in 1 conversation"
    assert f"20 new comments in something you watch (by {author_name})" in text_of(mail)
    assert title_of(app, document) not in mail.as_string()
