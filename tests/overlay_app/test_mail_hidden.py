"""Mail about a comment a moderator hid (through real HTTP and a real SMTP server): a queued
mention is not sent, a composed mail waiting for its retry is withdrawn, and a digest leaves
the hidden comment out; its other comments still go."""

from __future__ import annotations

from tests.overlay_app.admin_staff import moderator_group, staff_app
from tests.overlay_app.api_calls import answer, mention, posted
from tests.overlay_app.app_rows import rows, who
from tests.overlay_app.conftest import Api
from tests.overlay_app.test_mail import mailbox, run, text_of

__all__ = ["mailbox"]  # the fixture, used by name


def staff(make_app, plaza_env, mailbox):
    app = staff_app(make_app, plaza_env, smtp_host="127.0.0.1", smtp_port=mailbox.port)
    _, moderator_upn = moderator_group(plaza_env)

    def api(upn: str) -> Api:
        return Api(app.test_client(), plaza_env.handle.token("api", user=upn))

    return app, api, api(moderator_upn)


def hide(moderator: Api, comment_id: str) -> None:
    body = {"kind": "comment", "targetId": comment_id, "act": "hide", "reason": "Rude"}
    assert moderator.post("/api/v1/admin/moderation", json=body).status_code == 200


def test_a_mention_hidden_before_sending_is_not_mailed(
    make_app, plaza_env, mailbox, people, document
):
    app, api, moderator = staff(make_app, plaza_env, mailbox)
    author = api(people["author"])
    comment = posted(author, document, f"{mention(who(app, people['reader']))} you fool")
    hide(moderator, comment["id"])
    report = run(app, minutes=3)
    assert (report.composed, report.dropped, report.sent, mailbox.mails) == (0, 1, 0, [])
    assert rows(app, "SELECT state FROM mail_queue WHERE comment_id = ?", [comment["id"]]) == [
        ("dropped",)
    ]


def test_a_mail_composed_then_hidden_is_withdrawn_not_sent(
    make_app, plaza_env, mailbox, people, document
):
    app, api, moderator = staff(make_app, plaza_env, mailbox)
    comment = posted(
        api(people["author"]), document, f"{mention(who(app, people['reader']))} you fool"
    )
    mailbox.refuse = 1  # composed, refused once: pending for its retry
    first = run(app, minutes=3)
    assert (first.composed, first.retrying, len(mailbox.mails)) == (1, 1, 0)
    hide(moderator, comment["id"])
    later = run(app, minutes=5)
    assert (later.withdrawn, later.sent, later.composed) == (1, 0, 0)
    again = run(app, minutes=30)  # its item, queued again, is dropped: nothing is composed
    assert (again.dropped, again.composed, again.sent) == (1, 0, 0)
    assert mailbox.mails == []
    assert rows(app, "SELECT state FROM outbox") == [("withdrawn",)]


def test_a_digest_leaves_out_a_hidden_comment(make_app, plaza_env, mailbox, people, document):
    app, api, moderator = staff(make_app, plaza_env, mailbox)
    author, reader = api(people["author"]), api(people["reader"])
    key = "{}/{}".format(*document)
    answer(
        reader.put("/api/v1/levels", json={"kind": "document", "target": key, "level": "watching"})
    )
    kept = [posted(author, document, f"Remark {n}") for n in range(2)]
    rude = posted(author, document, "You are all fools")
    hide(moderator, rude["id"])
    report = run(app, minutes=24 * 60 + 1)
    assert (report.composed, report.sent, report.dropped) == (1, 1, 1)
    [mail] = mailbox.mails
    author_name = who(app, people["author"])["displayName"]
    assert f"2 new comments in something you watch (by {author_name})" in text_of(mail)
    taken = rows(app, "SELECT comment_id FROM mail_queue WHERE state = 'taken' ORDER BY id")
    assert taken == [(kept[0]["id"],), (kept[1]["id"],)]
