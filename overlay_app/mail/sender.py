"""The mail sender (`plaza mail send-due`, and the scheduler every minute): in app context,
1. rows left 'sending' by a sender that stopped (a crash) become 'uncertain', never resent;
2. mentions due (their delay past) become one mail per person and conversation, unless read
   meanwhile, no longer open to the person, or no longer wanted by email;
3. each person whose digest is due (hourly, daily, weekly after the last) gets one digest,
   one entry per conversation, of what they may still open;
4. pending mails are sent: each checked again (a document that can no longer be opened
   withdraws the mail and queues its items again, to be checked anew), claimed ('sending',
   committed), handed to SMTP, then marked 'sent' in one transaction.
Composing writes the outbox row and marks its queue items taken in one transaction, so a
crash never loses an item nor composes it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app
from flask_babel import force_locale

from overlay_app import access, db, i18n
from overlay_app.chat import access as chat_access
from overlay_app.follow import levels
from overlay_app.follow import store as follow_store
from overlay_app.mail import compose, store, tokens
from overlay_app.mail.queueing import parse_time, shifted, stamp
from overlay_app.mail.store import Item, Mail
from overlay_app.mail.transport import NotConnected, Refused, SmtpTransport
from overlay_app.notifications import store as notifications_store
from sync import directory, visibility

log = logging.getLogger("overlay_app.mail")

PERIODS = {store.HOURLY: 3600, store.DAILY: 86400, store.WEEKLY: 7 * 86400}
MAX_ATTEMPTS, FIRST_RETRY_SECONDS = 6, 60
STALE_SENDING_SECONDS = 600  # a 'sending' row this old belongs to a sender that stopped
BATCH = 500


@dataclass
class Report:
    composed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0
    withdrawn: int = 0
    uncertain: int = 0

    def line(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in vars(self).items())


def send_due(now: datetime | None = None, transport: Callable[[], object] | None = None) -> Report:
    """Everything due at `now` (default: the clock), through `transport()` (default: SMTP)."""
    at = stamp(now or datetime.now(UTC))
    report = Report()
    with db.transaction() as conn:
        report.uncertain = store.abandoned_sending(conn, shifted(at, -STALE_SENDING_SECONDS))
    compose_mentions(at, report)
    compose_digests(at, report)
    deliver(at, transport or _smtp, report)
    return report


def _smtp() -> SmtpTransport:
    return SmtpTransport(current_app.extensions["plaza.settings"])


# -- composing ----------------------------------------------------------------------------------


def still_open(person_id: str, item: Item | list) -> bool:
    """Whether the person may open the place now (the index, and recent live refusals);
    a deleted document counts as closed."""
    drive_id, item_id, room_id = (
        (item.drive_id, item.item_id, item.room_id) if isinstance(item, Item) else item
    )
    if room_id:
        room = chat_access.load_room(room_id)
        return (
            room is not None
            and chat_access.can_see_room(person_id, room)
            and (room.document_key is None or _document_open(person_id, *room.document_key))
        )
    return _document_open(person_id, drive_id, item_id)  # fmt: skip


def _document_open(person_id: str, drive_id: str, item_id: str) -> bool:
    principals = access.principals_of(person_id)
    return visibility.can_view(db.index(), principals, drive_id, item_id) and access.can_see(
        person_id, drive_id, item_id
    )


def compose_mentions(at: str, report: Report) -> None:
    due = store.due_immediate(db.social(), at, BATCH)
    read = notifications_store.read_among(
        db.social(), [i.notification_id for i in due if i.notification_id]
    )
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in due:
        groups.setdefault((item.person_id, item.conversation), []).append(item)
    for (person_id, _), items in groups.items():
        wanted = [
            i for i in items if i.notification_id not in read and _wants_email(person_id, i.event)
        ]
        if not wanted or not still_open(person_id, wanted[0]):
            _drop(items, report)
            continue
        _compose(person_id, tokens.MENTION_MAIL, [wanted], items, at, report)


def compose_digests(at: str, report: Report) -> None:
    for person_id, oldest in store.people_with_digest_items(db.social()):
        digest, last = store.digest_choice(db.social(), person_id)
        items = store.digest_items(db.social(), person_id)
        if digest == store.OFF:
            _drop(items, report)
            continue
        since = parse_time(last or oldest)
        if (parse_time(at) - since).total_seconds() < PERIODS[digest]:
            continue
        by_conversation: dict[str, list[Item]] = {}
        for item in items:
            if _wants_email(person_id, item.event):
                by_conversation.setdefault(item.conversation, []).append(item)
        kept = [group for group in by_conversation.values() if still_open(person_id, group[0])]
        if not kept:
            _drop(items, report)
            continue
        _compose(person_id, tokens.DIGEST_MAIL, kept, items, at, report)


def _wants_email(person_id: str, event: str) -> bool:
    chosen = follow_store.choices_of(db.social(), [person_id]).get(person_id, {})
    return levels.EMAIL.name in levels.chosen_channels(chosen, event)


def _drop(items: list[Item], report: Report) -> None:
    with db.transaction() as conn:
        store.settle_items(conn, [i.id for i in items], store.DROPPED)
    report.dropped += len(items)


def _compose(
    person_id: str,
    kind: str,
    groups: list[list[Item]],
    all_items: list[Item],
    at: str,
    report: Report,
) -> None:
    """One outbox row for these conversations; every item given is settled with it."""
    profile = directory.active_profile(db.index(), person_id)
    address = profile and (profile.mail or profile.upn)
    if not address:
        _drop(all_items, report)
        return
    settings = current_app.extensions["plaza.settings"]
    names = directory.display_names(db.index(), {i.actor_id for g in groups for i in g})
    unsubscribe = f"{settings.public_url}/mail/unsubscribe/{tokens.make(person_id, kind)}"
    with force_locale(i18n.saved_locale(person_id) or i18n.DEFAULT):  # the recipient's language
        if kind == tokens.MENTION_MAIL:
            words = compose.mention(groups[0], names, settings.public_url, unsubscribe)
        else:
            words = compose.digest(groups, names, settings.public_url, unsubscribe)
    places = [[g[0].drive_id, g[0].item_id, g[0].room_id] for g in groups]
    mail = Mail(0, compose.message_id(settings.smtp_from), person_id, kind, address, words.subject,
                words.text, words.html, unsubscribe, places, 0, at)  # fmt: skip
    kept = {i.id for g in groups for i in g}
    with db.transaction() as conn:
        outbox_id = store.add_mail(conn, mail, at)
        store.settle_items(conn, sorted(kept), store.TAKEN, outbox_id)
        store.settle_items(conn, sorted({i.id for i in all_items} - kept), store.DROPPED)
        if kind == tokens.DIGEST_MAIL:
            store.digest_composed(conn, person_id, at)
    report.composed += 1
    report.dropped += len(all_items) - len(kept)


# -- sending ------------------------------------------------------------------------------------


def deliver(at: str, transport: Callable[[], object], report: Report) -> None:
    mails = store.pending_mails(db.social(), at, BATCH)
    if not mails:
        return
    smtp = transport()
    try:
        for mail in mails:
            _deliver_one(mail, smtp, at, report)
    finally:
        smtp.close()  # type: ignore[attr-defined]


def _deliver_one(mail: Mail, smtp, at: str, report: Report) -> None:
    if not all(still_open(mail.person_id, place) for place in mail.places):
        with db.transaction() as conn:
            store.set_state(conn, mail.id, store.WITHDRAWN, error="a place can no longer be opened")
            store.requeue_items_of(conn, mail.id)
        report.withdrawn += 1
        return
    with db.transaction() as conn:
        if not store.claim(conn, mail.id, at):
            return
    try:
        smtp.send(_message(mail))
    except NotConnected as error:
        _retry_or_fail(mail, at, str(error), report)
        return
    except Refused as error:
        if error.code >= 500:
            _settle(mail.id, store.FAILED, str(error))
            report.failed += 1
        else:
            _retry_or_fail(mail, at, str(error), report)
        return
    except Exception as error:  # the exchange broke: the server may have the mail
        log.warning("mail %s: uncertain after %s", mail.id, type(error).__name__)
        _settle(mail.id, store.UNCERTAIN, f"{type(error).__name__}: {error}")
        report.uncertain += 1
        return
    with db.transaction() as conn:
        store.set_state(conn, mail.id, store.SENT, sent_at=at)
    report.sent += 1


def _retry_or_fail(mail: Mail, at: str, error: str, report: Report) -> None:
    attempts = mail.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _settle(mail.id, store.FAILED, error)
        report.failed += 1
        return
    later = shifted(at, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))
    with db.transaction() as conn:
        store.set_state(conn, mail.id, store.PENDING, error=error, next_attempt_at=later)
    report.retrying += 1


def _settle(mail_id: int, state: str, error: str) -> None:
    with db.transaction() as conn:
        store.set_state(conn, mail_id, state, error=error)


def _message(mail: Mail) -> EmailMessage:
    settings = current_app.extensions["plaza.settings"]
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(parse_time(mail.created_at))
    message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text_body)
    message.add_alternative(mail.html_body, subtype="html")
    return message
