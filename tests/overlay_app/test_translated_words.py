"""Errors, admin and insights pages and mails in Dutch: API errors follow the request's
language (English, byte for byte as before, when none is asked for), pages follow the browser,
a mail follows its recipient's saved language; and the Dutch catalog of these words is whole."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from tests.overlay_app.api_calls import mention, posted
from tests.overlay_app.app_rows import who
from tests.overlay_app.conftest import sign_in
from tests.overlay_app.test_mail import mail_app, mailbox, run, text_of  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "overlay_app/translations/nl/LC_MESSAGES/messages_more.po"
DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}


def _error(answer) -> tuple[int, bytes]:
    return answer.status_code, answer.get_data()


def test_api_errors_are_english_by_default_and_dutch_when_asked(api, people):
    member = api(people["outsider"])
    cases = (
        ("/api/v1/insights/kpis?days=5", 400, "badRequest",
         "days must be 7, 28 or 90.", "days moet 7, 28 of 90 zijn."),
        ("/api/v1/notifications?limit=0", 400, "badRequest",
         "limit must be a whole number from 1 to 200.",
         "limit moet een geheel getal van 1 tot en met 200 zijn."),
        ("/api/v1/no-such-thing", 404, "notFound", "Not found.", "Niet gevonden."),
    )  # fmt: skip
    for path, status, code, english, dutch in cases:
        assert _error(member.get(path)) == (
            status,
            b'{"error":{"code":"%s","message":"%s"}}\n' % (code.encode(), english.encode()),
        )
        answer = member.get(path, headers=DUTCH)
        assert answer.status_code == status
        assert answer.get_json() == {"error": {"code": code, "message": dutch}}


def test_a_refused_token_is_refused_in_dutch_and_its_header_stays_english(client):
    answer = client.get(
        "/api/v1/notifications", headers={"Authorization": "Bearer not-a-token", **DUTCH}
    )
    assert answer.status_code == 401
    assert answer.get_json() == {
        "error": {"code": "unauthenticated", "message": "Het toegangstoken is niet geldig."}
    }
    assert answer.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="The access token is not valid."'
    )


def test_a_refusal_naming_a_verb_translates_the_verb_too(api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    comment = posted(author, document, "the author's words")
    path = f"/api/v1/comments/{comment['id']}"
    english = reader.call("DELETE", path)
    assert english.get_json()["error"]["message"] == "You can only delete your own comments."
    dutch = reader.call("DELETE", path, headers=DUTCH)
    assert dutch.status_code == 403
    assert dutch.get_json()["error"]["message"] == (
        "Je kunt alleen je eigen opmerkingen verwijderen."
    )


def _browser(app: Flask, upn: str, language: str | None) -> FlaskClient:
    client = app.test_client()
    if language:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert sign_in(client, upn).status_code == 302
    return client


def _h1(page: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)


def test_admin_pages_in_dutch_and_in_english(app, people):
    browser = _browser(app, people["admin"], "nl")
    dutch = browser.get("/admin/jobs").get_data(as_text=True)
    assert _h1(dutch) == "Synchronisatietaken"
    assert "<h2>Een taak toevoegen</h2>" in dutch
    assert '<label for="every">Elke</label>' in dutch
    assert '<button type="submit">Taak toevoegen</button>' in dutch
    assert '<a href="/admin/health">Status</a>' in dutch
    health = browser.get("/admin/health").get_data(as_text=True)
    assert _h1(health) == "Status"
    assert "<li>de planner is niet actief: start `plaza scheduler`</li>" in health
    english_browser = _browser(app, people["admin"], None)
    english = english_browser.get("/admin/jobs").get_data(as_text=True)
    assert _h1(english) == "Sync jobs"
    assert '<button type="submit">Add job</button>' in english
    health = english_browser.get("/admin/health").get_data(as_text=True)
    assert "<li>the scheduler is not running: start `plaza scheduler`</li>" in health


def test_an_insights_page_in_dutch_and_in_english(app, people):
    path = "/insights?scope=all&days=28"
    dutch = _browser(app, people["outsider"], "nl").get(path).get_data(as_text=True)
    assert _h1(dutch) == "Inzichten: Alles wat je kunt openen"
    assert "<h2>Afgelopen 28 dagen vergeleken met de 28 dagen daarvoor</h2>" in dutch
    assert '<th scope="row">Bijdragen per actieve persoon</th>' in dutch
    assert ">28 dagen</a>" in dutch
    english = _browser(app, people["outsider"], None).get(path).get_data(as_text=True)
    assert _h1(english) == "Insights: Everything you can open"
    assert '<th scope="row">Contributions per active person</th>' in english


def test_a_mail_comes_in_its_recipients_saved_language(
    mail_app,  # noqa: F811
    mailbox,  # noqa: F811
    api: Callable,
    people,
    document,
):
    author, reader = api(people["author"], mail_app), api(people["reader"], mail_app)
    chose = reader.put("/api/v1/settings/language", json={"locale": "nl"})
    assert chose.status_code == 200, chose.get_data(as_text=True)
    posted(author, document, f"{mention(who(mail_app, people['reader']))} please check")
    posted(reader, document, f"{mention(who(mail_app, people['author']))} will do")
    assert run(mail_app, minutes=3).sent == 2
    author_name = who(mail_app, people["author"])["displayName"]
    reader_name = who(mail_app, people["reader"])["displayName"]
    [to_reader] = [mail for mail in mailbox.mails if mail["Subject"].startswith(author_name)]
    [to_author] = [mail for mail in mailbox.mails if mail["Subject"].startswith(reader_name)]
    place = "http://localhost/documents/{}/{}".format(*document)
    assert to_reader["Subject"] == f"{author_name} heeft je vermeld in Plaza"
    assert _lines(to_reader) == (
        f"{author_name} heeft je vermeld in een document dat je volgt of waaraan je hebt"
        " bijgedragen.\n\n"
        f"- Openen in Plaza\n  {place}\n\n--\n"
        "Je krijgt deze e-mail omdat iemand je in Plaza heeft vermeld.\n"
        f"Stoppen met e-mails over vermeldingen: {_unsubscribe(to_reader)}\n"
        "Al je instellingen voor meldingen: http://localhost/settings/notifications\n"
    )
    assert to_author["Subject"] == f"{reader_name} mentioned you in Plaza"
    assert _lines(to_author) == (
        f"{reader_name} mentioned you in a document you follow or took part in.\n\n"
        f"- Open it in Plaza\n  {place}\n\n--\n"
        "You get this mail because someone mentioned you in Plaza.\n"
        f"Stop mention mails: {_unsubscribe(to_author)}\n"
        "All your notification settings: http://localhost/settings/notifications\n"
    )
    page = mail_app.test_client().get(_unsubscribe(to_reader).removeprefix("http://localhost"))
    assert '<button type="submit">Stoppen met e-mails over vermeldingen</button>' in (
        page.get_data(as_text=True)
    )


def _lines(mail) -> str:
    return text_of(mail).replace("\r\n", "\n")  # SMTP's line ends


def _unsubscribe(mail) -> str:
    return mail["List-Unsubscribe"].strip("<>")


def test_every_dutch_message_is_translated_with_the_same_places():
    with CATALOG.open("rb") as source:
        catalog = read_po(source)
    assert catalog.locale.language == "nl"
    places = re.compile(r"%\(\w+\)[sd]")
    checked = 0
    for message in catalog:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        dutch = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(text.strip() for text in dutch), message.id
        assert set(places.findall(english[-1])) == set(places.findall(dutch[-1])), message.id
        checked += 1
    assert checked > 300


def test_a_flashed_form_refusal_reads_in_dutch(app, people):
    """A browser form refused with BadInput lands back on its page with the Dutch words."""
    client = _browser(app, people["outsider"], "nl")
    page = client.get("/chat").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post(
        "/chat/direct", data={"with": "", "csrf_token": token}, follow_redirects=True
    )
    assert (
        '<p class="flash error" role="status">Noem ten minste één persoon (het e-mailadres).</p>'
        in answer.get_data(as_text=True)
    )


def test_every_error_message_in_the_code_has_dutch():
    """Extracted as babel.cfg says (the error classes are keywords: `BadInput("...")` marks its
    English), every message is in messages.po or messages_more.po with its Dutch."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    dutch = {}
    for catalog in sorted(CATALOG.parent.glob("messages*.po")):
        with catalog.open("rb") as source:
            dutch |= {m.id: m.string for m in read_po(source) if m.id and m.string}
    found = [
        (path, line, message if isinstance(message, str) else tuple(message))
        for path, line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords={**DEFAULT_KEYWORDS, "N_": None}
        )
    ]
    assert sum(path == "overlay_app/chat/room_actions.py" for path, _, _ in found) >= 20
    assert [(path, line, message) for path, line, message in found if message not in dutch] == []
