"""Languages (issue 19): the person's choice, else the browser's, else English; pages, times
and numbers in that language."""

from __future__ import annotations

import re

import pytest

NL = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
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
    from overlay_app.i18n.store import locale_of
    from sync import db as index_db

    api(people["author"]).put("/api/v1/settings/language", json={"locale": "nl"})
    conn = index_db.connect(app.extensions["plaza.settings"].social_path)
    (person_id,) = conn.execute("SELECT person_id FROM person_locales").fetchone()
    assert locale_of(conn, person_id) == "nl"
    assert locale_of(conn, "someone-else") is None
