"""Per-person limits on the reads that answer from what a person may see: searches (documents
and chat, API and page), people lookups (directory and @mention suggestions) and tag
suggestions. Past a limit the API answers 429 with Retry-After and the usual error body, a page
the error page with the same status and header; a document page just leaves out suggestions."""

from __future__ import annotations

import pytest

from overlay_app.db import open_social_store
from overlay_app.rate_limits import ReadWindows
from overlay_app.settings import OverlaySettings, SettingsError
from tests.overlay_app.api_calls import answer

KEY = "k" * 40


def refused_with(response, what: str) -> None:
    """A 429 for `what`, waiting out the minute that the first counted read opened."""
    assert response.status_code == 429
    retry_after = response.headers["Retry-After"]
    assert retry_after in ("59", "60")
    message = f"Too many {what} at once: try again in {retry_after} s."
    if response.is_json:
        assert response.get_json() == {"error": {"code": "tooManyRequests", "message": message}}
    else:
        assert message in response.get_data(as_text=True)


def test_searches_past_the_limit_get_429_with_retry_after(make_app, api, people):
    app = make_app(searches_per_minute=2)
    reader = api(people["reader"], app)
    assert [reader.get(f"/api/v1/search?q={q}").status_code for q in ("plan", "pla")] == [200, 200]
    refused_with(reader.get("/api/v1/search?q=plans"), "searches")
    refused_with(reader.get("/api/v1/chat/search?q=plans"), "searches")  # one budget for both
    assert reader.get("/api/v1/search?q=").status_code == 200  # nothing searched, not counted
    assert api(people["author"], app).get("/api/v1/search?q=plan").status_code == 200


def test_chat_searches_count_too(make_app, api, people):
    app = make_app(searches_per_minute=1)
    reader = api(people["reader"], app)
    assert answer(reader.get("/api/v1/chat/search?q=plan")) == {"messages": []}
    refused_with(reader.get("/api/v1/search?q=plan"), "searches")


def test_the_search_page_past_the_limit_is_the_error_page(make_app, sign_in, people):
    app = make_app(searches_per_minute=1)
    client = app.test_client()
    sign_in(client, people["reader"])
    assert client.get("/search?q=plan").status_code == 200
    assert client.get("/search").status_code == 200  # the empty form searches nothing
    refused_with(client.get("/search?q=plan"), "searches")


def test_people_lookups_past_the_limit_get_429(make_app, api, sign_in, people, document):
    app = make_app(people_lookups_per_minute=2)
    reader = api(people["reader"], app)
    suggest = "/api/v1/mentions/suggest?drive_id={}&item_id={}&q=a".format(*document)
    assert reader.get("/api/v1/people?q=a").status_code == 200
    assert reader.get(suggest).status_code == 200
    refused_with(reader.get(suggest), "people lookups")
    refused_with(reader.get("/api/v1/people"), "people lookups")
    client = app.test_client()
    sign_in(client, people["author"])
    assert [client.get("/people").status_code for _ in range(2)] == [200, 200]
    refused_with(client.get("/people?q=a"), "people lookups")


def test_tag_suggestions_past_the_limit(make_app, api, sign_in, people, document, plaza_env):
    app = make_app(tag_suggestions_per_minute=2, writes_per_minute=10_000)
    author = api(people["author"], app)
    answer(
        author.post("/api/v1/documents/{}/{}/tags".format(*document), json={"tag": "zebra"}), 201
    )
    tenant = plaza_env.tenant
    reader = tenant.user(people["reader"]).id
    other = next(
        key
        for key in sorted(tenant.visible_items(reader))
        if key != document and not tenant.item(*key).folder and not tenant.item(*key).is_root
    )
    client = app.test_client()
    sign_in(client, people["reader"])
    page = "/documents/{}/{}".format(*other)
    assert '<option value="zebra">' in client.get(page).get_data(as_text=True)
    tags_api = "/api/v1/documents/{}/{}/tags".format(*other)
    assert answer(api(client).get(tags_api))["suggestions"] == ["zebra"]
    shown = client.get(page)
    assert shown.status_code == 200  # the page itself is never refused ...
    assert '<option value="zebra">' not in shown.get_data(as_text=True)  # ... only suggestions
    refused_with(api(client).get(tags_api), "tag suggestions")


def minimal_env(tmp_path, **more: str) -> dict[str, str]:
    return {
        "PLAZA_DATA_DIR": str(tmp_path),
        "PLAZA_SECRET_KEY": KEY,
        "PLAZA_TENANT_ID": "t1",
        "PLAZA_CLIENT_ID": "cid",
        "PLAZA_CLIENT_SECRET": "s",
        **more,
    }


def test_read_limits_come_from_settings(tmp_path):
    defaults = OverlaySettings.from_env(minimal_env(tmp_path))
    limits = ("searches_per_minute", "people_lookups_per_minute", "tag_suggestions_per_minute")
    assert tuple(getattr(defaults, name) for name in limits) == (60, 120, 60)
    names = {f"PLAZA_{name.upper()}": str(n) for n, name in enumerate(limits, 5)}
    chosen = OverlaySettings.from_env(minimal_env(tmp_path, **names))
    assert tuple(getattr(chosen, name) for name in limits) == (5, 6, 7)
    wrong = {"PLAZA_SEARCHES_PER_MINUTE": "0", "PLAZA_TAG_SUGGESTIONS_PER_MINUTE": "many"}
    with pytest.raises(SettingsError) as refused:
        OverlaySettings.from_env(minimal_env(tmp_path, **wrong))
    assert refused.value.problems == [
        "PLAZA_TAG_SUGGESTIONS_PER_MINUTE must be a whole number from 1 to 10000, got 'many'",
        "PLAZA_SEARCHES_PER_MINUTE must be a whole number from 1 to 10000",
    ]


def test_reads_are_counted_in_memory_and_leave_no_row(make_app, api, people):
    """A read must not queue behind the store's one writer: a search writes nothing."""
    app = make_app(searches_per_minute=5)
    reader = api(people["reader"], app)
    assert reader.get("/api/v1/search?q=plan").status_code == 200
    settings = app.extensions["plaza.settings"]
    store = open_social_store(settings.data_dir, settings.database_url)  # either engine
    try:
        assert store.execute("SELECT count(*) FROM rate_events").fetchone() == (0,)
    finally:
        store.close()


def test_a_read_window_refuses_past_its_limit_until_the_oldest_read_is_a_minute_old():
    now = [100.0]
    windows = ReadWindows(clock=lambda: now[0])
    assert [windows.count(("ann", "search"), 2) for _ in range(2)] == [None, None]
    now[0] = 130.25
    assert windows.count(("ann", "search"), 2) == 30  # the first read leaves at 160: 29.75 s
    assert windows.count(("bob", "search"), 2) is None  # per person
    assert windows.count(("ann", "people"), 2) is None  # and per kind
    now[0] = 160.0
    assert windows.count(("ann", "search"), 2) is None
