"""Mail through a real SMTP server (aiosmtpd on localhost): mentions after their delay unless
read, digests per conversation, levels, revocation between queueing and sending, retries
without duplicates, a crash mid-send never resending, one-click unsubscribe."""

from __future__ import annotations

import email
import socket
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller

from overlay_app.mail import sender
from tests.overlay_app.api_calls import answer, mention, posted
from tests.overlay_app.app_rows import rows, title_of, who


class Mailbox:
    """An aiosmtpd handler keeping each mail; `refuse` answers that many DATA with 451."""

    def __init__(self) -> None:
        self.mails: list[email.message.EmailMessage] = []
        self.refuse = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        self.mails.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def mailbox():
    box = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def mail_app(make_app, mailbox):
    return make_app(
        smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_from="Plaza <plaza@firm.test>"
    )


def run(app, minutes: float = 0) -> sender.Report:
    with app.app_context():
        return sender.send_due(datetime.now(UTC) + timedelta(minutes=minutes))


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_a_mention_is_mailed_once_after_its_delay_without_the_title(
    mail_app, mailbox, api, people, document
):
    author = api(people["author"], mail_app)
    reader = who(mail_app, people["reader"])
    comment = posted(author, document, f"{mention(reader)} please check the cap")
    assert run(mail_app).composed == 0 and mailbox.mails == []  # not yet: 2 minutes
    report = run(mail_app, minutes=3)
    assert (report.composed, report.sent) == (1, 1)
    assert run(mail_app, minutes=4).sent == 0  # never twice
    [mail] = mailbox.mails
    author_name = who(mail_app, people["author"])["displayName"]
    assert mail["Subject"] == f"{author_name} mentioned you in Plaza"
    assert mail["To"] == rows(mail_app, "SELECT recipient FROM outbox")[0][0]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Unsubscribe"].startswith("<http://localhost/mail/unsubscribe/")
    assert mail["Message-ID"] == rows(mail_app, "SELECT message_id FROM outbox")[0][0]
    raw = mail.as_string()
    assert title_of(mail_app, document) not in raw and "check the cap" not in raw
    assert "http://localhost/documents/{}/{}".format(*document) in text_of(mail)
    assert mail.get_body(preferencelist=("html",)) is not None
    assert comment["id"] not in raw


def test_a_mention_read_meanwhile_is_not_mailed(mail_app, mailbox, api, people, document):
    author, reader_api = api(people["author"], mail_app), api(people["reader"], mail_app)
    posted(author, document, f"{mention(who(mail_app, people['reader']))} see this")
    answer(reader_api.post("/api/v1/notifications/read", json={"all": True}))
    report = run(mail_app, minutes=3)
    assert (report.composed, report.dropped, len(mailbox.mails)) == (0, 1, 0)


def test_watching_brings_one_digest_per_conversation_and_muted_nothing(
    mail_app, mailbox, api, people, document
):
    author, reader = api(people["author"], mail_app), api(people["reader"], mail_app)
    key = "{}/{}".format(*document)
    answer(
        reader.put("/api/v1/levels", json={"kind": "document", "target": key, "level": "watching"})
    )
    for n in range(3):
        posted(author, document, f"Remark {n}")
    kinds = [n["kind"] for n in answer(reader.get("/api/v1/notifications"))["notifications"]]
    assert kinds == ["watched"] * 3
    assert run(mail_app, minutes=60).composed == 0  # the daily digest is not due yet
    report = run(mail_app, minutes=24 * 60 + 1)
    assert (report.composed, report.sent) == (1, 1)
    [mail] = mailbox.mails
    assert mail["Subject"] == "Plaza digest: activity in 1 conversation"
    author_name = who(mail_app, people["author"])["displayName"]
    assert f"3 new comments in something you watch (by {author_name})" in text_of(mail)
    assert title_of(mail_app, document) not in mail.as_string()
    # Muted: no notification, no mail.
    answer(reader.put("/api/v1/levels", json={"kind": "document", "target": key, "level": "muted"}))
    posted(author, document, "Remark 4")
    assert len(answer(reader.get("/api/v1/notifications"))["notifications"]) == 3
    assert run(mail_app, minutes=3 * 24 * 60).composed == 0


def test_revocation_between_queueing_and_sending_sends_nothing(
    fresh_plaza_env, make_app, mailbox, api, people, document
):
    app = make_app(fresh_plaza_env, smtp_host="127.0.0.1", smtp_port=mailbox.port)
    author = api(people["author"], app)
    posted(author, document, f"{mention(who(app, people['reader']))} a word")
    fresh_plaza_env.revoke_everyone_but(*document, people["author"])
    fresh_plaza_env.sync(app.extensions["plaza.settings"].data_dir, people=False)
    report = run(app, minutes=3)
    assert (report.composed, report.dropped, mailbox.mails) == (0, 1, [])


def test_smtp_refusals_are_retried_once_delivered_and_a_crash_never_resends(
    mail_app, mailbox, api, people, document
):
    author = api(people["author"], mail_app)
    posted(author, document, f"{mention(who(mail_app, people['reader']))} one")
    mailbox.refuse = 1
    first = run(mail_app, minutes=3)
    assert (first.composed, first.sent, first.retrying, len(mailbox.mails)) == (1, 0, 1, 0)
    assert run(mail_app, minutes=3.5).sent == 0  # its retry waits a minute
    assert run(mail_app, minutes=5).sent == 1
    assert rows(mail_app, "SELECT state, attempts FROM outbox") == [("sent", 2)]
    # A sender that claimed a mail and stopped before knowing the answer: uncertain, not resent.
    posted(author, document, f"{mention(who(mail_app, people['reader']))} two")
    with mail_app.app_context():
        from overlay_app import db
        from overlay_app.mail import store

        sender.compose_mentions(
            sender.stamp(datetime.now(UTC) + timedelta(minutes=3)), sender.Report()
        )
        with db.transaction() as conn:
            (mail_id,) = conn.execute("SELECT id FROM outbox WHERE state = 'pending'").fetchone()
            assert store.claim(conn, mail_id, sender.stamp(datetime.now(UTC)))
    report = run(mail_app, minutes=30)
    assert (report.uncertain, report.sent, len(mailbox.mails)) == (1, 0, 1)


def test_one_click_unsubscribe_stops_mention_mails(mail_app, mailbox, api, people, document):
    author = api(people["author"], mail_app)
    posted(author, document, f"{mention(who(mail_app, people['reader']))} one")
    run(mail_app, minutes=3)
    url = mailbox.mails[0]["List-Unsubscribe"].strip("<>").removeprefix("http://localhost")
    client = mail_app.test_client()
    done = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no more mention mails" in done.get_data(as_text=True)
    assert client.post(url[:-3] + "xyz").status_code == 404  # a forged token
    posted(author, document, f"{mention(who(mail_app, people['reader']))} two")
    assert run(mail_app, minutes=10).composed == 0
    assert len(mailbox.mails) == 1


def test_the_mail_command_sends_what_is_due_and_counts_the_outbox(
    mail_app, mailbox, api, people, document
):
    from click.testing import CliRunner

    from plaza.cli import main

    settings = mail_app.extensions["plaza.settings"]
    env = {
        "PLAZA_DATA_DIR": str(settings.data_dir),
        "PLAZA_SECRET_KEY": settings.secret_key,
        "PLAZA_PUBLIC_URL": settings.public_url,
        "PLAZA_TENANT_ID": settings.tenant_id,
        "PLAZA_AUTHORITY": settings.authority,
        "PLAZA_CLIENT_ID": settings.client_id,
        "PLAZA_CLIENT_SECRET": settings.client_secret,
        "PLAZA_CA_BUNDLE": settings.ca_bundle,
        "PLAZA_GRAPH_URL": settings.graph_url,
        "PLAZA_MAIL_MENTION_DELAY_SECONDS": "0",
    }
    runner = CliRunner()
    unset = runner.invoke(main, ["mail", "send-due"], env=env)
    assert (unset.exit_code, unset.stderr) == (
        1, "Error: PLAZA_SMTP_HOST is not set: nothing can be sent\n"
    )  # fmt: skip
    posted(
        api(people["author"], mail_app), document, f"{mention(who(mail_app, people['reader']))} hi"
    )
    env |= {"PLAZA_SMTP_HOST": "127.0.0.1", "PLAZA_SMTP_PORT": str(mailbox.port)}
    # The mention was queued by the app (2 minutes); the command's clock is now: not due yet.
    sent = runner.invoke(main, ["mail", "send-due"], env=env)
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.startswith("0 composed, 0 sent")
    assert runner.invoke(main, ["mail", "status"], env=env).stdout == "no mail yet\n"
