"""Languages (issue 19): the person's choice, else the browser's, else English; pages, times
and numbers in that language."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

NL = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
NOW = datetime(2026, 3, 12, 15, 0, 30, tzinfo=UTC)
LANG = re.compile(r'<html lang="([a-z]+)">')


def lang_of(response) -> str:
    found = LANG.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:300]
    return found.group(1)


@pytest.fixture
def author_client(client, sign_in, people):
    sign_in(client, people["author"])
    return client


def test_english_without_a_preference(author_client) -> None:
    page = author_client.get("/settings/notifications")
    assert page.status_code == 200
    assert lang_of(page) == "en"


def test_the_browser_language_decides_without_a_choice(author_client) -> None:
    assert lang_of(author_client.get("/settings/notifications", headers=NL)) == "nl"
    flemish = {"Accept-Language": "nl-BE"}
    assert lang_of(author_client.get("/settings/notifications", headers=flemish)) == "nl"
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    assert lang_of(author_client.get("/settings/notifications", headers=german)) == "en"


def test_the_settings_switch_wins_over_the_browser(author_client, api, csrf_token) -> None:
    token = csrf_token(author_client)
    saved = author_client.post(
        "/settings/language", data={"locale": "en", "csrf_token": token}, headers=NL
    )
    assert saved.status_code == 303
    assert saved.headers["Location"] == "/settings/notifications?saved=1"
    assert lang_of(author_client.get("/settings/notifications", headers=NL)) == "en"
    author_client.post("/settings/language", data={"locale": "nl", "csrf_token": token})
    assert lang_of(author_client.get("/settings/notifications")) == "nl"
    author_client.post("/settings/language", data={"locale": "browser", "csrf_token": token})
    assert lang_of(author_client.get("/settings/notifications")) == "en"


def test_the_language_api(api, people) -> None:
    caller = api(people["reader"])
    assert caller.get("/api/v1/settings/language").get_json() == {
        "locale": None,
        "effective": "en",
    }
    answer = caller.put("/api/v1/settings/language", json={"locale": "nl"})
    assert answer.get_json() == {"locale": "nl", "effective": "nl"}
    english_browser = {"Accept-Language": "en"}
    assert caller.get("/api/v1/settings/language", headers=english_browser).get_json() == {
        "locale": "nl",
        "effective": "nl",
    }
    wrong = caller.put("/api/v1/settings/language", json={"locale": "de"})
    assert wrong.status_code == 400
    assert wrong.get_json()["error"] == {
        "code": "badRequest",
        "message": '"locale" is "en", "nl" of null (de taal van de browser).',
    }  # in the language the caller chose
    assert caller.put("/api/v1/settings/language", json={"locale": None}).get_json() == {
        "locale": None,
        "effective": "en",
    }


def test_locale_of_is_what_mail_reads(app, api, people) -> None:
    from overlay_app import db
    from overlay_app.i18n.store import locale_of

    api(people["author"]).put("/api/v1/settings/language", json={"locale": "nl"})
    with app.app_context():  # the social store of either engine
        conn = db.social()
        (person_id,) = conn.execute("SELECT person_id FROM person_locales").fetchone()
        assert locale_of(conn, person_id) == "nl"
        assert locale_of(conn, "someone-else") is None


def test_dutch_pages_say_it_in_dutch(author_client) -> None:
    settings = author_client.get("/settings/notifications", headers=NL).get_data(as_text=True)
    assert "<title>Instellingen voor meldingen · Plaza</title>" in settings
    assert '<a href="/feed">Voor jou</a>' in settings
    assert '<th scope="row">Iemand noemt je</th>' in settings
    assert '<option value="daily" selected>dagelijks</option>' in settings
    assert "De taal van mijn browser" in settings
    home = author_client.get("/", headers=NL).get_data(as_text=True)
    assert '<h2 id="recent-title">Recente discussies</h2>' in home
    search = author_client.get("/search?q=zzzqqq", headers=NL).get_data(as_text=True)
    assert "Geen resultaten voor <strong>zzzqqq</strong>." in search
    missing = author_client.get("/documents/nope/nope", headers=NL)
    assert missing.status_code == 404
    assert "<h1>Niet gevonden</h1>" in missing.get_data(as_text=True)


def test_english_pages_are_unchanged(author_client) -> None:
    settings = author_client.get("/settings/notifications").get_data(as_text=True)
    assert "<title>Notification settings · Plaza</title>" in settings
    assert '<th scope="row">Someone mentions you</th>' in settings
    search = author_client.get("/search?q=zzzqqq").get_data(as_text=True)
    assert "No results for <strong>zzzqqq</strong>." in search


@pytest.mark.parametrize(
    ("stamp", "phrase"),
    [
        ("2026-03-12T15:00:00Z", "zojuist"),
        ("2026-03-12T14:59:00Z", "1 minuut geleden"),
        ("2026-03-12T14:55:00Z", "5 minuten geleden"),
        ("2026-03-12T12:00:00+00:00", "3 uur geleden"),
        ("2026-03-11T09:00:00Z", "gisteren"),
        ("2026-03-08T15:00:00Z", "4 dagen geleden"),
        ("2026-03-01T08:00:00Z", "1 mrt 2026"),
    ],
)
def test_times_in_dutch(app, stamp: str, phrase: str) -> None:
    from overlay_app.times import relative_time

    with app.test_request_context(headers=NL):
        assert relative_time(stamp, NOW) == phrase


def test_the_time_element_in_dutch(app) -> None:
    from overlay_app.times import time_tag

    with app.test_request_context(headers=NL):
        assert str(time_tag("2025-11-22T17:58:00+01:00", NOW)) == (
            '<time datetime="2025-11-22T17:58:00+01:00" title="22 nov 2025, 16:58 UTC"'
            " data-relative>22 nov 2025</time>"
        )
    with app.test_request_context():
        assert str(time_tag("2025-11-22T17:58:00+01:00", NOW)).endswith(
            'title="22 Nov 2025, 16:58 UTC" data-relative>22 Nov 2025</time>'
        )


def test_numbers_in_dutch(app) -> None:
    from flask import render_template_string

    template = (
        "{% trans count=n, n=n|numberformat %}{{ n }} result"
        "{% pluralize %}{{ n }} results{% endtrans %}"
    )
    with app.test_request_context(headers=NL):
        assert render_template_string(template, n=12345) == "12.345 resultaten"
        assert render_template_string(template, n=1) == "1 resultaat"
    with app.test_request_context():
        assert render_template_string(template, n=12345) == "12,345 results"


def test_an_embedded_tab_follows_the_browser_and_carries_the_scripts_words(client) -> None:
    """Embedded pages are shells that nobody is signed in to: Accept-Language decides, and
    embedded.js finds its words in the JSON block base.html renders."""
    page = client.get("/teams/tab/home", headers=NL)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert lang_of(page) == "nl"
    assert '<p id="embedded-status" role="status">Je wordt aangemeld…</p>' in text
    found = re.search(r'<script type="application/json" id="plaza-messages">(.*?)</script>', text)
    assert found is not None
    words = json.loads(found.group(1))
    assert words["Not found."] == "Niet gevonden."
    assert words["{n} comment"] == ["{n} opmerking", "{n} opmerkingen"]
    english = client.get("/teams/tab/home").get_data(as_text=True)
    assert 'id="plaza-messages"' not in english
    assert '<p id="embedded-status" role="status">Signing you in…</p>' in english
