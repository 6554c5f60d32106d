"""Digest frequencies and the digest's own unsubscribe link, through a real SMTP server: an
hourly digest comes after an hour, a weekly one after a week (not before), and one click on a
digest's List-Unsubscribe stops digests only (mention mails still come); a composed mail about
a document revoked before it went is withdrawn."""

from __future__ import annotations

from tests.overlay_app.api_calls import answer, mention, posted
from tests.overlay_app.app_rows import rows, who
from tests.overlay_app.test_mail import mail_app, mailbox, run

__all__ = ["mail_app", "mailbox"]  # the fixtures, used by name


def watch_with_digest(api, document, digest: str) -> None:
    key = "{}/{}".format(*document)
    answer(api.put("/api/v1/levels", json={"kind": "document", "target": key, "level": "watching"}))
    chosen = answer(api.put("/api/v1/settings/notifications", json={"digest": digest}))
    assert chosen["digest"] == digest


def test_an_hourly_digest_and_its_link_stops_digests_only(mail_app, mailbox, api, people, document):
    author, reader = api(people["author"], mail_app), api(people["reader"], mail_app)
    watch_with_digest(reader, document, "hourly")
    posted(author, document, "Hourly one")
    assert run(mail_app, minutes=30).composed == 0  # not an hour yet
    report = run(mail_app, minutes=61)
    assert (report.composed, report.sent) == (1, 1)
    [digest] = mailbox.mails
    assert digest["Subject"] == "Plaza digest: activity in 1 conversation"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = digest["List-Unsubscribe"].strip("<>").removeprefix("http://localhost")
    done = mail_app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "you will get no more digests from Plaza" in done.get_data(as_text=True)
    assert answer(reader.get("/api/v1/settings/notifications"))["digest"] == "off"
    posted(author, document, "Hourly two")
    assert run(mail_app, minutes=3 * 60).composed == 0  # two hours after the last: none
    # A mention still comes by mail: the link stopped digests only.
    posted(author, document, f"{mention(who(mail_app, people['reader']))} still mailed")
    assert run(mail_app, minutes=3 * 60 + 5).sent == 1
    assert [m["Subject"] for m in mailbox.mails][1:] == [
        f"{who(mail_app, people['author'])['displayName']} mentioned you in Plaza"
    ]


def test_a_weekly_digest_waits_a_week(mail_app, mailbox, api, people, document):
    author, reader = api(people["author"], mail_app), api(people["reader"], mail_app)
    watch_with_digest(reader, document, "weekly")
    posted(author, document, "Weekly one")
    posted(author, document, "Weekly two")
    assert run(mail_app, minutes=2 * 24 * 60).composed == 0  # a daily one would have gone
    report = run(mail_app, minutes=7 * 24 * 60 + 1)
    assert (report.composed, report.sent) == (1, 1)
    [digest] = mailbox.mails
    assert digest["Subject"] == "Plaza digest: activity in 1 conversation"


def test_a_mail_composed_then_revoked_is_withdrawn_not_sent(
    fresh_plaza_env, make_app, mailbox, api, people, document
):
    """Access lost after the mail was composed (waiting for its retry): checked again at
    sending time, it is withdrawn; its item, queued again, is dropped."""
    app = make_app(fresh_plaza_env, smtp_host="127.0.0.1", smtp_port=mailbox.port)
    posted(api(people["author"], app), document, f"{mention(who(app, people['reader']))} soon")
    mailbox.refuse = 1
    first = run(app, minutes=3)
    assert (first.composed, first.retrying, len(mailbox.mails)) == (1, 1, 0)
    fresh_plaza_env.revoke_everyone_but(*document, people["author"])
    fresh_plaza_env.sync(app.extensions["plaza.settings"].data_dir, people=False)
    later = run(app, minutes=5)
    assert (later.withdrawn, later.sent, later.composed) == (1, 0, 0)
    again = run(app, minutes=30)
    assert (again.dropped, again.composed, again.sent) == (1, 0, 0)
    assert mailbox.mails == []
    assert rows(app, "SELECT state FROM outbox") == [("withdrawn",)]
